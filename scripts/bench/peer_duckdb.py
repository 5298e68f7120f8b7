#!/usr/bin/env python3
"""The kr-pipa due counts of a contacts CSV computed in DuckDB SQL (installs `duckdb` from PyPI if missing).

    python3 scripts/bench/peer_duckdb.py CONTACTS.csv 2026-11-29T09:00:00+09:00

read_csv with every column as VARCHAR; rows with a wrong column count are rejected by the reader
(kept in its reject table: quarantined, their ids still count for duplicates). Date parsing and the
rules of scripts/bench/peer_python.py are SQL; instants are naive Seoul wall-clock timestamps (no
daylight saving time since 1988), so `+ INTERVAL n YEAR` is the policy's calendar arithmetic
(Feb 29 + 1y = Feb 28). Prints one JSON line: {"delete": D, "erase-fields": E, "notify": N, "quarantined": Q}
"""

import json
import subprocess
import sys

try:
    import duckdb
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "duckdb"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import duckdb

# Every accepted date form in one pattern; `seoul(v)` checks its parts and gives a Seoul wall-clock
# TIMESTAMP, NULL when the form is not accepted or the date is impossible.
DATE_RE = (r"'^([0-9]{4})([-./])([0-9]{2})([-./])([0-9]{2})(?:([T ])([0-9]{2}):([0-9]{2})(?::([0-9]{2})"
           r"(?:\.([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$', ['y', 's1', 'mo', 's2', 'd', 'sep', 'h', 'mi', 's', 'f', 'z']")
MACROS = r"""
CREATE MACRO strip(x) AS trim(coalesce(x, ''), ' ' || chr(9) || chr(10) || chr(13));
CREATE MACRO num(x) AS TRY_CAST(x AS INT);
CREATE MACRO days_in(y, m) AS CASE WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
                                   WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
CREATE MACRO offset_seconds(z) AS CASE WHEN z = 'Z' THEN 0
    ELSE (CASE WHEN z[1] = '+' THEN 1 ELSE -1 END) * (num(z[2:3]) * 3600 + num(right(z, 2)) * 60) END;
CREATE MACRO seoul(v) AS CASE
    WHEN v.y <> '' AND v.s1 = v.s2 AND (v.sep = '' OR (v.s1 = '-' AND (v.sep = 'T') = (v.z <> '') AND (v.sep = 'T' OR v.f = '')))
         AND num(v.mo) BETWEEN 1 AND 12 AND num(v.d) BETWEEN 1 AND days_in(num(v.y), num(v.mo))
         AND coalesce(num(v.h), 0) < 24 AND coalesce(num(v.mi), 0) < 60 AND coalesce(num(v.s), 0) < 60
         AND (v.z IN ('', 'Z') OR (num(v.z[2:3]) < 24 AND num(right(v.z, 2)) < 60))
    THEN make_timestamp(num(v.y), num(v.mo), num(v.d), coalesce(num(v.h), 0), coalesce(num(v.mi), 0),
                        coalesce(num(v.s), 0) + coalesce(TRY_CAST('0.' || nullif(v.f, '') AS DOUBLE), 0))
         + to_seconds(CASE WHEN v.z = '' THEN 0 ELSE 9 * 3600 - offset_seconds(v.z) END) END;
"""

RULES = r"""
WITH rows AS (
  SELECT strip(id) AS rid, strip(created_at) AS created_text, strip(consent_extended_at) AS extended_text,
         list_distinct([strip(x) for x in string_split(coalesce(purpose, ''), ';') if strip(x) <> '']) AS purposes,
         strip(email) <> '' AS has_email, strip(interests) AS interests,
         CASE WHEN lower(strip(marketing_consent)) IN ('', 'n', 'no', 'false', '0') THEN false
              WHEN lower(strip(marketing_consent)) IN ('y', 'yes', 'true', '1') THEN true END AS consent
  FROM contacts),
parts AS (
  SELECT *, regexp_extract(created_text, DATE_RE) AS c, regexp_extract(extended_text, DATE_RE) AS e FROM rows),
parsed AS (SELECT *, seoul(c) AS created, seoul(e) AS extended FROM parts),
judged AS (
  SELECT *, rid = '' OR created IS NULL OR created > $now OR (extended_text <> '' AND extended IS NULL)
            OR len(purposes) = 0 OR len([p for p in purposes if p NOT IN ('payment', 'dispute', 'marketing')]) > 0 AS bad,
         greatest(CASE WHEN list_contains(purposes, 'payment') THEN created + INTERVAL 5 YEAR END,
                  CASE WHEN list_contains(purposes, 'dispute') THEN created + INTERVAL 3 YEAR END,
                  CASE WHEN list_contains(purposes, 'marketing') THEN greatest(created, extended) + INTERVAL 2 YEAR END) AS final,
         CASE WHEN list_contains(purposes, 'marketing') THEN greatest(created, extended) + INTERVAL 2 YEAR END AS marketing
  FROM parsed),
ids AS (SELECT rid FROM judged WHERE rid <> ''
        UNION ALL SELECT strip(split_part(csv_line, ',', 1)) FROM rejects),
dup AS (SELECT rid FROM ids WHERE rid <> '' GROUP BY rid HAVING count(*) > 1),
state AS (
  SELECT CASE WHEN bad OR rid IN (SELECT rid FROM dup) THEN 'quarantined'
              WHEN final <= $now THEN 'delete'
              WHEN marketing <= $now AND (interests <> '' OR consent IS DISTINCT FROM false) THEN 'erase-fields'
              WHEN marketing > $now AND marketing <= $now + INTERVAL 30 DAY AND has_email AND consent THEN 'notify'
         END AS state FROM judged)
SELECT state, count(*) FROM state WHERE state IS NOT NULL GROUP BY state
UNION ALL SELECT 'quarantined', count(*) FROM rejects
"""


def main():
    csv_path, as_of = sys.argv[1:3]
    db = duckdb.connect()
    db.execute(MACROS)
    now = db.execute(f"SELECT seoul(regexp_extract(?, {DATE_RE}))", [as_of]).fetchone()[0]
    db.execute("""CREATE TABLE contacts AS SELECT * FROM read_csv(?, header = true, all_varchar = true, delim = ',',
                  quote = '"', escape = '"', ignore_errors = true, store_rejects = true, rejects_table = 'reject_errors')""",
               [csv_path])
    # One rejected row may be reported more than once (one error per defect): keep each line once.
    # Its id is the text before the first comma (id is the first column of these files).
    db.execute("CREATE TABLE rejects AS SELECT any_value(csv_line) AS csv_line FROM reject_errors GROUP BY file_id, line")
    counts = {}
    for state, count in db.execute(RULES.replace("DATE_RE", DATE_RE), {"now": now}).fetchall():
        counts[state] = counts.get(state, 0) + count
    print(json.dumps({k: counts.get(k, 0) for k in ("delete", "erase-fields", "notify", "quarantined")}))


if __name__ == "__main__":
    main()
