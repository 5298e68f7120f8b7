#!/usr/bin/env bash
# `make test`: the whole suite. Starts what the tests need (nothing external yet).
set -euo pipefail
cd "$(dirname "$0")/.."
export LETHE_TEST_ROOT="$PWD"
swift build --build-tests
swift test --skip-build
