#!/usr/bin/env python3
"""Check that both peers and `lethe sync --dry-run` agree on the due counts of one generated CSV.

    python3 scripts/bench/check_counts.py .build/debug/lethe [--rows 20000] [--seed S] [--csv FILE]

Generates ROWS rows with scripts/bench/generate.py (or reads --csv), then runs peer_python.py,
peer_duckdb.py and `lethe sync --dry-run --json --as-of 2026-11-29T09:00:00+09:00` (what is due now:
it reads, evaluates and writes nothing) with the default config/lethe.yaml, LETHE_STATE_DIR=<a temp
dir>, LETHE_CSV_PATH=<the csv> and no delete limit. Prints the three count sets and exits 1 if they differ.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

AS_OF = "2026-11-29T09:00:00+09:00"
KINDS = ("delete", "erase-fields", "notify", "quarantined")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def last_json(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lethe", help="the lethe binary")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--csv", help="an existing CSV instead of a generated one")
    args = parser.parse_args()
    lethe = str(Path(args.lethe).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = args.csv or os.path.join(tmp, "contacts.csv")
        if not args.csv:
            subprocess.run([sys.executable, HERE / "generate.py", str(args.rows), csv_path, "--seed", str(args.seed)], check=True)
        results = {
            "python": last_json([sys.executable, HERE / "peer_python.py", csv_path, os.path.join(tmp, "peer.sqlite"), AS_OF]),
            "duckdb": last_json([sys.executable, HERE / "peer_duckdb.py", csv_path, AS_OF]),
        }
        state = os.path.join(tmp, "state")
        os.mkdir(state)
        env = dict(os.environ, LETHE_STATE_DIR=state, LETHE_CSV_PATH=os.path.abspath(csv_path))
        env.update(LETHE_MAX_DELETES_PER_RUN="1000000000", LETHE_MAX_DELETE_FRACTION="1")
        dry = last_json([lethe, "sync", "--dry-run", "--json", "--as-of", AS_OF,
                         "--config", str(ROOT / "config/lethe.yaml")], env=env, cwd=ROOT)
        extra = {k: dry[k] for k in ("extended", "archived", "awaitingApproval", "gone", "failed") if dry.get(k)}
        results["lethe"] = {"delete": dry["deleted"], "erase-fields": dry["fieldsErased"], "notify": dry["noticesSent"],
                            "quarantined": dry["quarantined"]}
    for name, result in results.items():
        print(f"{name:>7}: {json.dumps(result)}")
    if extra:
        print(f"lethe also counts {extra}")
    agree = not extra and results["python"] == results["duckdb"] == results["lethe"]
    print("counts agree" if agree else "COUNTS DIFFER")
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
