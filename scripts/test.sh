#!/usr/bin/env bash
# `make test`: the whole suite. The REST tests start their own fake CRMs (Tests/FakeCRMs, stdlib Python); the
# PostgreSQL store's tests a throwaway PostgreSQL server (scripts/test-postgres.sh), skipped with the reason when
# none can be started.
set -euo pipefail
cd "$(dirname "$0")/.."
export LETHE_TEST_ROOT="$PWD"
bash scripts/ensure-smtpd.sh
python3 -m unittest Tests/FakeCRMs/test_fakecrm.py
rm -rf Tests/FakeCRMs/__pycache__
swift build --build-tests
bash scripts/test-postgres.sh swift test --skip-build
