#!/usr/bin/env python3
"""The retention script a user would write by hand: csv + datetime + sqlite3, stdlib only.

    python3 scripts/bench/peer_python.py CONTACTS.csv STATE.sqlite 2026-11-29T09:00:00+09:00

Streams the CSV, reads each row by the kr-pipa rules (config/policies/kr-pipa.yaml: payment 5y,
dispute 3y, marketing 2y from the later of created_at and consent_extended_at; at marketing expiry
erase interests and consent while another purpose keeps the record; notice 30 days before it to
consenting people with an email), upserts one state row per record (id, created, expiry, state) in one
transaction, then lists what is due now. The date forms and the rules are those of the oracle in
scripts/generate-contacts.py. Prints one JSON line:
{"delete": D, "erase-fields": E, "notify": N, "quarantined": Q}
"""

import calendar
import csv
import json
import re
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

SEOUL = timezone(timedelta(hours=9))  # no daylight saving time since 1988
PERIOD_YEARS = {"payment": 5, "dispute": 3, "marketing": 2}
NOTICE_LEAD = timedelta(days=30)
ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"
                 r"(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:?[0-9]{2})\Z")
LOCAL_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?\Z")
LOCAL_DAY = re.compile(r"([0-9]{4})([-./])([0-9]{2})\2([0-9]{2})\Z")


def parse_date(text):
    """An aware datetime for the accepted forms (zone-less ones are Seoul time), else None."""
    zone, fraction = SEOUL, 0
    m = ISO.match(text)
    if m:
        y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
        s = int(m.group(6) or 0)
        if m.group(7):
            fraction = int(m.group(7).ljust(6, "0")[:6])
        z = m.group(8)
        if z == "Z":
            zone = timezone.utc
        else:
            oh, om = int(z[1:3]), int(z[-2:])
            if oh >= 24 or om >= 60:
                return None
            zone = timezone((1 if z[0] == "+" else -1) * timedelta(hours=oh, minutes=om))
    elif (m := LOCAL_TIME.match(text)):
        y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
        s = int(m.group(6) or 0)
    elif (m := LOCAL_DAY.match(text)):
        y, mo, d, h, mi, s = int(m.group(1)), int(m.group(3)), int(m.group(4)), 0, 0, 0
    else:
        return None
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60 and s < 60):
        return None
    return datetime(y, mo, d, h, mi, s, fraction, tzinfo=zone)


def add_years(instant, years):
    """Calendar years in Seoul; Feb 29 + 1y = Feb 28."""
    local = instant.astimezone(SEOUL)
    year = local.year + years
    return local.replace(year=year, day=min(local.day, calendar.monthrange(year, local.month)[1]))


def consent(text):
    text = text.strip().lower()
    return False if text in ("", "n", "no", "false", "0") else True if text in ("y", "yes", "true", "1") else None


def evaluate(row, col, now):
    """(state, created, expiry) of one well-formed row as of `now`."""
    created_text = row[col["created_at"]].strip()
    created = parse_date(created_text) if created_text else None
    if created is None or created > now:
        return "quarantined", None, None
    marketing_basis = created
    extended_text = row[col["consent_extended_at"]].strip()
    if extended_text:
        extended = parse_date(extended_text)
        if extended is None:
            return "quarantined", created, None
        marketing_basis = max(created, extended)
    purposes = {p.strip() for p in row[col["purpose"]].split(";")} - {""}
    if not purposes or not purposes <= PERIOD_YEARS.keys():
        return "quarantined", created, None
    expiries = {p: add_years(marketing_basis if p == "marketing" else created, PERIOD_YEARS[p]) for p in purposes}
    final = max(expiries.values())
    if final <= now:
        return "delete", created, final
    if "marketing" in purposes:
        expiry = expiries["marketing"]
        if expiry <= now:  # erase interests and consent unless already erased
            erased = not row[col["interests"]].strip() and consent(row[col["marketing_consent"]]) is False
            return ("kept" if erased else "erase-fields"), created, expiry
        if expiry <= now + NOTICE_LEAD and row[col["email"]].strip() and consent(row[col["marketing_consent"]]):
            return "notify", created, expiry
    return "kept", created, final


def main():
    csv_path, db_path, as_of = sys.argv[1:4]
    now = parse_date(as_of)
    db = sqlite3.connect(db_path)
    db.execute("""CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, line INTEGER, created TEXT,
                  expiry TEXT, state TEXT, occurrences INTEGER, run INTEGER)""")
    run = db.execute("SELECT coalesce(max(run), 0) + 1 FROM records").fetchone()[0]
    # A second row with the same id in this run quarantines the id (every occurrence counts).
    upsert = """INSERT INTO records VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT(key) DO UPDATE SET
                  occurrences = CASE WHEN run = excluded.run THEN occurrences + 1 ELSE 1 END,
                  state = CASE WHEN run = excluded.run THEN 'quarantined' ELSE excluded.state END,
                  line = excluded.line, created = excluded.created, expiry = excluded.expiry, run = excluded.run"""

    def rows():
        with open(csv_path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            col = {name.strip(): i for i, name in enumerate(header)}
            line = reader.line_num + 1
            for row in reader:
                start, line = line, reader.line_num + 1
                if not row or row == [""]:
                    continue  # blank line
                rid = row[col["id"]].strip() if len(row) > col["id"] else ""
                if len(row) != len(header):  # wrong column count: quarantined, its id still counts
                    state, created, expiry = "quarantined", None, None
                elif not rid:
                    state, created, expiry = "quarantined", None, None
                else:
                    state, created, expiry = evaluate(row, col, now)
                yield (rid or f" line {start}", start, created and created.isoformat(),
                       expiry and expiry.isoformat(), state, run)

    with db:  # one transaction
        db.executemany(upsert, rows())
    counts = dict(db.execute("SELECT state, sum(occurrences) FROM records WHERE run = ? AND state != 'kept' "
                             "GROUP BY state", (run,)).fetchall())
    print(json.dumps({k: counts.get(k, 0) for k in ("delete", "erase-fields", "notify", "quarantined")}))


if __name__ == "__main__":
    main()
