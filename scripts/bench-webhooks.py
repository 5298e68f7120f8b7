#!/usr/bin/env python3
"""Webhook-triggered syncs: `lethe run` with the shipped HubSpot example against the fake HubSpot.

Usage: scripts/bench-webhooks.py LETHE_BINARY [CONTACTS] [EVENTS]
Seeds CONTACTS contacts (half due for deletion), starts `lethe run`, then sends EVENTS signed
`contact.propertyChange` events (v3 signatures, 10 events per delivery, 8 deliveries in flight). Prints
the acknowledgement latency, the time until every event is processed (GET /api/status), the contacts
deleted, and the fake CRM's calls per event (no full sync runs: the schedule waits for 03:00).
"""
import base64, hashlib, hmac, json, os, subprocess, sys, tempfile, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "Tests/FakeCRMs/fakecrm.py")
SECRET = "bench-webhook-secret"
PUBLIC = "https://lethe.bench.test"


def main():
    lethe = os.path.abspath(sys.argv[1])
    contacts = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    events = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    folder = tempfile.mkdtemp(prefix="lethe-bench-webhooks-")
    seed = [dict(created="2019-06-01T00:00:00Z" if i % 2 == 0 else "2025-06-01T00:00:00Z", purpose=["payment"],
                 updated="2025-07-01T00:00:00Z", email=f"w{i}@example.com") for i in range(contacts)]
    data = os.path.join(folder, "seed.json")
    json.dump(seed, open(data, "w"))
    fake = subprocess.Popen([sys.executable, FAKE, "--provider", "hubspot", "--port", "0", "--data", data, "--token", "bench-token"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = f"http://127.0.0.1:{int(fake.stdout.readline().split()[1])}"
    ids = [r["provider_id"] for r in json.load(urllib.request.urlopen(base + "/_fake/records"))]
    env = dict(os.environ, LETHE_STATE_DIR=os.path.join(folder, "state"), HUBSPOT_BASE_URL=base, HUBSPOT_TOKEN="bench-token",
               HUBSPOT_WEBHOOK_SECRET=SECRET, LETHE_HTTP_PORT="0", LETHE_PUBLIC_URL=PUBLIC, LETHE_ADMIN_TOKEN="bench-admin-token-0123456789abcdef0123",
               LETHE_MAX_DELETES_PER_RUN="1000000")
    daemon = subprocess.Popen([lethe, "run", "--config", os.path.join(ROOT, "config/examples/hubspot.yaml"), "-v"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for line in daemon.stderr:
        if "listening on" in line:
            port = int(line.split("127.0.0.1:")[1].split()[0].strip(" ,\"'"))
            break
    threading.Thread(target=lambda: [None for _ in daemon.stderr], daemon=True).start()
    latencies = []
    lock = threading.Lock()

    def deliver(batch):
        now = str(int(time.time() * 1000))
        body = json.dumps([{"eventId": 500000 + n, "subscriptionId": 1, "portalId": 62515, "appId": 7, "occurredAt": int(now),
                            "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": int(ids[n % len(ids)]),
                            "propertyName": "email", "propertyValue": "x"} for n in batch]).encode()
        path = "/webhooks/hubspot"
        signature = base64.b64encode(hmac.new(SECRET.encode(), b"POST" + (PUBLIC + path).encode() + body + now.encode(), hashlib.sha256).digest()).decode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": now})
        started = time.time()
        urllib.request.urlopen(request).read()
        with lock:
            latencies.append(time.time() - started)

    started = time.time()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(deliver, [range(i, min(i + 10, events)) for i in range(0, events, 10)]))
    acknowledged = time.time() - started
    status = {}
    while time.time() - started < 600:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": "Bearer bench-admin-token-0123456789abcdef0123"})
        status = json.load(urllib.request.urlopen(request))
        if sum(status.get("pendingWebhookEvents", {}).values()) == 0:
            break
        time.sleep(0.2)
    processed = time.time() - started
    stats = json.load(urllib.request.urlopen(base + "/_fake/stats"))
    deleted = sum(1 for r in json.load(urllib.request.urlopen(base + "/_fake/records")) if r["deleted"])
    daemon.terminate()
    daemon.wait(timeout=30)
    fake.stdin.close()
    fake.terminate()
    latencies.sort()
    print(f"webhooks: {events} events in {len(latencies)} deliveries to {contacts} contacts; acknowledged in {acknowledged:.1f} s "
          f"(p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms); "
          f"all processed after {processed:.1f} s ({events / processed:.0f} events/s); deleted {deleted}; "
          f"{stats['requests']} CRM requests ({stats['requests'] / events:.3f} per event); daemon exit {daemon.returncode}")
    for route, calls in sorted(stats["by_route"].items()):
        print(f"    {calls:6d}  {route}")


if __name__ == "__main__":
    main()
