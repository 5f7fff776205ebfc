#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for <seconds>
# (default 60), seeded with corpus/<target>/ and dict/<target>.dict. Exits non-zero when a target
# crashes, traps, leaks, runs out of memory or hangs on an input; the input is saved under
# .fuzz-work/artifacts/ (turn it into a regression test, see README.md).
#
#   Fuzz/run.sh 60            # both targets, a minute each
#   Fuzz/run.sh 300 FuzzNPY   # one target
#
# New inputs libFuzzer finds go to .fuzz-work/corpus/<target>/, not to the committed seeds.
set -uo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FuzzNPY FuzzImage)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
work="$here/.fuzz-work"
mkdir -p "$work/artifacts"

# --sanitize gives clang and the linker their flags, but swiftc keeps only the last -sanitize=,
# so Swift gets both again in one flag. Dead stripping (gold's --gc-sections) would drop the
# coverage counters, leaving libFuzzer blind. Both products share one release build of the root.
flags=(-c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address --disable-dead-strip)
for target in "${targets[@]}"; do
    swift build "${flags[@]}" --product "$target" 2>&1 | grep -v "Cannot export local symbol"  # gold's noise about ASan
    [ "${PIPESTATUS[0]}" -eq 0 ] || exit 2
done
bin="$(swift build "${flags[@]}" --show-bin-path)"

declare -A max_len=([FuzzNPY]=4096 [FuzzImage]=16384)
status=0
for target in "${targets[@]}"; do
    mkdir -p "$work/corpus/$target"
    log="$work/$target.log"
    echo "== $target for ${seconds}s (log: $log)"
    "$bin/$target" "$work/corpus/$target" "corpus/$target" \
        -dict="dict/$target.dict" \
        -max_total_time="$seconds" \
        -max_len="${max_len[$target]:-8192}" \
        -timeout=10 \
        -rss_limit_mb=3072 \
        -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$target-" \
        >"$log" 2>&1
    code=$?
    grep -E "^#[0-9]+.*(DONE|pulse)|^Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tail -4
    if [ $code -ne 0 ]; then
        echo "!! $target failed (exit $code); the input is in $work/artifacts/:"
        grep -E "ERROR|SUMMARY|Fatal error|Test unit written" "$log" | head -10
        status=1
    fi
done
exit $status
