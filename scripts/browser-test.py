#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium, driven over the DevTools protocol (a pipe, stdlib only).

A fixture like `make demo` (the example CSV synced at a fixed --as-of, its deletes waiting in an approval
batch, one legal hold), two operators and the four-eyes rule for every batch (`approval.twoPersonAbove: 1`);
`lethe run` on a free port. Every page (/, /approvals, /holds, /dead, /audit, /quarantine, /whatif) in Korean
and English: the numbers on the page against `lethe status --json`, no e-mail address of the CSV anywhere, a
desktop (1280 px) and a phone (390 px) screenshot in .lethe/browser-test/. The what-if form compares
policies/kr-marketing-5y.yaml: its counts equal `lethe plan --policy … --json` and the state is unchanged. Then: sign in as the first
operator, approve ("1 of 2"), sign out, sign in as the second, approve (the batch is released), lift the
hold. Exit 0 when every check passed, 1 on the first failed check, 0 with a SKIP line when no Chromium
can be had (the line says how to install it).

    python3 scripts/browser-test.py        # after `swift build` (uses .build/debug/lethe)
"""
import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, ".lethe", "browser-test")
AS_OF = "2026-11-29T09:00:00+09:00"
ADMIN_TOKEN = "browser-test-admin-token-0123456789abcdef"
OPERATORS = [("kim.privacy", "browser-test-operator-one-0123456789abcdef"),
             ("lee.security", "browser-test-operator-two-0123456789abcdef")]
PAGES = ["/", "/approvals", "/holds", "/dead", "/audit", "/quarantine", "/whatif"]
WHATIF_POLICY = "policies/kr-marketing-5y.yaml"  # compared with the current kr-pipa on /whatif
HOLD_ID = "C001283"
BUDGET = 90  # seconds for the whole run once Chromium is there; every wait is bounded by it too
DEADLINE = time.monotonic() + BUDGET
INSTALL = "apt-get install -y chromium fonts-noto-cjk"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def remaining(limit):
    left = DEADLINE - time.monotonic()
    if left <= 0:
        raise Failure("the browser test ran out of its time budget")
    return min(limit, left)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium():
    path = find_chromium()
    if path or os.geteuid() != 0 or not shutil.which("apt-get"):
        return path
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("browser-test: installing chromium and fonts-noto-cjk", file=sys.stderr)
    for attempt in (["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"],
                    ["sh", "-c", "apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk"]):
        if subprocess.run(attempt, env=env, stdout=sys.stderr).returncode == 0:
            break
    return find_chromium()


def high(fd):
    """`fd` moved to a number above 9 (close-on-exec, like the original)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    """Chromium with --remote-debugging-pipe: JSON messages separated by NUL on fds 3 (in) and 4 (out)."""

    def __init__(self, binary, profile):
        # Above 4, so that moving them to 3 and 4 in the child never meets one already there.
        to_child_r, self._to_child = (high(fd) for fd in os.pipe())
        self._from_child, from_child_w = (high(fd) for fd in os.pipe())

        def wire():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        args = [binary, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--disable-crash-reporter", "--disable-breakpad", "--disable-background-networking", "--disable-sync",
                "--hide-scrollbars", "--mute-audio", "--force-color-profile=srgb", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.process = subprocess.Popen(args, preexec_fn=wire, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self._next = 0
        self._answers = {}
        self._loads = 0
        self._cond = threading.Condition()
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._cond:
                    if "id" in message:
                        self._answers[message["id"]] = message
                    elif message.get("method") == "Page.loadEventFired":
                        self._loads += 1
                    self._cond.notify_all()

    def call(self, method, session=False, timeout=30, **params):
        with self._cond:
            self._next += 1
            ident = self._next
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        end = time.monotonic() + remaining(timeout)
        with self._cond:
            while ident not in self._answers:
                check(not self._closed, f"Chromium exited during {method}")
                left = end - time.monotonic()
                check(left > 0, f"no answer from Chromium to {method} within {timeout} s")
                self._cond.wait(left)
            answer = self._answers.pop(ident)
        check("error" not in answer, f"{method}: {answer.get('error')}")
        return answer.get("result", {})

    def _until_load(self, before, what, timeout=30):
        end = time.monotonic() + remaining(timeout)
        with self._cond:
            while self._loads <= before:
                check(not self._closed, f"Chromium exited while loading {what}")
                left = end - time.monotonic()
                check(left > 0, f"{what} did not finish loading within {timeout} s")
                self._cond.wait(left)

    def open(self, url):
        with self._cond:
            before = self._loads
        result = self.call("Page.navigate", session=True, url=url)
        check(not result.get("errorText"), f"{url}: {result.get('errorText')}")
        self._until_load(before, url)

    def submit(self, expression, what):
        """Runs `expression` (which submits a form) and waits for the page the answer leads to."""
        with self._cond:
            before = self._loads
        self.js(expression)
        self._until_load(before, what)

    def js(self, expression):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        check("exceptionDetails" not in result, f"script failed: {expression[:80]}: {result.get('exceptionDetails')}")
        return result["result"].get("value")

    def viewport(self, width, mobile):
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=900 if not mobile else 844,
                  deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path):
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1})
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            if self.process.poll() is None:
                try:
                    self.call("Browser.close", timeout=5)
                except Exception:
                    pass
                try:
                    self.process.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            try:  # its helpers (zygote, renderers) share its process group
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for fd in (self._to_child, self._from_child):
                try:
                    os.close(fd)
                except OSError:
                    pass


def lethe(binary, env, *args, expect=(0,)):
    done = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=remaining(60))
    check(done.returncode in expect, f"lethe {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return done.stdout


def status(binary, env, config):
    return json.loads(lethe(binary, env, "status", "--config", config, "--as-of", AS_OF, "--json").strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def number(text):
    digits = re.sub(r"\D", "", text or "")
    check(digits != "", f"no number in {text!r}")
    return int(digits)


def main():
    binary = os.path.join(ROOT, ".build", "debug", "lethe")
    if not os.access(binary, os.X_OK):
        print("browser-test: FAILED: .build/debug/lethe is missing; run `swift build` first", file=sys.stderr)
        return 1
    chromium = ensure_chromium()
    if not chromium:
        print(f"SKIP browser test: no Chromium found; install it with `{INSTALL}` (as root) "
              "and run `python3 scripts/browser-test.py`", flush=True)
        return 0

    global DEADLINE
    DEADLINE = time.monotonic() + BUDGET
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".png"):
            os.remove(os.path.join(OUT, old))
    work = tempfile.mkdtemp(prefix="lethe-browser-")
    daemon = browser = None
    try:
        # The fixture: the embedded default config with two operators and the four-eyes rule.
        config_dir = os.path.join(work, "config")
        shutil.copytree(os.path.join(ROOT, "config"), config_dir)
        config = os.path.join(config_dir, "lethe.yaml")
        with open(config, "a", encoding="utf-8") as file:
            file.write("\noperators:\n")
            for name, token in OPERATORS:
                file.write(f"  - name: {name}\n    tokenHash: sha256:{hashlib.sha256(token.encode()).hexdigest()}\n")
            file.write("approval:\n  twoPersonAbove: 1\n")
        csv_path = os.path.join(work, "contacts.csv")
        shutil.copy(os.path.join(ROOT, "config", "examples", "contacts.csv"), csv_path)
        with open(csv_path, encoding="utf-8") as file:
            emails = set(re.findall(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", file.read()))
        check(len(emails) > 100, "the example CSV has no e-mail addresses to look for")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LETHE_")}
        env.update(LETHE_STATE_DIR=os.path.join(work, "state"), LETHE_CSV_PATH=csv_path)
        lethe(binary, env, "sync", "--config", config, "--as-of", AS_OF, expect=(0, 3))
        lethe(binary, env, "hold", "add", "--config", config, "--as-of", AS_OF, "--connector", "contacts", HOLD_ID,
              "--reason", "CASE-2026-041", "--by", "legal")
        before = status(binary, env, config)
        batches = before["openApprovalBatches"]
        check(len(batches) == 1, f"the fixture should hold one approval batch, status shows {len(batches)}")
        check(before["holds"] == 1, f"the fixture should have one hold, status shows {before['holds']}")
        batch = batches[0]["id"]

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        daemon_env = dict(env, LETHE_ADMIN_TOKEN=ADMIN_TOKEN, LETHE_HTTP_HOST="127.0.0.1", LETHE_HTTP_PORT=str(port))
        log = open(os.path.join(work, "daemon.log"), "w")
        daemon = subprocess.Popen([binary, "run", "--config", config, "--as-of", AS_OF, "-v"], env=daemon_env,
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        end = time.monotonic() + remaining(30)
        while True:
            check(daemon.poll() is None, f"lethe run exited {daemon.returncode}; its log: {work}/daemon.log")
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            check(time.monotonic() < end, "lethe run was not ready within 30 s")
            time.sleep(0.2)

        browser = Browser(chromium, os.path.join(work, "profile"))

        def no_personal_data(where):
            html = browser.js("document.documentElement.outerHTML")
            found = [e for e in emails if e in html]
            check(not found, f"{where} shows e-mail addresses of the CSV ({len(found)}, e.g. {found[0] if found else ''})")

        def sign_in(token, who):
            browser.open(base + "/signin?lang=en")
            check(browser.js("!!document.getElementById('token')"), "/signin has no token field")
            browser.submit("document.getElementById('token').value = " + json.dumps(token) +
                           "; document.querySelector('form[action=\"/signin\"]').submit()", "the sign-in")
            footer = browser.js("document.querySelector('footer') ? document.querySelector('footer').innerText : ''")
            check(who in footer, f"after signing in as {who} the footer says {footer!r}")

        def sign_out():
            browser.submit("document.querySelector('form[action=\"/signout\"] button').click()", "the sign-out")
            browser.open(base + "/approvals?lang=en")
            check(browser.js("!!document.getElementById('token')"), "after signing out /approvals is not the sign-in page")
            check(not browser.js("!!document.querySelector('form[action$=\"/approve\"]')"), "signed out, /approvals still shows batches")

        # Anonymous: the sign-in page, nothing from the state.
        browser.viewport(1280, False)
        browser.open(base + "/?lang=en")
        check(browser.js("!!document.getElementById('token')"), "anonymous / is not the sign-in page")
        check(not browser.js("!!document.querySelector('[data-card]')"), "anonymous / shows the summary cards")
        browser.screenshot(os.path.join(OUT, "signin-desktop.png"))

        sign_in(OPERATORS[0][1], OPERATORS[0][0])
        for lang in ("ko", "en"):
            for page in PAGES:
                name = (page.strip("/") or "overview") + "-" + lang
                for width, mobile, suffix in ((1280, False, "desktop"), (390, True, "phone")):
                    browser.viewport(width, mobile)
                    audit_before = None if mobile else status(binary, env, config)["auditEntries"]
                    browser.open(f"{base}{page}?lang={lang}")
                    check(browser.js("document.documentElement.lang") == lang, f"{page}?lang={lang} is not in {lang}")
                    check(not browser.js("!!document.getElementById('token')"), f"{page} asks to sign in again")
                    wide = browser.js("document.documentElement.scrollWidth")
                    check(wide <= width, f"{page}?lang={lang} is {wide} px wide in a {width} px window (scrolls sideways)")
                    if not mobile:
                        verify(browser, page, status(binary, env, config), audit_before)
                        no_personal_data(f"{page}?lang={lang}")
                    browser.screenshot(os.path.join(OUT, f"{name}-{suffix}.png"))
        browser.viewport(1280, False)

        # The what-if page: a policy file of the configuration's folder, the numbers of `lethe plan --policy`.
        plan = json.loads(lethe(binary, env, "plan", "--config", config, "--as-of", AS_OF, "--policy",
                                os.path.join(config_dir, WHATIF_POLICY), "--horizon", "90d", "--json").strip().splitlines()[-1])
        before_whatif = status(binary, env, config)
        for lang in ("en", "ko"):
            for width, mobile, suffix in ((1280, False, "desktop"), (390, True, "phone")):
                browser.viewport(width, mobile)
                browser.open(f"{base}/whatif?lang={lang}")
                browser.submit("(f => { f.querySelector('[name=file]').value = " + json.dumps(WHATIF_POLICY) +
                               "; f.querySelector('[name=horizon]').value = '90d'; f.querySelector('button[type=submit]').click() })"
                               "(document.querySelector('form[action=\"/whatif\"]'))", "the what-if comparison")
                shown = browser.js("Object.fromEntries([...document.querySelectorAll('td[data-connector][data-change]')]"
                                   ".map(e => [e.dataset.connector + '/' + e.dataset.change, e.textContent]))")
                expected = {f"{r['connector']}/{change}": n for r in plan["connectors"] for change, n in r["changes"].items()}
                check({k: number(v) for k, v in shown.items()} == expected,
                      f"/whatif ({lang}) shows {shown}, lethe plan --policy {WHATIF_POLICY} --json {expected}")
                check(sum(expected.values()) > sum(n for k, n in expected.items() if k.endswith("/same")),
                      f"{WHATIF_POLICY} changes nothing on the fixture: {expected}")
                wide = browser.js("document.documentElement.scrollWidth")
                check(wide <= width, f"/whatif result ({lang}) is {wide} px wide in a {width} px window (scrolls sideways)")
                no_personal_data(f"/whatif result ({lang})")
                browser.screenshot(os.path.join(OUT, f"whatif-result-{lang}-{suffix}.png"))
        check(status(binary, env, config) == before_whatif, "a what-if comparison changed the state")
        browser.viewport(1280, False)

        # Four eyes: the first approval is recorded, the second (another operator) releases the batch.
        approve = f"document.querySelector('form[action=\"/approvals/{batch}/approve\"] button').click()"
        browser.open(base + "/approvals?lang=en")
        browser.submit(approve, "the first approval")
        check("done=signed" in browser.js("location.search"), f"the first approval led to {browser.js('location.href')}")
        text = browser.js("document.body.innerText")
        check(f"approved by {OPERATORS[0][0]} (1 of 2)" in text, "/approvals does not show 'approved by kim.privacy (1 of 2)'")
        check(len(status(binary, env, config)["openApprovalBatches"]) == 1, "one approval of two released the batch")
        browser.submit(approve, "the same operator's second approval")
        check("error=same_operator" in browser.js("location.search"), "the same operator could approve twice")
        browser.screenshot(os.path.join(OUT, "approvals-signed-desktop.png"))
        sign_out()
        sign_in(OPERATORS[1][1], OPERATORS[1][0])
        browser.open(base + "/approvals?lang=en")
        browser.submit(approve, "the second approval")
        check("done=approved" in browser.js("location.search"), f"the second approval led to {browser.js('location.href')}")
        after = status(binary, env, config)
        check(after["openApprovalBatches"] == [], f"after two approvals status still shows open batches: {after['openApprovalBatches']}")
        check(not browser.js(f"!!document.querySelector('form[action=\"/approvals/{batch}/approve\"]')"),
              "the released batch can still be approved")
        browser.screenshot(os.path.join(OUT, "approvals-released-desktop.png"))

        # The hold: lifted by its reference.
        browser.open(base + "/holds?lang=en")
        check(browser.js("document.querySelectorAll('form[action=\"/holds/lift\"]').length") == 1, "/holds does not list the hold")
        browser.submit("(f => { f.querySelector('[name=reason]').value = 'CASE-2026-041 closed'; f.querySelector('button').click() })"
                       "(document.querySelector('form[action=\"/holds/lift\"]'))", "lifting the hold")
        check("done=lifted" in browser.js("location.search"), f"lifting led to {browser.js('location.href')}")
        check(status(binary, env, config)["holds"] == 0, "after lifting, status still shows a hold")
        check(browser.js("document.querySelectorAll('form[action=\"/holds/lift\"]').length") == 0, "/holds still lists the lifted hold")
        browser.open(base + "/?lang=en")
        verify(browser, "/", status(binary, env, config), None)
        no_personal_data("/ after the actions")
        print(f"browser test: passed: {len(PAGES)} pages in ko and en checked against `lethe status --json`, "
              f"the what-if page against `lethe plan --policy`, two-operator approval and hold lifting done in Chromium; "
              f"{len([f for f in os.listdir(OUT) if f.endswith('.png')])} screenshots in {OUT}/")
        return 0
    except Failure as failure:
        print(f"browser test: FAILED: {failure} (screenshots so far and the daemon's log in {OUT}/)", file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.close()
        if daemon and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait(5)
        if os.path.exists(os.path.join(work, "daemon.log")):
            shutil.copy(os.path.join(work, "daemon.log"), os.path.join(OUT, "daemon.log"))
        shutil.rmtree(work, ignore_errors=True)


def verify(browser, page, state, audit_before):
    """The page's numbers against `lethe status --json` taken just before (audit: between two readings)."""
    if page == "/":
        cards = browser.js("Object.fromEntries([...document.querySelectorAll('[data-card]')].map(e => [e.dataset.card, e.textContent]))")
        check(number(cards.get("approvals")) == len(state["openApprovalBatches"]),
              f"/ shows {cards.get('approvals')} open batches, status {len(state['openApprovalBatches'])}")
        check(number(cards.get("holds")) == state["holds"], f"/ shows {cards.get('holds')} holds, status {state['holds']}")
        check(number(cards.get("dead")) == state["deadOperations"], f"/ shows {cards.get('dead')} dead operations, status {state['deadOperations']}")
        if audit_before is not None:
            audit = number(cards.get("audit"))
            check(audit_before <= audit <= state["auditEntries"],
                  f"/ shows {audit} audit entries, status {audit_before}..{state['auditEntries']}")
        cells = browser.js("[...document.querySelectorAll('td[data-connector][data-state]')].map(e => [e.dataset.connector, e.dataset.state, e.textContent])")
        shown = {(c, s): number(t) for c, s, t in cells}
        expected = {(c, s): n for c, states in state["records"].items() for s, n in states.items()}
        check({k: v for k, v in shown.items() if v} == {k: v for k, v in expected.items() if v},
              f"/ records by state {shown} differ from status {expected}")
    elif page == "/approvals":
        forms = browser.js("document.querySelectorAll('form[action$=\"/approve\"]').length")
        check(forms == len(state["openApprovalBatches"]), f"/approvals offers {forms} batches to approve, status has {len(state['openApprovalBatches'])} open")
        for batch in state["openApprovalBatches"]:
            row = browser.js(f"(f => f ? f.closest('tr').innerText : '')(document.querySelector('form[action=\"/approvals/{batch['id']}/approve\"]'))")
            check(re.search(rf"(^|\D){batch['operationCount']}(\D|$)", row.replace(",", "")),
                  f"/approvals row of {batch['id']} does not show its {batch['operationCount']} operations: {row[:200]!r}")
    elif page == "/holds":
        rows = browser.js("document.querySelectorAll('form[action=\"/holds/lift\"]').length")
        check(rows == state["holds"], f"/holds lists {rows} holds, status {state['holds']}")
    elif page == "/dead":
        rows = browser.js("document.querySelectorAll('form[action=\"/dead/retry\"] input[name=id]').length")
        check(rows == state["deadOperations"], f"/dead lists {rows} operations, status {state['deadOperations']}")
    elif page == "/audit":
        rows = browser.js("document.querySelectorAll('main tbody tr').length")
        check(rows == min(100, state["auditEntries"]), f"/audit lists {rows} entries, expected {min(100, state['auditEntries'])}")
    elif page == "/quarantine":
        rows = browser.js("document.querySelectorAll('main tbody tr').length")
        quarantined = sum(states.get("quarantined", 0) for states in state["records"].values())
        check(rows >= quarantined > 0, f"/quarantine lists {rows} rows for {quarantined} quarantined records")


if __name__ == "__main__":
    sys.exit(main())
