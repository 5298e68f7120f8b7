#!/usr/bin/env bash
# `make test`: the whole suite. The REST tests start their own fake CRMs (Tests/FakeCRMs, stdlib Python).
set -euo pipefail
cd "$(dirname "$0")/.."
export LETHE_TEST_ROOT="$PWD"
bash scripts/ensure-smtpd.sh
python3 -m unittest Tests/FakeCRMs/test_fakecrm.py
rm -rf Tests/FakeCRMs/__pycache__
swift build --build-tests
swift test --skip-build
