#!/usr/bin/env python3
"""Generate the example contacts CSV and its test fixtures, with an independent oracle.

Writes (deterministic: the same seed always gives the same bytes):
  config/examples/contacts.csv            UTF-8, no BOM, LF, about 2,000 rows
  Tests/Fixtures/contacts-cp949.csv       the same rows in CP949 with CRLF (Korean Excel style)
  Tests/Fixtures/contacts-small.csv       about 40 rows, UTF-8 with BOM, CRLF, for fast tests
  Tests/Fixtures/expected-2026-11-29.json expected sync counts of the full file at AS_OF
  Tests/Fixtures/expected-small-2026-11-29.json  the same for the small file

The counts are computed here, in Python, by the kr-pipa rules (see docs and Policy.krPIPA), so the
Swift implementation can be compared with an oracle that shares no code with it. Every name, email
and phone number is fake (example.com / example.org, 010-0000-xxxx).

Usage: python3 scripts/generate-contacts.py [--root PATH]   (stdlib only)
"""

import argparse
import calendar
import csv
import io
import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261129
SEOUL = timezone(timedelta(hours=9))  # Asia/Seoul has had no daylight saving time since 1988.
AS_OF = datetime(2026, 11, 29, 9, 0, 0, tzinfo=SEOUL)
NOTICE_LEAD = timedelta(days=30)
HEADER = ["id", "name", "email", "phone", "created_at", "purpose", "marketing_consent", "interests",
          "consent_extended_at"]
PERIOD_YEARS = {"payment": 5, "dispute": 3, "marketing": 2}
BASIS = {"payment": ["created_at"], "dispute": ["created_at"], "marketing": ["created_at", "consent_extended_at"]}
ERASE = {"marketing": [("interests", ""), ("marketing_consent", "N")]}
CONSENT_FIELDS = {"marketing_consent"}

# ---------------------------------------------------------------------------------------------
# The oracle: the kr-pipa rules, written independently of the Swift code.

_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"
                  r"(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:?[0-9]{2})\Z")
_LOCAL_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?\Z")
_LOCAL_DAY = re.compile(r"([0-9]{4})([-./])([0-9]{2})\2([0-9]{2})\Z")


def parse_date(text):
    """An aware datetime, or None when the text is not one of the accepted forms."""
    text = text.strip(" \t")
    offset = None
    fraction = 0
    m = _ISO.match(text)
    if m:
        y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
        s = int(m.group(6) or 0)
        if m.group(7):
            fraction = int(m.group(7).ljust(6, "0")[:6])
        zone = m.group(8)
        if zone == "Z":
            offset = 0
        else:
            oh, om = int(zone[1:3]), int(zone[-2:])
            if oh >= 24 or om >= 60:
                return None
            offset = (oh * 60 + om) * (1 if zone[0] == "+" else -1)
    else:
        m = _LOCAL_TIME.match(text)
        if m:
            y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
            s = int(m.group(6) or 0)
        else:
            m = _LOCAL_DAY.match(text)
            if not m:
                return None
            y, mo, d = int(m.group(1)), int(m.group(3)), int(m.group(4))
            h = mi = s = 0
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60 and s < 60):
        return None
    zone = SEOUL if offset is None else timezone(timedelta(minutes=offset))
    return datetime(y, mo, d, h, mi, s, fraction, tzinfo=zone)


def add_years(instant, years):
    """Calendar years on the Seoul calendar, Feb 29 + 1y = Feb 28."""
    local = instant.astimezone(SEOUL)
    year = local.year + years
    day = min(local.day, calendar.monthrange(year, local.month)[1])
    return local.replace(year=year, day=day)


def parse_consent(text):
    value = (text or "").strip(" \t").lower()
    if value in ("", "n", "no", "false", "0"):
        return False
    if value in ("y", "yes", "true", "1"):
        return True
    return None


def value(row, field):
    text = (row.get(field) or "").strip()
    return text or None


def is_erased(row, field, target):
    current = value(row, field) or ""
    if field in CONSENT_FIELDS:
        current_consent = parse_consent(current)
        if current_consent is not None:
            return current_consent == parse_consent(target)
    return current == target


def outcome(row, now=AS_OF):
    """'quarantined', 'deleted', 'erased', 'notice' or 'kept' for one row (duplicates aside)."""
    if not (row["id"] or "").strip():
        return "quarantined"
    created_text = value(row, "created_at")
    created = parse_date(created_text) if created_text else None
    if created is None or created > now:
        return "quarantined"
    dates = {"created_at": created}
    extended_text = value(row, "consent_extended_at")
    if extended_text:
        extended = parse_date(extended_text)
        if extended is None:
            return "quarantined"
        dates["consent_extended_at"] = extended
    purposes = []
    for token in (row["purpose"] or "").split(";"):
        token = token.strip()
        if not token:
            continue
        if token not in PERIOD_YEARS:
            return "quarantined"
        if token not in purposes:
            purposes.append(token)
    if not purposes:
        return "quarantined"
    expiries = {p: add_years(max(dates[f] for f in BASIS[p] if f in dates), PERIOD_YEARS[p]) for p in purposes}
    if now >= max(expiries.values()):
        return "deleted"
    if "marketing" in purposes:
        expiry = expiries["marketing"]
        if expiry <= now:
            pending = [f for f, target in ERASE["marketing"] if not is_erased(row, f, target)]
            return "erased" if pending else "kept"
        if expiry <= now + NOTICE_LEAD and value(row, "email") and parse_consent(row["marketing_consent"]) is True:
            return "notice"
    return "kept"


def expected_counts(rows):
    ids = [(r["id"] or "").strip() for r in rows]
    duplicated = {i for i in ids if i and ids.count(i) > 1}
    counts = {"pulled": len(rows), "quarantined": 0, "deleted": 0, "fieldsErased": 0, "noticesSent": 0}
    key = {"quarantined": "quarantined", "deleted": "deleted", "erased": "fieldsErased", "notice": "noticesSent"}
    for row, rid in zip(rows, ids):
        result = "quarantined" if rid in duplicated else outcome(row)
        if result in key:
            counts[key[result]] += 1
    return counts

# ---------------------------------------------------------------------------------------------
# The data.

SURNAMES = "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍".split()
GIVEN = "민준 서연 지호 수아 예준 하은 도윤 지우 서준 하린 시우 지민 주원 채원 건우 윤서 현우 다은 똠이 은비".split()
LATIN_FIRST = "James Olivia Noah Emma Liam Ava Lucas Mia Ethan Chloe Daniel Sofia Jean Zoe".split()
LATIN_LAST = "Smith Brown Garcia Miller Davis Wilson Moore Taylor Martin Lee Kim Park".split()
ROMAN = {"김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang", "조": "cho", "윤": "yoon",
         "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin", "권": "kwon", "황": "hwang",
         "안": "ahn", "송": "song", "류": "ryu", "홍": "hong"}
INTERESTS = ["hiking", "books, music", "travel, food, \"wine\"", "골프, 등산", "영화", "cooking", "\"K-pop\", dance",
             "running, cycling, swim", "camping", "photography, \"film\" cameras"]
PURPOSES = [("payment", 25), ("dispute", 10), ("marketing", 15), ("payment;marketing", 20),
            ("dispute;marketing", 15), ("payment;dispute;marketing", 15)]
YEAR_WEIGHTS = [(2018, 2), (2019, 3), (2020, 4), (2021, 6), (2022, 8), (2023, 12), (2024, 18), (2025, 23), (2026, 25)]


def fmt(instant, form):
    """An instant as text in one of the accepted forms."""
    local = instant.astimezone(SEOUL)
    day = local.strftime("%Y-%m-%d")
    if form == 0:
        return local.strftime("%Y-%m-%dT%H:%M:%S+09:00")
    if form == 1:
        return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == 2:  # Salesforce style
        return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if form == 3:
        return local.strftime("%Y-%m-%dT%H:%M+09:00")
    if form == 4:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if form == 5:
        return local.strftime("%Y-%m-%d %H:%M")
    if form == 6:
        return day
    if form == 7:
        return local.strftime("%Y.%m.%d")
    if form == 8:
        return local.strftime("%Y/%m/%d")
    return instant.astimezone(timezone(timedelta(hours=-5))).strftime("%Y-%m-%dT%H:%M:%S-05:00")


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.next_id = 1

    def new_id(self):
        rid = f"C{self.next_id:06d}"
        self.next_id += 1
        return rid

    def person(self):
        rng = self.rng
        n = self.next_id
        if rng.random() < 0.6:
            surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
            name = surname + given
            local = f"{ROMAN[surname]}.{n}"
        else:
            first, last = rng.choice(LATIN_FIRST), rng.choice(LATIN_LAST)
            name = f"{first} {last}" if rng.random() < 0.9 else f"{last}, {first}"
            local = f"{first.lower()}.{last.lower()}{n}"
        email = "" if rng.random() < 0.1 else f"{local}@{rng.choice(['example.com', 'example.org'])}"
        phone = "" if rng.random() < 0.05 else f"010-0000-{n % 10000:04d}"
        return name, email, phone

    def created(self):
        rng = self.rng
        year = rng.choices([y for y, _ in YEAR_WEIGHTS], [w for _, w in YEAR_WEIGHTS])[0]
        start = datetime(year, 1, 1, tzinfo=SEOUL)
        end = min(datetime(year + 1, 1, 1, tzinfo=SEOUL), AS_OF - timedelta(days=1))
        return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))

    def decorate(self, purpose):
        rng = self.rng
        r = rng.random()
        parts = purpose.split(";")
        if r < 0.06:
            return " ; ".join(parts)
        if r < 0.10:
            return ";;".join(parts) + ";"
        if r < 0.12:
            return " " + purpose + " "
        return purpose

    def interests(self):
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            return ""
        if r < 0.36:
            return "line one\nline two"
        return rng.choice(INTERESTS)

    def valid_row(self, planted_notice=False):
        rng = self.rng
        name, email, phone = self.person()
        purpose = rng.choices([p for p, _ in PURPOSES], [w for _, w in PURPOSES])[0]
        created = self.created()
        extended = ""
        consent = rng.choice(["Y", "Y", "Y", "N", "N", "yes", "no", "true", "false", "1", "0", ""])
        interests = self.interests()
        if planted_notice:
            purpose = rng.choice(["marketing", "payment;marketing", "dispute;marketing"])
            consent = rng.choice(["Y", "yes", "true", "1"])
            email = email or f"notice.{self.next_id}@example.com"
            window_start = add_years(AS_OF, -2) + timedelta(hours=1)
            basis = window_start + timedelta(seconds=rng.randrange(29 * 86400))
            if rng.random() < 0.3:
                extended = fmt(basis, rng.choice([0, 1, 4]))
                created = basis - timedelta(days=rng.randrange(200, 900))
            else:
                created = basis
        elif "marketing" in purpose and rng.random() < 0.15:
            gap = AS_OF - created
            extended = fmt(created + gap * rng.random(), rng.choice([0, 4, 6]))
        if not planted_notice and "marketing" in purpose and purpose != "marketing" and rng.random() < 0.45:
            consent, interests = rng.choice(["N", "no", "0", ""]), ""
        form = rng.choices(range(10), [14, 8, 8, 4, 14, 6, 20, 10, 10, 6])[0]
        return {"id": self.new_id(), "name": name, "email": email, "phone": phone, "created_at": fmt(created, form),
                "purpose": self.decorate(purpose), "marketing_consent": consent, "interests": interests,
                "consent_extended_at": extended}

    def bad_rows(self):
        """About ten rows of every kind of defect, labelled."""
        rng = self.rng
        kinds = {
            "empty_id": lambda r: r.update(id=rng.choice(["", " "])),
            "missing_created_at": lambda r: r.update(created_at=rng.choice(["", "  "])),
            "invalid_created_at": lambda r: r.update(created_at=rng.choice(
                ["2023-02-30", "2023-13-01", "01/02/2023", "2023-1-5", "2023-01-01T10:00:00", "2023-01-01 24:00"])),
            "future_created_at": lambda r: r.update(created_at=fmt(
                AS_OF + timedelta(days=2, hours=rng.randrange(24 * 400)), rng.choice([0, 4, 6]))),
            "invalid_consent_extended_at": lambda r: r.update(
                purpose="marketing", consent_extended_at=rng.choice(["2024-02-30", "2024/13/01", "soon", "2024-1-1"])),
            "empty_purpose": lambda r: r.update(purpose=rng.choice(["", " ", ";", " ; ;"])),
            "unknown_purpose": lambda r: r.update(purpose=rng.choice(
                ["Marketing", "sales", "PAYMENT", "payment;sales", "newsletter"])),
        }
        rows = []
        for kind, damage in kinds.items():
            for _ in range(10):
                row = self.valid_row()
                damage(row)
                rows.append((kind, row))
        return rows


def build():
    gen = Generator(SEED)
    rows = [("valid", gen.valid_row()) for _ in range(1884)]
    rows += [("notice", gen.valid_row(planted_notice=True)) for _ in range(36)]
    rows += gen.bad_rows()
    gen.rng.shuffle(rows)
    # Ten duplicate pairs: a second, different row reusing the id of a valid row, inserted later on.
    for _ in range(10):
        index = gen.rng.choice([i for i, (label, _) in enumerate(rows[:1600]) if label == "valid"])
        original = rows[index][1]
        twin = gen.valid_row()
        twin["id"] = original["id"]
        rows[index] = ("duplicate_id", original)
        rows.insert(gen.rng.randrange(index + 1, len(rows) + 1), ("duplicate_id", twin))
    return rows


def small_selection(rows):
    """About 40 rows covering every outcome and every defect, keeping one duplicate pair whole."""
    ids = [r["id"] for _, r in rows]
    dup_id = next(r["id"] for label, r in rows if label == "duplicate_id")
    wanted = {"deleted": 6, "erased": 5, "notice": 5, "kept": 8}
    chosen, seen_kinds = [], {}
    for label, row in rows:
        if label == "duplicate_id":
            if row["id"] == dup_id:
                chosen.append(row)
            continue
        if label not in ("valid", "notice"):
            if seen_kinds.get(label, 0) < 2:
                seen_kinds[label] = seen_kinds.get(label, 0) + 1
                chosen.append(row)
            continue
        if ids.count(row["id"]) > 1:
            continue
        result = outcome(row)
        if wanted.get(result, 0) > 0:
            wanted[result] -= 1
            chosen.append(row)
    return chosen


def to_csv(rows, terminator):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row[h] for h in HEADER])
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the repository root")
    root = Path(parser.parse_args().root)
    labelled = build()
    rows = [r for _, r in labelled]
    small = small_selection(labelled)

    (root / "config/examples").mkdir(parents=True, exist_ok=True)
    fixtures = root / "Tests/Fixtures"
    fixtures.mkdir(parents=True, exist_ok=True)
    (root / "config/examples/contacts.csv").write_bytes(to_csv(rows, "\n").encode("utf-8"))
    (fixtures / "contacts-cp949.csv").write_bytes(to_csv(rows, "\r\n").encode("cp949"))
    (fixtures / "contacts-small.csv").write_bytes(to_csv(small, "\r\n").encode("utf-8-sig"))

    counts = expected_counts(rows)
    small_counts = expected_counts(small)
    for name, value_ in (("expected-2026-11-29.json", counts), ("expected-small-2026-11-29.json", small_counts)):
        (fixtures / name).write_text(json.dumps(value_, indent=2) + "\n", encoding="utf-8")

    valid = counts["pulled"] - counts["quarantined"]
    print(f"as of {AS_OF.isoformat()}:")
    print(f"  contacts.csv: {json.dumps(counts)}")
    print(f"    valid {valid}; deleted {counts['deleted'] / valid:.1%}, erased {counts['fieldsErased'] / valid:.1%} "
          f"of valid rows")
    print(f"  contacts-small.csv: {json.dumps(small_counts)}")


if __name__ == "__main__":
    main()
