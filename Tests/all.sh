#!/usr/bin/env bash
# The whole test suite: the Swift tests (`swift test`, in a debug and then a release build), then
# the Python package's tests against
# the wheel that `pip install .` builds, in a virtual environment with torch from PyPI (CPU; the
# first run downloads about 3 GB, later runs use pip's cache). GPU cases skip, saying why, when
# there is no GPU. Set DNLS_TEST_VENV to use another environment folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

swift test
# Release too: differentiated code has compiled in debug and crashed the compiler in release.
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release --skip-build -Xswiftc -enable-testing

venv=${DNLS_TEST_VENV:-$root/.venv-test}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check "torch>=2.4" numpy pytest hatchling
# Build and install the package as a user would (the build hook compiles libDNLSC.so).
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall "$root"
# Run from outside the source tree so the installed package, not python/dnls, is what is tested.
cd /tmp
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests"
