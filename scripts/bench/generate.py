#!/usr/bin/env python3
"""Generate a large contacts CSV for the benchmarks, deterministically (stdlib only).

    python3 scripts/bench/generate.py N OUT.csv [--seed S]
    python3 scripts/bench/generate.py N OUT.csv --changed 0.01 --from PREVIOUS.csv [--seed S]

The first form writes N data rows with the header of config/examples/contacts.csv (UTF-8, LF) in the
style of scripts/generate-contacts.py: kr-pipa purposes and their ';' mixes (sometimes spaced or with
empty tokens), creation dates over 2018-2026 in every accepted date form, consent spellings, quoted
interests (some multi-line), some consent_extended_at, rows planted in the 30-day notice window before
AS_OF = 2026-11-29T09:00:00+09:00, boundary rows (Feb 29, expiry exactly at AS_OF or at the end of the
notice window), and about 1% bad rows (empty id, missing/invalid/future created_at, invalid
consent_extended_at, empty/unknown purpose, duplicate id, wrong column count).
The second form copies PREVIOUS.csv (N is ignored) with round(F x data rows) well-formed rows changed:
consent flipped, interests changed or consent_extended_at set. The same arguments give the same bytes.
1,000,000 rows take a few seconds.
"""

import argparse
import bisect
import csv
import random
from datetime import date

DAY = 86400
BASE = date(2017, 1, 1).toordinal()          # day 0 of the local-seconds scale (Seoul wall clock)
AS_OF = (date(2026, 11, 29).toordinal() - BASE) * DAY + 9 * 3600
HEADER = "id,name,email,phone,created_at,purpose,marketing_consent,interests,consent_extended_at\n"

SURNAMES = [("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"),
            ("조", "cho"), ("윤", "yoon"), ("장", "jang"), ("임", "lim"), ("한", "han"), ("오", "oh"),
            ("서", "seo"), ("신", "shin"), ("권", "kwon"), ("황", "hwang"), ("안", "ahn"), ("송", "song"),
            ("류", "ryu"), ("홍", "hong")]
GIVEN = "민준 서연 지호 수아 예준 하은 도윤 지우 서준 하린 시우 지민 주원 채원 건우 윤서 현우 다은 똠이 은비".split()
LATIN_FIRST = "James Olivia Noah Emma Liam Ava Lucas Mia Ethan Chloe Daniel Sofia Jean Zoe".split()
LATIN_LAST = "Smith Brown Garcia Miller Davis Wilson Moore Taylor Martin Lee Kim Park".split()
INTERESTS = ["hiking", "books, music", "travel, food, \"wine\"", "골프, 등산", "영화", "cooking", "\"K-pop\", dance",
             "running, cycling, swim", "camping", "photography, \"film\" cameras"]
PURPOSES = [("payment", 25), ("dispute", 10), ("marketing", 15), ("payment;marketing", 20),
            ("dispute;marketing", 15), ("payment;dispute;marketing", 15)]
YEARS = [(2018, 2), (2019, 3), (2020, 4), (2021, 6), (2022, 8), (2023, 12), (2024, 18), (2025, 23), (2026, 25)]
CONSENTS = ["Y", "Y", "Y", "N", "N", "yes", "no", "true", "false", "1", "0", ""]
YES = ["Y", "yes", "true", "1"]
FORM_WEIGHTS = [14, 8, 8, 4, 14, 6, 20, 10, 10, 6]
INVALID_DATES = ["2023-02-30", "2023-13-01", "01/02/2023", "2023-1-5", "2023-01-01T10:00:00", "2023-01-01 24:00"]


def q(text):
    """A CSV field, quoted only when needed (as csv.writer does)."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def cumulative(weights):
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return [c / total for c in out]


# Lookup tables instead of per-row strftime: day number -> "YYYY-MM-DD" etc., seconds of day -> "HH:MM:SS".
DAYS = [date.fromordinal(BASE + i) for i in range(12 * 366)]
DASH = [d.isoformat() for d in DAYS]
DOT = [s.replace("-", ".") for s in DASH]
SLASH = [s.replace("-", "/") for s in DASH]
HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
YEAR_START = {y: (date(y, 1, 1).toordinal() - BASE) * DAY for y in range(2017, 2029)}


def fmt(local, form):
    """Seoul local seconds as text in one of the accepted forms (as scripts/generate-contacts.py)."""
    if form == 1 or form == 2:
        local -= 9 * 3600
    elif form == 9:
        local -= 14 * 3600
    day, sod = divmod(local, DAY)
    if form == 0:
        return DASH[day] + "T" + HMS[sod] + "+09:00"
    if form == 1:
        return DASH[day] + "T" + HMS[sod] + "Z"
    if form == 2:
        return DASH[day] + "T" + HMS[sod] + ".000+0000"
    if form == 3:
        return DASH[day] + "T" + HMS[sod][:5] + "+09:00"
    if form == 4:
        return DASH[day] + " " + HMS[sod]
    if form == 5:
        return DASH[day] + " " + HMS[sod][:5]
    if form == 6:
        return DASH[day]
    if form == 7:
        return DOT[day]
    if form == 8:
        return SLASH[day]
    return DASH[day] + "T" + HMS[sod] + "-05:00"


def local_of(y, m, d, hh=0, mm=0, ss=0):
    return (date(y, m, d).toordinal() - BASE) * DAY + hh * 3600 + mm * 60 + ss


# Boundary rows (purpose, created_at, consent, consent_extended_at), checked against the rules:
# final expiry exactly at AS_OF (deleted), one second later (kept), Feb 29 + 1y = Feb 28, and the notice
# window's end (marketing expiry exactly AS_OF + 30 days is noticed; one second later is not).
EDGES = [
    ("payment", "2021-11-29T09:00:00+09:00", "Y", ""), ("payment", "2021-11-29T00:00:01Z", "Y", ""),
    ("dispute", "2023-11-29 09:00:00", "N", ""), ("dispute", "2023-11-29 09:00:01", "N", ""),
    ("marketing", "2024-11-29T00:00:00Z", "Y", ""), ("payment;marketing", "2024-11-29 09:00:00", "Y", ""),
    ("payment;marketing", "2020-02-29", "Y", ""), ("payment", "2020-02-29T23:59:59+09:00", "N", ""),
    ("dispute;marketing", "2024-02-29 12:00", "Y", "2024-02-29"), ("payment;marketing", "2024.02.29", "N", ""),
    ("marketing", "2024-12-29 09:00:00", "Y", ""), ("marketing", "2024-12-29 09:00:01", "Y", ""),
    ("payment;marketing", "2022-01-01", "yes", "2024-12-29T00:00:00Z"), ("marketing", "2026-11-29T09:00:00+09:00", "Y", ""),
    ("dispute;marketing", "2024-12-28T19:00:00-05:00", "true", ""), ("marketing", "2024-11-29T09:00:00.5+09:00", "1", ""),
]


def templates(count, rng):
    """`count` row bodies (everything but the id, the email's number and the phone's last digits)."""
    rnd = rng.random
    purposes = [p for p, _ in PURPOSES]
    purpose_cum = cumulative([w for _, w in PURPOSES])
    years = [y for y, _ in YEARS]
    year_cum = cumulative([w for _, w in YEARS])
    form_cum = cumulative(FORM_WEIGHTS)
    decorated = {p: [" ; ".join(p.split(";")), ";;".join(p.split(";")) + ";", " " + p + " ", p] for p in purposes}
    interests = [q(i) for i in INTERESTS]
    multiline = q("line one\nline two")
    notice_start = local_of(2024, 11, 29, 10)  # AS_OF - 2y + 1h
    out = []
    for _ in range(count):
        # Who: 60% Korean names, the rest Latin (some "Last, First", quoted).
        if rnd() < 0.6:
            sur, roman = SURNAMES[int(rnd() * 20)]
            name, local = sur + GIVEN[int(rnd() * 20)], roman + "."
        else:
            first, last = LATIN_FIRST[int(rnd() * 14)], LATIN_LAST[int(rnd() * 12)]
            name = first + " " + last if rnd() < 0.9 else '"' + last + ", " + first + '"'
            local = first.lower() + "." + last.lower()
        has_email, has_phone = rnd() >= 0.1, rnd() >= 0.05
        domain = "@example.com" if rnd() < 0.5 else "@example.org"
        purpose = purposes[bisect.bisect(purpose_cum, rnd())]
        consent = CONSENTS[int(rnd() * 12)]
        r = rnd()
        interest = "" if r < 0.35 else multiline if r < 0.36 else interests[int(rnd() * 10)]
        extended = ""
        r = rnd()
        if r < 0.01:  # planted in the notice window: marketing, consent yes, email, basis ~2 years ago
            purpose = ("marketing", "payment;marketing", "dispute;marketing")[int(rnd() * 3)]
            consent, has_email = YES[int(rnd() * 4)], True
            created = notice_start + int(rnd() * 29 * DAY)
            if rnd() < 0.3:
                extended = fmt(created, (0, 1, 4)[int(rnd() * 3)])
                created -= (200 + int(rnd() * 700)) * DAY
        elif r < 0.0115:  # boundary rows
            purpose, created_text, consent, extended = EDGES[int(rnd() * len(EDGES))]
            created = None
        else:
            year = years[bisect.bisect(year_cum, rnd())]
            start = YEAR_START[year]
            created = start + int(rnd() * (min(YEAR_START[year + 1], AS_OF - DAY) - start))
            if "marketing" in purpose and rnd() < 0.15:
                extended = fmt(created + int((AS_OF - created) * rnd()), (0, 4, 6)[int(rnd() * 3)])
            if "marketing" in purpose and purpose != "marketing" and rnd() < 0.45:
                consent, interest = ("N", "no", "0", "")[int(rnd() * 4)], ""
        if created is not None:
            created_text = fmt(created, bisect.bisect(form_cum, rnd()))
        r = rnd()
        purpose_text = decorated[purpose][0 if r < 0.06 else 1 if r < 0.10 else 2 if r < 0.12 else 3]
        fields = [created_text, purpose_text, consent, interest, extended]
        if rnd() < 0.0078:  # bad rows of seven kinds (empty and duplicate ids are made per row)
            kind = int(rnd() * 7)
            if kind == 0:
                fields[0] = ("", "  ")[int(rnd() * 2)]
            elif kind == 1:
                fields[0] = INVALID_DATES[int(rnd() * 6)]
            elif kind == 2:
                fields[0] = fmt(AS_OF + 2 * DAY + int(rnd() * 400 * 24) * 3600, (0, 4, 6)[int(rnd() * 3)])
            elif kind == 3:
                fields[1], fields[4] = "marketing", ("2024-02-30", "2024/13/01", "soon", "2024-1-1")[int(rnd() * 4)]
            elif kind == 4:
                fields[1] = ("", " ", ";", " ; ;")[int(rnd() * 4)]
            elif kind == 5:
                fields[1] = ("Marketing", "sales", "PAYMENT", "payment;sales", "newsletter")[int(rnd() * 5)]
            else:  # wrong column count: two fields short, or one too many
                fields = fields[:3] if rnd() < 0.5 else fields + ["extra"]
        head = "," + name + "," + (local if has_email else "")
        mid = (domain if has_email else "") + "," + ("010-0000-" if has_phone else "")
        out.append((head, mid, "," + ",".join(fields) + "\n", has_email, has_phone))
    return out


def generate(n, out, seed):
    """N rows: row i takes body i while there are bodies, then a random one of 2^17."""
    rng = random.Random(seed)
    pool = templates(min(n, 1 << 17), rng)
    bits = rng.getrandbits
    digits3 = [f"{i:03d}" for i in range(1000)]
    digits4 = [f"{i:04d}" for i in range(10000)]
    buf = [HEADER]
    for i in range(1, n + 1):
        x = bits(32)
        k, y = x & 0x1FFFF, x >> 17
        head, mid, rest, has_email, has_phone = pool[i - 1 if i <= len(pool) else k]
        if y >= 72:
            rid = "C" + digits4[i // 1000 % 10000] + digits3[i % 1000]
        elif y < 36:  # about 0.1% empty ids, 0.1% ids of an earlier row
            rid = ("", " ")[y & 1]
        else:
            j = i - 1 - k % min(i - 1, 5000) if i > 1 else 1
            rid = "C" + digits4[j // 1000 % 10000] + digits3[j % 1000]
        row = rid + head
        if has_email:
            row += str(i)
        row += mid
        if has_phone:
            row += digits4[i % 10000]
        buf.append(row + rest)
        if len(buf) >= 65536:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


def change(previous, out, fraction, seed):
    """Copy PREVIOUS with round(fraction x data rows) well-formed rows changed, the rest byte for byte."""
    with open(previous, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        width = len(header)
        good = [i for i, row in enumerate(rows) if len(row) == width]
        total = sum(1 for _ in csv.reader(open(previous, encoding="utf-8", newline=""))) - 1
    rng = random.Random(seed)
    chosen = set(rng.sample(good, min(len(good), round(fraction * total))))
    col = {name: i for i, name in enumerate(header)}
    with open(previous, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(next(rows))
        for i, row in enumerate(rows):
            if i in chosen:
                r = rng.random()
                if r < 0.4:   # consent flipped
                    c = col["marketing_consent"]
                    row[c] = "N" if row[c].strip().lower() in ("y", "yes", "true", "1") else "Y"
                elif r < 0.7:  # interests changed
                    row[col["interests"]] = rng.choice([""] + [x for x in INTERESTS if x != row[col["interests"]]])
                else:          # consent renewed within the last two years
                    row[col["consent_extended_at"]] = DASH[(AS_OF - int(rng.random() * 730 * DAY)) // DAY]
            writer.writerow(row)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--changed", type=float, help="fraction of PREVIOUS's data rows to change")
    parser.add_argument("--from", dest="previous", help="the CSV to copy with --changed")
    args = parser.parse_args()
    if (args.changed is None) != (args.previous is None):
        parser.error("--changed and --from go together")
    if not 0 <= args.rows < 10 ** 7:
        parser.error("rows: 0 to 9,999,999 (ids are C + 7 digits)")
    with open(args.out, "w", encoding="utf-8", newline="", buffering=1 << 22) as out:
        if args.previous:
            change(args.previous, out, args.changed, args.seed)
        else:
            generate(args.rows, out, args.seed)


if __name__ == "__main__":
    main()
