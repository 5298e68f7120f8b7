#!/usr/bin/env python3
"""Lethe side by side with the script a user would write (Python) and with DuckDB, on generated CSVs.

    python3 scripts/bench/run.py LETHE [--rows 100000,1000000] [--runs 3] [--work DIR] [--markdown FILE]

For each size: generates the file (scripts/bench/generate.py, cached in --work), checks that both peers
and `lethe sync --dry-run` count the same due work, then times, as medians of --runs runs, with the
peak RSS of each:
  - the Python peer and the DuckDB peer (parse, apply kr-pipa, persist / count what is due);
  - lethe sync --dry-run on a fresh state (read, evaluate, report; nothing persisted);
  - lethe sync on a fresh state with the default safety limits (state persisted, notices and erasures
    executed with one CSV rewrite, the deletes held in one approval batch: exit 3);
  - lethe sync on a fresh state with the limits lifted (every delete executed, exit 0);
  - lethe sync again with nothing changed, and with 1% of the rows changed (after the first sync).
With --postgres URL (a server whose user may create databases; `make bench` starts a throwaway one with
PostgreSQL's durable defaults), the first sync and the full sync again with the state in PostgreSQL, on a
fresh database `lethe_bench` each run, beside the SQLite lines.
Then the size of the state after the full sync, and a search of it for the file's e-mails, names and
phones (there must be none). Prints a table (and writes it as Markdown with --markdown).
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AS_OF = "2026-11-29T09:00:00+09:00"


def timeit(label, command, runs, before=None, env=None, ok=(0,)):
    arguments = [sys.executable, str(HERE / "timeit.py"), "-n", str(runs), "--label", label,
                 "--ok", ",".join(map(str, ok))]
    if before:
        arguments += ["--before", before]
    result = subprocess.run(arguments + ["--"] + command, capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"{label} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def lethe_env(state, csv_path, limits, store_url=None):
    env = dict(os.environ, LETHE_STATE_DIR=str(state), LETHE_CSV_PATH=str(csv_path))
    env.pop("LETHE_STORE_URL", None)
    if store_url:
        env["LETHE_STORE_URL"] = store_url
    if not limits:
        env.update(LETHE_MAX_DELETES_PER_RUN="1000000000", LETHE_MAX_DELETE_FRACTION="1")
    return env


def database_size(state):
    return sum((state / name).stat().st_size for name in ("lethe.sqlite", "lethe.sqlite-wal", "lethe.sqlite-shm")
               if (state / name).exists())


def bench_database(url):
    """The URL of the database `lethe_bench` on the server of `url` (same user, password and options)."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/lethe_bench"))


def postgres_size(url):
    result = subprocess.run(["psql", url, "-Atc", "SELECT pg_database_size(current_database())"], capture_output=True, text=True, check=True)
    return int(result.stdout.strip())


def ratio(peer, lethe):
    """How Lethe compares with a peer, in the direction it goes."""
    return f"{peer / lethe:.1f}× faster" if lethe <= peer else f"{lethe / peer:.1f}× slower"


def personal_data_found(state, csv_path):
    """The e-mails, names and phones of the CSV's rows found in any file of the state (outbox and archive
    aside: they hold what was sent or kept on purpose). The files are scanned once for anything shaped
    like an e-mail, a phone number or a name (and every part of it); the CSV is then streamed to see
    which of those are its own."""
    shapes = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|0\d{1,2}-\d{3,4}-\d{4}|(?:[\xea-\xed][\x80-\xbf]{2}){2,5}|[A-Z][a-z]+ [A-Z][a-z]+")
    candidates = {}
    for path in state.rglob("*"):
        if path.is_file() and path.suffix not in (".eml",) and "outbox" not in path.parts and "archive" not in path.parts:
            for match in shapes.finditer(path.read_bytes()):
                token = match.group(0)[:64]
                # A value stored beside other bytes may be matched with some of them: every part counts.
                for start in range(len(token)):
                    for end in range(start + 6, len(token) + 1):
                        candidates.setdefault(token[start:end], path.name)
    found = []
    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for field in ("email", "name", "phone"):
                value = (row.get(field) or "").strip().encode("utf-8")
                if value in candidates:
                    found.append((candidates.pop(value), value.decode()))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lethe")
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=str(ROOT / ".lethe/bench"))
    parser.add_argument("--markdown")
    parser.add_argument("--postgres", default=os.environ.get("LETHE_BENCH_POSTGRES_URL") or os.environ.get("LETHE_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL: also time the syncs with the state there")
    args = parser.parse_args()
    lethe = str(Path(args.lethe).resolve())
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    # Each run's state is moved aside, and all of them are deleted once everything is timed: deleting a
    # run's notice files (12,681 at 1M rows) just before the next run makes ext4 skip the inodes it freed
    # for minutes, and the next run would pay seconds for the harness's deletion when creating its own.
    aside = work / "aside"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    try:
        bench(args, lethe, work, aside)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def bench(args, lethe, work, aside):
    config = str(ROOT / "config/lethe.yaml")
    table = []
    for rows in [int(text) for text in args.rows.split(",")]:
        source = work / f"contacts-{rows}.csv"
        if not source.exists():
            subprocess.run([sys.executable, str(HERE / "generate.py"), str(rows), str(source)], check=True)
        check = subprocess.run([sys.executable, str(HERE / "check_counts.py"), lethe, "--csv", str(source)], capture_output=True, text=True)
        print(check.stdout.strip())
        if check.returncode != 0:
            sys.exit("the counts differ: nothing is timed")
        state, csv_copy = work / f"state-{rows}", work / f"work-{rows}.csv"
        clear = f"if [ -e {state} ]; then mv {state} {aside}/$(date +%s%N); fi"
        # The copies are written to disk before the clock starts: a sync that makes its own files
        # durable would otherwise also wait for the harness's (the 150 MB file copy, the last state).
        fresh = f"{clear} && mkdir -p {state} && cp {source} {csv_copy} && sync"
        sync = [lethe, "sync", "--as-of", AS_OF, "--json", "--config", config]
        results = {}
        peer_state = work / f"peer-{rows}.sqlite"
        results["python"] = timeit(f"python peer {rows}", [sys.executable, str(HERE / "peer_python.py"), str(source), str(peer_state), AS_OF],
                                   args.runs, before=f"rm -f {peer_state}")
        results["duckdb"] = timeit(f"duckdb peer {rows}", [sys.executable, str(HERE / "peer_duckdb.py"), str(source), AS_OF], args.runs)
        results["dry"] = timeit(f"lethe sync --dry-run {rows}", sync + ["--dry-run"], args.runs, before=fresh,
                                env=lethe_env(state, csv_copy, limits=False))
        results["first"] = timeit(f"lethe sync (default limits) {rows}", sync, args.runs, before=fresh,
                                  env=lethe_env(state, csv_copy, limits=True), ok=(0, 3))
        # The state and file the first sync leaves, for the re-syncs.
        snapshot_state, snapshot_csv = work / f"after-first-{rows}", work / f"after-first-{rows}.csv"
        if snapshot_state.exists():
            snapshot_state.rename(aside / f"snapshot-{time.time_ns()}")
        shutil.copytree(state, snapshot_state)
        shutil.copy(csv_copy, snapshot_csv)
        changed = work / f"after-first-{rows}-changed.csv"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(rows), str(changed), "--changed", "0.01", "--from", str(snapshot_csv)], check=True)
        restore = f"{clear} && cp -r {snapshot_state} {state} && cp {snapshot_csv} {csv_copy} && sync"
        results["again"] = timeit(f"lethe sync again, nothing changed {rows}", sync, args.runs, before=restore,
                                  env=lethe_env(state, csv_copy, limits=True), ok=(0, 3))
        results["changed"] = timeit(f"lethe sync again, 1% changed {rows}", sync, args.runs,
                                    before=f"{clear} && cp -r {snapshot_state} {state} && cp {changed} {csv_copy} && sync",
                                    env=lethe_env(state, csv_copy, limits=True), ok=(0, 3))
        results["full"] = timeit(f"lethe sync (limits lifted) {rows}", sync, args.runs, before=fresh,
                                 env=lethe_env(state, csv_copy, limits=False))
        size = database_size(state)
        leaks = personal_data_found(state, source)
        if args.postgres:
            database = bench_database(args.postgres)
            # A fresh database each run: dropped (its sessions ended) and created again.
            fresh_pg = (f"{fresh} && psql '{args.postgres}' -qc 'DROP DATABASE IF EXISTS lethe_bench WITH (FORCE)' "
                        f"-c 'CREATE DATABASE lethe_bench' >/dev/null && sync")
            results["pg_first"] = timeit(f"lethe sync (default limits, PostgreSQL) {rows}", sync, args.runs, before=fresh_pg,
                                         env=lethe_env(state, csv_copy, limits=True, store_url=database), ok=(0, 3))
            results["pg_full"] = timeit(f"lethe sync (limits lifted, PostgreSQL) {rows}", sync, args.runs, before=fresh_pg,
                                        env=lethe_env(state, csv_copy, limits=False, store_url=database))
            results["pg_size"] = postgres_size(database)
            for key in ("pg_first", "pg_full"):
                print(f"  {results[key]['label']}: {results[key]['output'][:240]}")
        for key in ("dry", "first", "full"):
            print(f"  {results[key]['label']}: {results[key]['output'][:240]}")
        table.append((rows, results, size, leaks))
    python_first = {rows: results["python"]["median_s"] for rows, results, _, _ in table}
    lines = ["| rows | work | Lethe median | Lethe peak RSS | vs Python peer | vs DuckDB peer |", "|---|---|---|---|---|---|"]
    for rows, results, size, leaks in table:
        py, duck = results["python"], results["duckdb"]
        lines.append(f"| {rows:,} | Python peer (parse, kr-pipa, persist state) | {py['median_s']} s | {py['peak_rss_mib']} MiB | 1× | |")
        lines.append(f"| {rows:,} | DuckDB peer (the same counts) | {duck['median_s']} s | {duck['peak_rss_mib']} MiB | | 1× |")
        for key, work_text in (("dry", "sync --dry-run, fresh state"), ("first", "sync, fresh state, default limits (deletes held, exit 3)"),
                               ("full", "sync, limits lifted (deletes executed, one rewrite)"), ("again", "sync again, nothing changed"),
                               ("changed", "sync again, 1% of rows changed")):
            result = results[key]
            lines.append(f"| {rows:,} | {work_text} | {result['median_s']} s | {result['peak_rss_mib']} MiB | "
                         f"{ratio(py['median_s'], result['median_s'])} | {ratio(duck['median_s'], result['median_s'])} |")
        lines.append(f"| {rows:,} | state after the full sync (lethe.sqlite, -wal, -shm) | {size / 1e6:.0f} MB | | | |")
        lines.append(f"| {rows:,} | e-mails, names, phones of the file found in the state | {len(leaks)} | | | |")
        for key, work_text, sqlite_key in (("pg_first", "PostgreSQL: sync, fresh state, default limits", "first"),
                                           ("pg_full", "PostgreSQL: sync, limits lifted", "full")):
            if key in results:
                result = results[key]
                times = result["median_s"] / results[sqlite_key]["median_s"]
                lines.append(f"| {rows:,} | {work_text} ({times:.1f}× SQLite's time) | {result['median_s']} s | {result['peak_rss_mib']} MiB | "
                             f"{ratio(py['median_s'], result['median_s'])} | {ratio(duck['median_s'], result['median_s'])} |")
        if "pg_size" in results:
            lines.append(f"| {rows:,} | PostgreSQL: database after the full sync | {results['pg_size'] / 1e6:.0f} MB | | | |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    if any(leaks for _, _, _, leaks in table):
        sys.exit("personal data found in the state")


if __name__ == "__main__":
    main()
