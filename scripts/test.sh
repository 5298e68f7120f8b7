#!/usr/bin/env bash
# `make test`: the whole suite. The REST tests start their own fake CRMs (Tests/FakeCRMs, stdlib Python); the
# PostgreSQL store's tests a throwaway PostgreSQL server (scripts/test-postgres.sh), skipped with the reason when
# none can be started.
set -euo pipefail
cd "$(dirname "$0")/.."
export LETHE_TEST_ROOT="$PWD"
bash scripts/ensure-smtpd.sh
# `lethe report --format pdf` renders through Debian's weasyprint; with a Korean font its test renders for
# real (without them it is skipped, with the install command).
if ! command -v weasyprint >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq weasyprint fonts-noto-cjk >&2 \
        || { apt-get update -qq >&2 && apt-get install -y -qq weasyprint fonts-noto-cjk >&2; } \
        || echo "test: weasyprint could not be installed; the PDF report test is skipped" >&2
fi
python3 -m unittest Tests/FakeCRMs/test_fakecrm.py
rm -rf Tests/FakeCRMs/__pycache__
swift build --build-tests
bash scripts/test-postgres.sh swift test --skip-build
# The dashboard in headless Chromium (installed when missing and run as root; without one, a SKIP line with
# the install command): every page, the four-eyes approval, a hold lifted, screenshots in .lethe/browser-test/.
python3 scripts/browser-test.py
