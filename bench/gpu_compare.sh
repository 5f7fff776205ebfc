#!/usr/bin/env bash
# Side-by-side GPU timings of several `dnls` binaries (variants of a kernel) in one call: the
# binaries take turns, round after round, on the same card, so that run-to-run spread shows next
# to the differences. Optionally the first binary's GPU selftest first, and torch's unfold/fold on
# the same configurations after each round.
#
#   bash bench/gpu_compare.sh [--selftest quick|full] [--seed N] [--torch] [--rounds N]
#        [--config S1,S2,S3,S4] [--ops search-fwd] [--flow none|zero|smooth|random] [--out DIR] [--pack] BINARY...
#
# A BINARY may be xz-compressed (name ending in .xz: a static `swift build -c release
# --static-swift-stdlib` binary, stripped and compressed, is about 4.5 MB). Logs go to --out
# (default $OUT when set, else ./gpu-compare); the last lines printed are one per round and
# binary: "round binary: config op median-ms …". With --pack the logs end up in one logs.tgz
# beside summary.txt (for when only a few files can be copied back from the GPU machine).
set -euo pipefail

selftest="" seed=1 torch=0 rounds=2 configs="S1,S2,S3,S4" ops="search-fwd" flow="none" out="${OUT:-gpu-compare}" pack=0
binaries=()
while [ $# -gt 0 ]; do
    case "$1" in
        --selftest) selftest="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --torch) torch=1; shift ;;
        --rounds) rounds="$2"; shift 2 ;;
        --config) configs="$2"; shift 2 ;;
        --ops) ops="$2"; shift 2 ;;
        --flow) flow="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --pack) pack=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        -*) echo "gpu_compare.sh: unknown option $1" >&2; exit 2 ;;
        *) binaries+=("$1"); shift ;;
    esac
done
[ ${#binaries[@]} -gt 0 ] || { echo "gpu_compare.sh: name at least one dnls binary" >&2; exit 2; }
mkdir -p "$out"
here="$(cd "$(dirname "$0")" && pwd)"
start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - start )) s] $*"; }

# Unpack each binary to a temporary folder under a short name (the file name without .xz).
work=$(mktemp -d)
names=()
for b in "${binaries[@]}"; do
    name=$(basename "$b" .xz)
    if [[ "$b" == *.xz ]]; then xz -dc "$b" > "$work/$name"; else cp "$b" "$work/$name"; fi
    chmod +x "$work/$name"
    names+=("$name")
done
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader || true

if [ -n "$selftest" ]; then
    stamp "selftest ($selftest, seed $seed) of ${names[0]}"
    "$work/${names[0]}" selftest --device cuda --scale "$selftest" --seed "$seed" > "$out/selftest-${names[0]}.txt" 2>&1 || true
    tail -1 "$out/selftest-${names[0]}.txt"
    grep FAIL -A5 "$out/selftest-${names[0]}.txt" | head -20 || true
fi

summary="$out/summary.txt"
# Binaries older than `dnls bench --flow` run without the option (no flow).
flowOption=()
[ "$flow" = none ] || flowOption=(--flow "$flow")
: > "$summary"
for r in $(seq 1 "$rounds"); do
    for name in "${names[@]}"; do
        log="$out/bench-$name-$flow-r$r.txt"
        "$work/$name" bench --device cuda --config "$configs" --ops "$ops" ${flowOption[@]+"${flowOption[@]}"} --max-seconds 1.5 > "$log" 2>&1 || true
        line=$(grep -oE '(S[0-9]+|S512|HD8|UHD1|C64|custom) \[[0-9]+/[0-9]+\] [a-z-]+ cuda: median [0-9.]+' "$log" \
               | awk '{printf "%s %s %s  ", $1, $3, $6}' || true)
        echo "r$r $name: $line" | tee -a "$summary"
    done
    if [ "$torch" = 1 ]; then
        log="$out/torch-r$r.txt"
        python3 "$here/torch_baselines.py" --config "$configs" --ops unfold,fold --max-seconds 2 > "$log" 2>&1 || true
        echo "r$r torch: $(grep -E '^(unfold|fold) ' "$log" | awk '{printf "%s %s %s  ", $2, $1, $7}' || true)" | tee -a "$summary"
    fi
done
stamp done
rm -rf "$work"
if [ "$pack" = 1 ]; then
    logs=$(cd "$out" && ls bench-*.txt torch-*.txt selftest-*.txt 2>/dev/null || true)
    if [ -n "$logs" ]; then
        (cd "$out" && tar -czf logs.tgz $logs && rm -f $logs)
        echo "logs packed in $out/logs.tgz"
    fi
fi
