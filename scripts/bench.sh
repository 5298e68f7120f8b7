#!/usr/bin/env bash
# `make bench`: time a full sync of a large generated CSV (default 200,000 rows; BENCH_ROWS to change)
# in a release build: first sync (ingest + evaluate + erasures/deletes in one rewrite) and a second,
# idempotent sync. Prints wall time and peak memory of each.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${BENCH_ROWS:-200000}"
STATE=".lethe/bench"
AS_OF="2026-11-29T09:00:00+09:00"

swift build -c release --product lethe >/dev/null
LETHE="$(swift build -c release --product lethe --show-bin-path)/lethe"
rm -rf "$STATE" && mkdir -p "$STATE"
python3 - "$ROWS" "$STATE/contacts.csv" <<'PY'
import random, sys
rows, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
purposes = ["payment", "dispute", "marketing", "payment;marketing", "dispute;marketing", "payment;dispute;marketing"]
with open(path, "w", encoding="utf-8", newline="") as out:
    out.write("id,name,email,phone,created_at,purpose,marketing_consent,interests,consent_extended_at\n")
    for i in range(rows):
        y, m, d = rng.randint(2018, 2026), rng.randint(1, 12), rng.randint(1, 28)
        if y == 2026 and m > 10: m = 10
        out.write(f"B{i:08d},고객{i},user{i}@example.com,010-0000-{i % 10000:04d},{y}-{m:02d}-{d:02d} 10:00:00,"
                  f"{rng.choice(purposes)},{rng.choice('YN')},\"golf, wine\",\n")
PY
export LETHE_STATE_DIR="$STATE" LETHE_MAX_DELETES_PER_RUN=100000000 LETHE_MAX_DELETE_FRACTION=1
for pass in first second; do
    /usr/bin/time -f "$pass sync: %e s wall (%U s user, %S s sys), %M KiB peak memory" "$LETHE" sync --as-of "$AS_OF" --json >"$STATE/$pass.json" || true
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print("   ", {k: d[k] for k in ("pulled","quarantined","noticesSent","fieldsErased","deleted","failed")})' "$STATE/$pass.json"
done

# REST connectors: HTTP calls per deleted record against the fake CRMs (client budgets of the shipped
# manifests apply, so the wall time is mostly the providers' rate limits).
python3 scripts/bench-rest.py "$LETHE" "${BENCH_REST_RECORDS:-2000}"

# Webhook-triggered syncs: `lethe run` against the fake HubSpot, signed deliveries, time until processed.
python3 scripts/bench-webhooks.py "$LETHE" "${BENCH_WEBHOOK_CONTACTS:-2000}" "${BENCH_WEBHOOK_EVENTS:-2000}"
