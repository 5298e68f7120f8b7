#!/usr/bin/env bash
# `make demo`: the main job on the embedded default (SQLite, example CSV, file outbox, file archive),
# on a fresh copy of the example data in a fresh state folder, with a fixed --as-of: repeatable.
set -euo pipefail

cd "$(dirname "$0")/.."
AS_OF="${DEMO_AS_OF:-2026-11-29T09:00:00+09:00}"
STATE=".lethe/demo"

swift build --product lethe 2>&1 | grep -Ev '^(\[[0-9]+/[0-9]+\]|Building|Compiling|Write|Emitting|Linking|Planning|Fetching|Computing|Creating|Working copy|Cloning|Resolving)' || true
LETHE="$(swift build --product lethe --show-bin-path)/lethe"
[ -x "$LETHE" ] || { echo "error: the build failed" >&2; exit 1; }

rm -rf "$STATE"
mkdir -p "$STATE"
cp config/examples/contacts.csv "$STATE/contacts.csv"
export LETHE_STATE_DIR="$STATE"
unset LETHE_CSV_PATH LETHE_ARCHIVE_KEY || true

json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1]).get(sys.argv[1]) or "")' "$1"; }

echo "== lethe sync --as-of $AS_OF  (state: $STATE, data: a fresh copy of config/examples/contacts.csv)"
set +e
"$LETHE" sync --as-of "$AS_OF"
status=$?
set -e
if [ "$status" -eq 3 ]; then
    batch="$("$LETHE" sync --as-of "$AS_OF" --json 2>/dev/null | json_field approvalBatch || true)"
    echo
    echo "== the deletes exceed the safety limit: approving batch $batch as operator 'demo'"
    "$LETHE" approve "$batch" --by demo --as-of "$AS_OF"
    echo
    echo "== lethe sync --as-of $AS_OF  (executes exactly the approved deletes)"
    "$LETHE" sync --as-of "$AS_OF"
elif [ "$status" -ne 0 ]; then
    echo "error: sync exited $status" >&2
    exit "$status"
fi

echo
echo "== lethe sync --as-of $AS_OF  (again: nothing left to do)"
"$LETHE" sync --as-of "$AS_OF"

echo
echo "== lethe status"
"$LETHE" status --as-of "$AS_OF"
echo
echo "== lethe audit verify"
"$LETHE" audit verify
"$LETHE" audit export --format csv --output "$STATE/destruction-register.csv" 2>/dev/null

notices=$(find "$STATE/outbox" -name '*.eml' 2>/dev/null | wc -l)
rows_before=$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))) - 1)' config/examples/contacts.csv)
rows_after=$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline="", encoding="utf-8-sig"))) - 1)' "$STATE/contacts.csv")
register_rows=$(($(wc -l < "$STATE/destruction-register.csv") - 1))
cat <<TXT

== summary (as of $AS_OF)
  contacts:             $rows_before rows before, $rows_after after  ($STATE/contacts.csv)
  notices (outbox):     $notices .eml files in $STATE/outbox/
  archive:              $STATE/archive/ (used by archive-then-delete policies)
  destruction register: $register_rows rows in $STATE/destruction-register.csv (UTF-8 with BOM, opens in Excel)
  state and audit log:  $STATE/lethe.sqlite  — inspect with: LETHE_STATE_DIR=$STATE $LETHE status
TXT
