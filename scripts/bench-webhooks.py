#!/usr/bin/env python3
"""Webhook-triggered syncs: `lethe run` with the shipped HubSpot example against the fake HubSpot.

Usage: scripts/bench-webhooks.py LETHE_BINARY [CONTACTS] [EVENTS] [SCRAPERS]
Seeds CONTACTS contacts (half due for deletion), starts `lethe run`, then sends EVENTS signed
`contact.propertyChange` events (v3 signatures, 10 events per delivery, 8 deliveries in flight). Prints
the acknowledgement latency, the time until every event is processed (GET /api/status), the contacts
deleted, and the fake CRM's calls per event (no full sync runs: the schedule waits for 03:00).
Then the same load again on a fresh daemon and fake HubSpot while SCRAPERS threads (default 100, in a
process of their own so that they do not hold the deliveries' interpreter lock) scrape `/metrics` on
the main port in a tight loop (keep-alive, with the token): the acknowledgement latency without and
with them side by side, the scrapes completed per second and the answers other than 200. The
comparison also goes to `.lethe/bench/webhooks.md` as Markdown.
"""
import base64, hashlib, hmac, http.client, json, os, subprocess, sys, tempfile, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "Tests/FakeCRMs/fakecrm.py")
MARKDOWN = os.path.join(ROOT, ".lethe/bench/webhooks.md")
SECRET = "bench-webhook-secret"
PUBLIC = "https://lethe.bench.test"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef0123"
METRICS_TOKEN = "bench-metrics-token-0123456789abcdef0123"
IN_FLIGHT = 8


def scrape(port, threads):
    """The scrapers' process: THREADS keep-alive clients GET /metrics until a line arrives on stdin."""
    stop = threading.Event()
    counts = [[0, 0, 0] for _ in range(threads)]  # completed 200s, other answers, failed requests

    def loop(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            try:
                connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
                response = connection.getresponse()
                response.read()
                count[0 if response.status == 200 else 1] += 1
            except (OSError, http.client.HTTPException):
                count[2] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.close()

    workers = [threading.Thread(target=loop, args=(count,)) for count in counts]
    for worker in workers:
        worker.start()
    print("scraping", flush=True)
    sys.stdin.readline()  # the deliveries start: count from here
    started, cpu, before = time.time(), time.process_time(), sum(c[0] for c in counts)
    sys.stdin.readline()  # every delivery acknowledged
    elapsed, cpu, during = time.time() - started, time.process_time() - cpu, sum(c[0] for c in counts) - before
    stop.set()
    for worker in workers:
        worker.join()
    print(json.dumps(dict(ok=during, seconds=elapsed, cpu=cpu, other=sum(c[1] for c in counts),
                          failed=sum(c[2] for c in counts))), flush=True)


def cpu_seconds(pid):
    """User and system CPU time of a process so far (Linux; None elsewhere)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run(lethe, contacts, events, scrapers):
    """One fake HubSpot, one `lethe run` on a fresh state, EVENTS events; SCRAPERS scrapers meanwhile."""
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
               HUBSPOT_WEBHOOK_SECRET=SECRET, LETHE_HTTP_PORT="0", LETHE_PUBLIC_URL=PUBLIC, LETHE_ADMIN_TOKEN=ADMIN_TOKEN,
               LETHE_METRICS_TOKEN=METRICS_TOKEN, LETHE_MAX_DELETES_PER_RUN="1000000")
    env.pop("LETHE_METRICS_ADDRESS", None)  # /metrics on the main listener only
    daemon = subprocess.Popen([lethe, "run", "--config", os.path.join(ROOT, "config/examples/hubspot.yaml"), "-v"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for line in daemon.stderr:
        # Hummingbird logs its own "listening" lines too: only the daemon's line names the main port.
        if line.startswith("lethe run: listening on "):
            port = int(line[len("lethe run: listening on "):].split()[0].rsplit(":", 1)[1])
            break
    if port is None:
        fake.terminate()
        sys.exit(f"lethe run exited ({daemon.wait()}) without listening")
    threading.Thread(target=lambda: [None for _ in daemon.stderr], daemon=True).start()
    scraping = None
    if scrapers:
        scraping = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--scrape", str(port), str(scrapers)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        scraping.stdout.readline()
        time.sleep(1)  # the scrapers at full speed, the gauges' first refresh behind them
        scraping.stdin.write("go\n")
        scraping.stdin.flush()
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

    started, cpu = time.time(), cpu_seconds(daemon.pid)
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        list(pool.map(deliver, [range(i, min(i + 10, events)) for i in range(0, events, 10)]))
    acknowledged = time.time() - started
    daemon_cpu = cpu_seconds(daemon.pid) - cpu if cpu is not None else None
    scraped = None
    if scraping:
        scraping.stdin.write("stop\n")
        scraping.stdin.flush()
        scraped = json.loads(scraping.stdout.readline())
        scraping.wait(timeout=60)
    status = {}
    while time.time() - started < 600:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
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
    fake.wait(timeout=30)
    latencies.sort()
    return dict(latencies=latencies, acknowledged=acknowledged, processed=processed, deleted=deleted, stats=stats,
                exit=daemon.returncode, scraped=scraped, cpu=daemon_cpu)


def percentile(latencies, fraction):
    return latencies[min(len(latencies) - 1, int(len(latencies) * fraction))] * 1000


def cpu_text(seconds):
    return "" if seconds is None else f"{seconds:.2f} s"


def main():
    if sys.argv[1:2] == ["--scrape"]:
        return scrape(int(sys.argv[2]), int(sys.argv[3]))
    lethe = os.path.abspath(sys.argv[1])
    contacts = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    events = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    scrapers = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    quiet = run(lethe, contacts, events, 0)
    latencies, stats = quiet["latencies"], quiet["stats"]
    print(f"webhooks: {events} events in {len(latencies)} deliveries to {contacts} contacts; acknowledged in {quiet['acknowledged']:.1f} s "
          f"(p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms); "
          f"all processed after {quiet['processed']:.1f} s ({events / quiet['processed']:.0f} events/s); deleted {quiet['deleted']}; "
          f"{stats['requests']} CRM requests ({stats['requests'] / events:.3f} per event); daemon exit {quiet['exit']}")
    for route, calls in sorted(stats["by_route"].items()):
        print(f"    {calls:6d}  {route}")
    if not scrapers:
        return
    busy = run(lethe, contacts, events, scrapers)
    scraped = busy["scraped"]
    rate = scraped["ok"] / scraped["seconds"]
    refused = scraped["other"] + scraped["failed"]
    print(f"webhooks under {scrapers} /metrics scrapers: the same load on a fresh daemon; acknowledged in {busy['acknowledged']:.1f} s; "
          f"{scraped['ok']} scrapes meanwhile ({rate:.0f}/s; the scrapers' process used {scraped['cpu']:.1f} s of CPU); "
          f"{scraped['other']} answers other than 200, "
          f"{scraped['failed']} failed requests; all processed after {busy['processed']:.1f} s; deleted {busy['deleted']}; daemon exit {busy['exit']}")
    rows = [("acknowledgement p50", f"{percentile(latencies, 0.5):.0f} ms", f"{percentile(busy['latencies'], 0.5):.0f} ms"),
            ("acknowledgement p95", f"{percentile(latencies, 0.95):.0f} ms", f"{percentile(busy['latencies'], 0.95):.0f} ms"),
            ("acknowledgement p99", f"{percentile(latencies, 0.99):.0f} ms", f"{percentile(busy['latencies'], 0.99):.0f} ms"),
            ("acknowledgement max", f"{latencies[-1] * 1000:.0f} ms", f"{busy['latencies'][-1] * 1000:.0f} ms"),
            ("all acknowledged after", f"{quiet['acknowledged']:.1f} s", f"{busy['acknowledged']:.1f} s"),
            ("CPU of `lethe run` while acknowledging", cpu_text(quiet["cpu"]), cpu_text(busy["cpu"])),
            ("/metrics scrapes completed per second", "", f"{rate:.0f}"),
            ("/metrics answers other than 200 (failed requests included)", "", f"{refused}")]
    print(f"    {'':58s}  {'no scrapers':>12s}  {f'{scrapers} scrapers':>12s}")
    for name, without, with_scrapers in rows:
        print(f"    {name:58s}  {without:>12s}  {with_scrapers:>12s}")
    lines = [f"| {events} events, {len(latencies)} deliveries, {IN_FLIGHT} in flight | no scrapers | {scrapers} `/metrics` scrapers |",
             "|---|---|---|"] + [f"| {name} | {without} | {with_scrapers} |" for name, without, with_scrapers in rows]
    os.makedirs(os.path.dirname(MARKDOWN), exist_ok=True)
    with open(MARKDOWN, "w", encoding="utf-8") as markdown:
        markdown.write("\n".join(lines) + "\n")
    if refused:
        sys.exit(f"{refused} /metrics scrapes were not answered 200")


if __name__ == "__main__":
    main()
