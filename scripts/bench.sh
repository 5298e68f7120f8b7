#!/usr/bin/env bash
# `make bench`: Lethe side by side with the script a user would write (Python) and with DuckDB, on
# generated CSVs of BENCH_ROWS rows (default 100,000 and 1,000,000), in a release build; then REST calls
# per deleted record and webhook-triggered syncs against the fake CRMs. None of this runs in `make test`.
# Micro-benchmarks of the hot paths: `cd Benchmarks && swift package benchmark` (a package of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${BENCH_ROWS:-100000,1000000}"

swift build -c release --product lethe >/dev/null
LETHE="$(swift build -c release --product lethe --show-bin-path)/lethe"
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb >&2

# Beside a throwaway PostgreSQL with its durable defaults, for the lines with the state in PostgreSQL
# (without a server they are left out, and the reason is printed).
LETHE_TEST_POSTGRES_DURABLE=1 bash scripts/test-postgres.sh \
    python3 scripts/bench/run.py "$LETHE" --rows "$ROWS" --runs "${BENCH_RUNS:-3}" --markdown .lethe/bench/table.md

# REST connectors: HTTP calls per deleted record against the fake CRMs (client budgets of the shipped
# manifests apply, so the wall time is mostly the providers' rate limits).
python3 scripts/bench-rest.py "$LETHE" "${BENCH_REST_RECORDS:-2000}"

# Webhook-triggered syncs: `lethe run` against the fake HubSpot, signed deliveries, time until processed;
# then the same load on a fresh daemon while 100 clients scrape /metrics: acknowledgement latency without
# and with them, scrapes per second, answers other than 200 (also in .lethe/bench/webhooks.md).
python3 scripts/bench-webhooks.py "$LETHE" "${BENCH_WEBHOOK_CONTACTS:-2000}" "${BENCH_WEBHOOK_EVENTS:-2000}"
