#!/usr/bin/env python3
"""HTTP calls per deleted record: `lethe sync` on each shipped REST manifest against its fake CRM.

Usage: scripts/bench-rest.py LETHE_BINARY [RECORDS] [extra fakecrm flags…]
Seeds RECORDS contacts (half due for deletion, a fifth erased), runs one sync per provider and prints
the fake's request counts by route, the wall time, and the calls per deleted record.
"""
import json, os, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "Tests/FakeCRMs/fakecrm.py")
PIPEDRIVE_KEYS = {
    "PIPEDRIVE_FIELD_PURPOSE": "cc35be25ec2b9702c1f883bcb1e5ee7255aa8a58",
    "PIPEDRIVE_FIELD_MARKETING_CONSENT": "52628b6bab956f26190a1ecae501b7f385363913",
    "PIPEDRIVE_FIELD_INTERESTS": "48263d97b2f52983e656de70bc08b46fd8f7b792",
    "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT": "a6c2db92912f8dce6b72e679c5db94311e54d081",
}


def seed(count):
    records = []
    for i in range(count):
        kind = i % 10
        if kind < 5:    # due: payment 5 years ago
            records.append(dict(created="2020-06-01T00:00:00Z", purpose=["payment"]))
        elif kind < 7:  # marketing expired, payment keeps: erase
            records.append(dict(created="2023-06-01T00:00:00Z", purpose=["payment", "marketing"], marketing_consent=True, interests="golf"))
        else:           # kept
            records.append(dict(created="2024-03-01T00:00:00Z", purpose=["payment"]))
        records[-1].update(updated="2025-01-01T00:00:00Z", email=f"p{i}@example.com", firstname="민준", lastname="김")
    return records


def main():
    lethe = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    extra = sys.argv[3:]
    folder = tempfile.mkdtemp(prefix="lethe-bench-rest-")
    data = os.path.join(folder, "seed.json")
    json.dump(seed(count), open(data, "w"))
    for provider in ["hubspot", "salesforce", "pipedrive"]:
        fake = subprocess.Popen([sys.executable, FAKE, "--provider", provider, "--port", "0", "--data", data, "--token", "bench-token"] + extra,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = int(fake.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, LETHE_STATE_DIR=os.path.join(folder, provider), LETHE_MAX_DELETE_FRACTION="1", LETHE_MAX_DELETES_PER_RUN="1000000")
        env.update({"hubspot": {"HUBSPOT_BASE_URL": base, "HUBSPOT_TOKEN": "bench-token"},
                    "salesforce": {"SALESFORCE_INSTANCE_URL": base, "SALESFORCE_ACCESS_TOKEN": "bench-token"},
                    "pipedrive": dict(PIPEDRIVE_KEYS, PIPEDRIVE_BASE_URL=base, PIPEDRIVE_API_TOKEN="bench-token")}[provider])
        started = time.time()
        result = subprocess.run([lethe, "sync", "--config", os.path.join(ROOT, f"config/examples/{provider}.yaml"),
                                 "--as-of", "2026-11-29T09:00:00+09:00", "--json"], env=env, capture_output=True, text=True)
        elapsed = time.time() - started
        summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}
        stats = json.load(urllib.request.urlopen(base + "/_fake/stats"))
        fake.stdin.close()
        fake.terminate()
        fake.wait(timeout=10)
        deleted = summary.get("deleted", 0)
        updates = sum(calls for route, calls in stats["by_route"].items() if route.startswith(("PATCH", "PUT")))
        print(f"{provider}: {count} records, deleted {deleted}, erased {summary.get('fieldsErased')}, failed {summary.get('failed')}, "
              f"exit {result.returncode}, {elapsed:.1f} s, {stats['requests']} requests, of which {updates} updates; "
              f"{(stats['requests'] - updates) / max(deleted, 1):.3f} other requests per deleted record "
              f"(rate-limited {stats['rate_limited']}, 5xx {stats['failed_5xx']})")
        for route, calls in sorted(stats["by_route"].items()):
            print(f"    {calls:6d}  {route}")


if __name__ == "__main__":
    main()
