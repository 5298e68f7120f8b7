#!/usr/bin/env python3
"""Run a command several times; print one JSON line with its median wall time and peak RSS.

    python3 scripts/bench/timeit.py [-n 5] [--before 'rm -f state.sqlite'] [--label NAME] -- CMD ARG...

--before is a shell command run (untimed) before every run; --ok lists the exit codes that count as
success (default 0). The command's stdout is discarded
except the last run's last line, reported as "output". Peak RSS is the largest over the runs, of the
command and the children it waited for (os.wait4). Exits non-zero if any run fails.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5)
    parser.add_argument("--before", help="shell command run before every run, untimed")
    parser.add_argument("--label", default="")
    parser.add_argument("--ok", default="0", help="exit codes that count as success (comma-separated)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    times, peak, last = [], 0, ""
    for _ in range(args.runs):
        if args.before:
            subprocess.run(args.before, shell=True, check=True)
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.PIPE)
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - start)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in {int(code) for code in args.ok.split(",")}:
            sys.exit(f"{command[0]} failed: exit {child.returncode}")
        peak = max(peak, usage.ru_maxrss)  # KiB on Linux
        last = (output.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    print(json.dumps({"label": args.label or " ".join(command)[:80], "runs": args.runs,
                      "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
                      "peak_rss_mib": round(peak / 1024, 1), "output": last[:300]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
