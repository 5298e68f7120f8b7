#!/usr/bin/env python3
"""Local fake CRMs (HubSpot CRM v3 contacts, Salesforce REST v60.0 Contact, Pipedrive v1 and v2 persons) for
Lethe's tests. Stdlib only. See README.md next to this file for routes, flags and the control API.

    python3 fakecrm.py --provider hubspot|salesforce|pipedrive --port 0 --data seed.json [options]

Prints `LISTENING <port>` once ready; exits on SIGTERM/SIGINT or when stdin reaches EOF.
"""
import argparse
import base64
import csv
import hashlib
import hmac
import io
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

UTC = timezone.utc
NEUTRAL_FIELDS = ["id", "created", "updated", "email", "firstname", "lastname", "purpose",
                  "marketing_consent", "interests", "consent_extended_at"]

# Pipedrive custom field keys (fixed; sha1 of "lethe-fakecrm/<name>") and option ids.
PD_KEY_PURPOSE = "cc35be25ec2b9702c1f883bcb1e5ee7255aa8a58"
PD_KEY_CONSENT = "52628b6bab956f26190a1ecae501b7f385363913"
PD_KEY_INTERESTS = "48263d97b2f52983e656de70bc08b46fd8f7b792"
PD_KEY_EXTENDED = "a6c2db92912f8dce6b72e679c5db94311e54d081"
PD_PURPOSE_OPTIONS = {"payment": 12, "dispute": 13, "marketing": 14}   # unknown seed labels get 15, 16, ...
PD_CONSENT_OPTIONS = {"Yes": 21, "No": 22}


# ---------------------------------------------------------------------------------------------- time
def parse_time(value):
    """ISO-8601 (Z, +09:00, +0900, optional fraction), `YYYY-MM-DD[ HH:MM:SS]`, or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"-?\d{10,}", value)):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    s = str(value).strip()
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?"
                     r"(Z|[+-]\d\d:?\d\d)?", s)
    if not m:
        raise ValueError(f"bad date/time {value!r}")
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    micro = int((frac or "0").ljust(6, "0"))
    dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (dt - offset).replace(tzinfo=UTC)


def iso_ms(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z" if dt else None


def neutral_ts(dt):
    if dt is None:
        return None
    return iso_ms(dt) if dt.microsecond // 1000 else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def sf_ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000" if dt else None


def pd_ts(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else None


def v2_ts(dt):
    """Pipedrive API v2 time stamps: RFC 3339 in UTC, to the second (`2024-01-01T00:00:00Z`)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None


def epoch_ms(dt):
    return int(dt.timestamp() * 1000) if dt else None


def status_phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def base62(n, width):
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = chars[r] + out
    return out.rjust(width, "0")


def sf18(id15):
    """Salesforce's case-safe 18-character id: 3 checksum chars over the 15-character id."""
    suffix = ""
    for i in range(3):
        flags = sum(1 << j for j, c in enumerate(id15[i * 5:i * 5 + 5]) if "A" <= c <= "Z")
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[flags]
    return id15 + suffix


# ------------------------------------------------------------------------------------------- plumbing
class Resp:
    def __init__(self, status, body=None, headers=None, ctype="application/json;charset=UTF-8"):
        self.status, self.body, self.headers, self.ctype = status, body, dict(headers or {}), ctype
        self.truncate = False
        self.malformed = False   # the JSON body cut in half, sent whole (a complete HTTP answer)
        self.stall = 0.0         # seconds to wait before answering

    def payload(self):
        if self.body is None or self.status == 204:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()

    @property
    def is_json(self):
        return self.ctype.startswith("application/json") and self.body is not None and self.status != 204


class Fail(Exception):
    """Raised by handlers to answer an error response."""

    def __init__(self, resp):
        super().__init__(resp.status)
        self.resp = resp


class Req:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def q(self, name, default=None):
        vals = self.query.get(name)
        return vals[-1] if vals else default

    def q_list(self, name):
        """All values of a repeated and/or comma-separated parameter."""
        return [p.strip() for v in self.query.get(name, []) for p in v.split(",") if p.strip()]

    def form(self):
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def json(self, bad):
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError):
            raise Fail(bad("Invalid input JSON on line 1: could not parse the request body"))


def new_record(seed, index):
    rec = {"id": seed.get("id") or f"r{index + 1}", "created": None, "updated": None, "email": None,
           "firstname": None, "lastname": None, "purpose": [], "marketing_consent": None, "interests": "",
           "consent_extended_at": None, "_deleted": False, "_perm": False, "_updates": 0,
           "_effective_deletes": 0, "_delete_requests": 0}
    apply_neutral(rec, seed)
    rec["created"] = rec["created"] or datetime(2020, 1, 1, tzinfo=UTC)
    rec["updated"] = rec["updated"] or rec["created"]
    return rec


def apply_neutral(rec, data):
    for k, v in data.items():
        if k in ("created", "updated", "consent_extended_at"):
            rec[k] = parse_time(v)
        elif k == "purpose":
            rec[k] = [p.strip() for p in (v.split(";") if isinstance(v, str) else (v or [])) if p.strip()]
        elif k == "marketing_consent":
            rec[k] = None if v is None or v == "" else (v if isinstance(v, bool) else str(v).lower() in ("true", "y", "yes", "1"))
        elif k == "interests":
            rec[k] = v or ""
        elif k in ("email", "firstname", "lastname", "id"):
            rec[k] = v


def neutral_out(rec):
    out = {k: rec[k] for k in NEUTRAL_FIELDS}
    for k in ("created", "updated", "consent_extended_at"):
        out[k] = neutral_ts(rec[k])
    out.update(provider_id=rec["_pid"], deleted=rec["_deleted"], permanently_deleted=rec["_perm"],
               updates=rec["_updates"], effective_deletes=rec["_effective_deletes"], delete_requests=rec["_delete_requests"])
    return out


# ------------------------------------------------------------------------------------------- base CRM
class FakeCRM:
    """Record store, auth tokens, fault schedule, statistics and the /_fake control API."""
    name = ""
    token_path = None
    routes = []           # (method, regex, handler name, route label)
    window_ms, window_max = 10000, 100

    def __init__(self, args, seeds):
        self.args = args
        self.lock = threading.RLock()
        self.port = 0
        self.faults = {"fail_5xx": args.fail_5xx, "rate_limit_every": args.rate_limit_every,
                       "truncate_every": args.truncate_every, "token_expires_after": args.token_expires_after,
                       "latency_ms": args.latency_ms, "max_page": args.max_page,
                       "missing_routes": [], "empty_list": args.empty_list, "repeat_cursor": args.repeat_cursor,
                       "clamp_pages": args.clamp_pages, "rate_limit_storm": 0, "fail_routes": {},
                       "job_polls_in_progress": 0, "job_end_state": "JobComplete", "job_record_errors": {}}
        for key, flag, value in (("missing_routes", "--missing-route", args.missing_route or []),
                                 ("rate_limit_storm", "--rate-limit-storm", args.rate_limit_storm)):
            try:
                self.faults[key] = self.fault_value(key, value)
            except ValueError as e:
                raise SystemExit(f"fakecrm: {flag}: {e}")
        self.faults.update(fail_all=0, omit_ids=[], malformed_every=0, stall_every=0, stall_ms=0,
                           kill=None)   # control API only (see the README)
        self.rng = random.Random(args.seed)              # one draw per authorised API request
        self.kind_rng = random.Random(args.seed + 1)     # which of 500/502/503
        self.api_seq = 0          # authorised API requests, for --rate-limit-every
        self.json_ok_seq = 0      # successful JSON responses, for --truncate-every
        self.malformed_seq = 0    # successful JSON responses, for malformed_every
        self.kill_seq = 0         # authorised API requests since `kill` was set
        self.stall_seq = 0        # route answers since `stall_every` was set
        self.tokens = {args.token: 0}   # access token -> authorised uses
        self.refreshes = 0
        self.after_list = []
        self.recent = deque()
        self.last_update = None
        self.stats = {"requests": 0, "by_route": {}, "rate_limited": 0, "failed_5xx": 0, "failed_routes": 0,
                      "truncated": 0, "unauthorized": 0, "token_refreshes": 0,
                      "malformed": 0, "stalled": 0, "kills": 0}
        self.records = []
        self.by_pid = {}
        for i, seed in enumerate(seeds):
            rec = new_record(seed, i)
            rec["_pid"] = self.make_id(i, rec)
            self.records.append(rec)
            self.by_pid[str(rec["_pid"])] = rec
        self.compiled = [(m, re.compile(rx), h, label) for m, rx, h, label in self.routes]

    # --- provider hooks
    def make_id(self, index, rec): raise NotImplementedError
    def auth_token(self, req): raise NotImplementedError
    def unauthorized(self, expired): raise NotImplementedError
    def rate_limited(self): raise NotImplementedError
    def server_error(self, status): raise NotImplementedError
    def status_error(self, status): raise NotImplementedError   # generic 4xx body, for fail_routes
    def limit_headers(self, limited): return {}
    def not_found_route(self, req): raise NotImplementedError
    def bad_request(self, message): raise NotImplementedError
    def token_endpoint(self, req): raise NotImplementedError

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    # --- shared helpers
    def lookup(self, pid):
        return self.by_pid.get(str(pid))

    def touch(self, rec):
        """Bump `updated` strictly monotonically (so a change is always visible to time filters)."""
        now = datetime.now(UTC).replace(microsecond=(datetime.now(UTC).microsecond // 1000) * 1000)
        if self.last_update and now <= self.last_update:
            now = self.last_update + timedelta(milliseconds=1)
        self.last_update = now
        rec["updated"] = max(now, rec["updated"] + timedelta(milliseconds=1))
        rec["_updates"] += 1

    def api_delete(self, rec, permanent=False):
        """A delete through the API: counted in `effective_deletes` when it deleted a live record."""
        if not rec["_deleted"] and not rec["_perm"]:
            rec["_effective_deletes"] += 1
        rec["_deleted"] = True
        if permanent:
            rec["_perm"] = True

    def page_cap(self, n):
        cap = int(self.faults["max_page"] or 0)
        return min(n, cap) if cap > 0 else n

    def storm_limited(self):
        """The rate-limit answer during --rate-limit-storm: the usual one, with `Retry-After: 1`."""
        resp = self.rate_limited()
        resp.headers.setdefault("Retry-After", "1")
        return resp

    def offset_page(self, pool, start, limit):
        """(page, next start or None) of offset paging, with --repeat-cursor / --clamp-pages applied
        (--empty-list empties the pool before). Repeat: always the first page, next start 0 (itself).
        Clamp: a start at or past the end answers the last page again, next start `start + limit`."""
        if self.faults["repeat_cursor"] and pool:
            return pool[:limit], 0
        if self.faults["clamp_pages"] and pool and start >= len(pool):
            last = (len(pool) - 1) // limit * limit
            return pool[last:last + limit], start + limit
        return pool[start:start + limit], (start + limit if start + limit < len(pool) else None)

    def fault_value(self, key, value):
        """Checks and normalises a value of the route / list / storm faults; raises ValueError.
        Other faults are taken as given."""
        labels = [label for _, _, _, label in self.routes]
        if key == "fail_all":
            if isinstance(value, bool) or not isinstance(value, int) or not (value == 0 or 400 <= value <= 599):
                raise ValueError("fail_all must be 0 or an integer 400..599")
            return value
        if key == "omit_ids":
            if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
                raise ValueError("omit_ids must be a list of provider ids")
            return [str(v) for v in value]
        if key == "missing_routes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("missing_routes must be a list of route labels")
            unknown = [v for v in value if v not in labels]
            if unknown:
                raise ValueError(f"unknown route label(s) {unknown}; the routes are {labels}")
            return list(dict.fromkeys(value))
        if key in ("empty_list", "repeat_cursor", "clamp_pages"):
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
            return value
        if key == "rate_limit_storm":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("rate_limit_storm must be an integer >= 0")
            return value
        if key == "fail_routes":
            if not isinstance(value, dict):
                raise ValueError('fail_routes must be an object {"<route label>": status}')
            unknown = [k for k in value if k not in labels]
            if unknown:
                raise ValueError(f"unknown route label(s) {unknown}; the routes are {labels}")
            bad = {k: v for k, v in value.items() if isinstance(v, bool) or not isinstance(v, int) or not 400 <= v <= 599}
            if bad:
                raise ValueError(f"fail_routes statuses must be integers 400..599: {bad}")
            return dict(value)
        if key in ("malformed_every", "stall_every", "stall_ms"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key} must be an integer >= 0")
            return value
        if key == "kill":
            if value is None:
                return None
            if (not isinstance(value, dict) or set(value) - {"pid", "request", "phase"}
                    or any(isinstance(value.get(k), bool) or not isinstance(value.get(k), int) or value[k] < 1
                           for k in ("pid", "request"))
                    or value.get("phase", "after") not in ("before", "after")):
                raise ValueError('kill must be null or {"pid": n >= 1, "request": k >= 1, "phase": "before"|"after"}')
            return {"pid": value["pid"], "request": value["request"], "phase": value.get("phase", "after")}
        if key == "job_polls_in_progress":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("job_polls_in_progress must be an integer >= 0")
            return value
        if key == "job_end_state":
            if value not in ("JobComplete", "Failed", "Aborted"):
                raise ValueError("job_end_state must be JobComplete, Failed or Aborted")
            return value
        if key == "job_record_errors":
            if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
                raise ValueError('job_record_errors must be an object {"<provider id>": "CODE:message:fields"}')
            return {str(k): v for k, v in value.items()}
        return value

    def served_last_page(self):
        """Called when a list/query response without a next page is served: run /_fake/after-list actions."""
        pending, self.after_list = self.after_list, []
        for action in pending:
            rec = self.lookup(action.get("provider_id"))
            if rec is None:
                continue
            if action.get("delete"):
                rec["_deleted"] = True
            if action.get("patch"):
                apply_neutral(rec, action["patch"])
                if "updated" not in action["patch"]:
                    self.touch(rec)
                    rec["_updates"] -= 1   # a change made "by someone else", not an API update

    def issue_token(self):
        self.refreshes += 1
        self.stats["token_refreshes"] += 1
        token = f"{self.args.token}-r{self.refreshes}-{uuid.uuid4().hex[:12]}"
        self.tokens[token] = 0
        return token

    def check_refresh(self, form, basic_auth=None):
        """Validates a refresh_token grant; returns an error key or None."""
        cid, secret = form.get("client_id"), form.get("client_secret")
        if basic_auth:
            cid, _, secret = basic_auth.partition(":")
        if form.get("grant_type") != "refresh_token":
            return "grant_type"
        if cid != self.args.client_id or secret != self.args.client_secret:
            return "client"
        if form.get("refresh_token") != self.args.refresh_token:
            return "refresh_token"
        return None

    # --- dispatch
    def dispatch(self, req):
        if req.path.startswith("/_fake/"):
            with self.lock:
                return self.control(req)
        if self.token_path and req.path == self.token_path and req.method == "POST":
            with self.lock:
                return self.token_endpoint(req)
        return self.api(req)

    def api(self, req):
        if self.faults["latency_ms"]:
            time.sleep(float(self.faults["latency_ms"]) / 1000)
        handler, params, label = None, (), f"{req.method} {req.path}"
        for method, rx, name, route_label in self.compiled:
            m = rx.match(req.path)
            if m and method == req.method:
                handler, params, label = getattr(self, name), m.groups(), route_label
                break
        with self.lock:
            self.stats["requests"] += 1
            self.stats["by_route"][label] = self.stats["by_route"].get(label, 0) + 1
            now = time.monotonic()
            self.recent.append(now)
            while self.recent and self.recent[0] < now - self.window_ms / 1000:
                self.recent.popleft()
            token = self.auth_token(req)
            limit = int(self.faults["token_expires_after"] or 0)
            if token not in self.tokens or (limit and self.tokens[token] >= limit):
                self.stats["unauthorized"] += 1
                return self.finish(self.unauthorized(expired=token in self.tokens), limited=False)
            self.tokens[token] += 1
            self.api_seq += 1
            kill_now = self.kill_due()
            if kill_now == "before":   # the client dies before the CRM acts: nothing performed
                self.kill_client()
                return self.finish(self.server_error(503), limited=False)
            draw, kind = self.rng.random(), self.kind_rng.choice([500, 502, 503])   # always drawn: stable schedule
            storm = int(self.faults["rate_limit_storm"] or 0)
            if storm > 0:
                self.faults["rate_limit_storm"] = storm - 1
                self.stats["rate_limited"] += 1
                return self.finish(self.storm_limited(), limited=True)
            every = int(self.faults["rate_limit_every"] or 0)
            if every and self.api_seq % every == 0:
                self.stats["rate_limited"] += 1
                return self.finish(self.rate_limited(), limited=True)
            if draw < float(self.faults["fail_5xx"] or 0):
                self.stats["failed_5xx"] += 1
                return self.finish(self.server_error(kind), limited=False)
            status = int(self.faults["fail_all"] or 0)
            if status:
                self.stats["failed_routes"] += 1
                if status == 429:
                    return self.finish(self.rate_limited(), limited=True)
                if status == 404:
                    return self.finish(self.not_found_route(req), limited=False)
                return self.finish(self.server_error(status) if status >= 500 else self.status_error(status),
                                   limited=False)
            if handler is None or label in self.faults["missing_routes"]:
                return self.finish(self.not_found_route(req), limited=False)
            status = self.faults["fail_routes"].get(label)
            if status:
                self.stats["failed_routes"] += 1
                return self.finish(self.server_error(status) if status >= 500 else self.status_error(status),
                                   limited=False)
            try:
                resp = handler(req, *params)
            except Fail as f:
                resp = f.resp
            if kill_now == "after":
                self.kill_client()
            resp = self.finish(resp, limited=False)
            every = int(self.faults["truncate_every"] or 0)
            if 200 <= resp.status < 300 and resp.is_json:
                self.json_ok_seq += 1
                if every and self.json_ok_seq % every == 0:
                    resp.truncate = True
                    self.stats["truncated"] += 1
                self.malformed_seq += 1
                every = int(self.faults["malformed_every"] or 0)
                if every and self.malformed_seq % every == 0 and not resp.truncate:
                    resp.malformed = True
                    self.stats["malformed"] += 1
            every = int(self.faults["stall_every"] or 0)
            self.stall_seq += 1
            if every and self.stall_seq % every == 0:
                resp.stall = float(self.faults["stall_ms"] or 0) / 1000
                self.stats["stalled"] += 1
            return resp

    def kill_due(self):
        """Counts an authorised request against the `kill` fault; its phase when this is the one."""
        kill = self.faults["kill"]
        if not kill:
            return None
        self.kill_seq += 1
        return kill["phase"] if self.kill_seq == kill["request"] else None

    def kill_client(self):
        """SIGKILLs the process the `kill` fault names (once), as a crash at this request would."""
        kill, self.faults["kill"] = self.faults["kill"], None
        try:
            os.kill(kill["pid"], signal.SIGKILL)
            self.stats["kills"] += 1
        except OSError:
            pass

    def finish(self, resp, limited):
        for k, v in self.limit_headers(limited).items():
            resp.headers.setdefault(k, v)
        return resp

    # --- control API (no auth, no faults)
    def control(self, req):
        path = req.path
        if req.method == "GET" and path == "/_fake/records":
            return Resp(200, [neutral_out(r) for r in self.records])
        m = re.fullmatch(r"/_fake/records/(.+)", path)
        if m and req.method == "PUT":
            rec = self.lookup(m.group(1))
            if rec is None:
                return Resp(404, {"error": "no such record"})
            data = json.loads(req.body or b"{}")
            if "deleted" in data:
                rec["_deleted"] = bool(data.pop("deleted"))
            if "permanently_deleted" in data:
                rec["_perm"] = bool(data.pop("permanently_deleted"))
            apply_neutral(rec, data)
            if "updated" not in data:
                self.touch(rec)
                rec["_updates"] -= 1
            return Resp(200, neutral_out(rec))
        if req.method == "POST" and path == "/_fake/records":
            # A record created in the CRM after start (e.g. before a creation webhook).
            data = json.loads(req.body or b"{}")
            rec = new_record(data, len(self.records))
            rec["_pid"] = self.make_id(len(self.records), rec)
            self.records.append(rec)
            self.by_pid[str(rec["_pid"])] = rec
            return Resp(201, neutral_out(rec))
        if req.method == "POST" and path == "/_fake/after-list":
            data = json.loads(req.body or b"{}")
            if self.lookup(data.get("provider_id")) is None:
                return Resp(404, {"error": "no such record"})
            self.after_list.append(data)
            return Resp(200, {"pending": len(self.after_list)})
        if req.method == "GET" and path == "/_fake/stats":
            return Resp(200, self.stats)
        if path == "/_fake/faults" and req.method in ("GET", "POST"):
            data = json.loads(req.body or b"{}") if req.method == "POST" else {}
            checked = {}
            for k, v in data.items():       # all checked before any is applied
                key = k.replace("-", "_")
                if key != "expire_tokens" and key not in self.faults:
                    return Resp(400, {"error": f"unknown fault {k}"})
                try:
                    checked[key] = self.fault_value(key, v)
                except ValueError as e:
                    return Resp(400, {"error": str(e)})
            for key, v in checked.items():
                if key == "expire_tokens" and v:
                    for t in self.tokens:
                        self.tokens[t] = 10 ** 12
                    self.faults["token_expires_after"] = self.faults["token_expires_after"] or 10 ** 12
                elif key in self.faults:
                    self.faults[key] = v
                    if key == "rate_limit_every":
                        self.api_seq = 0
                    if key == "truncate_every":
                        self.json_ok_seq = 0
                    if key == "malformed_every":
                        self.malformed_seq = 0
                    if key == "kill":
                        self.kill_seq = 0
                    if key == "stall_every":
                        self.stall_seq = 0
            return Resp(200, self.faults)
        if req.method == "POST" and path == "/_fake/purge":
            purged = [r["_pid"] for r in self.records if r["_deleted"] and not r["_perm"]]
            for r in self.records:
                if r["_deleted"]:
                    r["_perm"] = True
            return Resp(200, {"purged": purged})
        if req.method == "GET" and path == "/_fake/info":
            return Resp(200, self.info())
        return Resp(404, {"error": "unknown control route"})

    def info(self):
        return {"provider": self.name, "port": self.port, "base_url": self.base_url,
                "tokens": sorted(self.tokens)}


# ------------------------------------------------------------------------------------------- HubSpot
class HubSpot(FakeCRM):
    name = "hubspot"
    token_path = "/oauth/v1/token"
    window_ms, window_max = 10000, 190
    B = "/crm/v3/objects/contacts"
    routes = [
        ("GET", rf"^{B}$", "list", f"GET {B}"),
        ("POST", rf"^{B}/search$", "search", f"POST {B}/search"),
        ("POST", rf"^{B}/batch/read$", "batch_read", f"POST {B}/batch/read"),
        ("POST", rf"^{B}/batch/archive$", "batch_archive", f"POST {B}/batch/archive"),
        ("POST", rf"^{B}/gdpr-delete$", "gdpr_delete", f"POST {B}/gdpr-delete"),
        ("GET", rf"^{B}/([^/]+)$", "get", f"GET {B}/{{id}}"),
        ("PATCH", rf"^{B}/([^/]+)$", "patch", f"PATCH {B}/{{id}}"),
        ("DELETE", rf"^{B}/([^/]+)$", "delete", f"DELETE {B}/{{id}}"),
    ]
    DEFAULT_PROPS = ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"]
    ALWAYS = ["createdate", "hs_object_id", "lastmodifieddate"]
    CUSTOM = ["lethe_purpose", "lethe_marketing_consent", "lethe_interests", "lethe_consent_extended_at"]
    ALL = DEFAULT_PROPS + CUSTOM
    DATES = {"createdate", "lastmodifieddate", "lethe_consent_extended_at"}

    def make_id(self, index, rec):
        return str(1001 + index)

    def err(self, status, message, category, **extra):
        return Resp(status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
                             "category": category, **extra})

    def auth_token(self, req):
        auth = req.headers.get("Authorization", "")
        return auth[7:].strip() if auth[:7].lower() == "bearer " else None

    def unauthorized(self, expired):
        if expired:
            return self.err(401, "The OAuth token used to make this call expired 0 second(s) ago.",
                            "EXPIRED_AUTHENTICATION")
        return self.err(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                        "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                        "INVALID_AUTHENTICATION")

    def rate_limited(self):
        return Resp(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                          "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                          "policyName": "TEN_SECONDLY_ROLLING"})

    def server_error(self, status):
        return self.err(status, "internal error" if status == 500 else "Service temporarily unavailable",
                        "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE")

    def limit_headers(self, limited):
        return {"X-HubSpot-RateLimit-Daily": "500000",
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, 500000 - self.stats["requests"])),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.window_ms),
                "X-HubSpot-RateLimit-Max": str(self.window_max),
                "X-HubSpot-RateLimit-Remaining": "0" if limited else str(max(0, self.window_max - len(self.recent)))}

    def not_found_route(self, req):
        return self.err(404, f"Unable to route {req.method} request for {req.path}", "OBJECT_NOT_FOUND")

    def status_error(self, status):
        return self.err(status, status_phrase(status),
                        {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES",
                         404: "OBJECT_NOT_FOUND", 409: "CONFLICT", 429: "RATE_LIMITS"}.get(status, "ERROR"))

    def bad_request(self, message):
        return self.err(400, message, "VALIDATION_ERROR")

    def not_found(self, pid):
        return self.err(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                        context={"id": [str(pid)]})

    def token_endpoint(self, req):
        problem = self.check_refresh(req.form())
        if problem == "client":
            return Resp(400, {"status": "BAD_CLIENT_ID", "message": "missing or unknown client id",
                              "correlationId": str(uuid.uuid4())})
        if problem:
            return Resp(400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token",
                              "correlationId": str(uuid.uuid4())})
        return Resp(200, {"token_type": "bearer", "refresh_token": self.args.refresh_token,
                          "access_token": self.issue_token(), "expires_in": 1800})

    # --- rendering / parsing
    def value(self, rec, prop):
        if prop == "createdate":
            return iso_ms(rec["created"])
        if prop == "lastmodifieddate":
            return iso_ms(rec["updated"])
        if prop == "hs_object_id":
            return rec["_pid"]
        if prop == "lethe_purpose":
            return ";".join(rec["purpose"])
        if prop == "lethe_marketing_consent":
            return "" if rec["marketing_consent"] is None else str(rec["marketing_consent"]).lower()
        if prop == "lethe_interests":
            return rec["interests"] or ""
        if prop == "lethe_consent_extended_at":
            return iso_ms(rec["consent_extended_at"]) or ""
        return rec[prop]

    def obj(self, rec, props):
        properties = {p: self.value(rec, p) for p in list(props) + self.ALWAYS if p in self.ALL}
        out = {"id": rec["_pid"], "properties": properties, "createdAt": iso_ms(rec["created"]),
               "updatedAt": iso_ms(rec["updated"]), "archived": rec["_deleted"]}
        if rec["_deleted"]:
            out["archivedAt"] = iso_ms(rec["updated"])
        return out

    def props_of(self, names):
        return names or self.DEFAULT_PROPS

    def live(self, pid):
        rec = self.lookup(pid)
        return rec if rec and not rec["_deleted"] and not rec["_perm"] else None

    def set_props(self, target, props):
        """Validates every property first; applies nothing when one is invalid."""
        rec, errors = dict(target), []
        for k, v in props.items():
            try:
                if k in ("email", "firstname", "lastname"):
                    rec[k] = None if v is None else str(v)
                elif k == "lethe_purpose":
                    rec["purpose"] = [p.strip() for p in (v if isinstance(v, list) else str(v or "").split(";")) if p.strip()]
                elif k == "lethe_marketing_consent":
                    s = str(v).lower() if v is not None else ""
                    if s not in ("true", "false", ""):
                        raise ValueError(f"{v} was not one of the allowed options: [true, false]")
                    rec["marketing_consent"] = None if s == "" else s == "true"
                elif k == "lethe_interests":
                    rec["interests"] = str(v or "")
                elif k == "lethe_consent_extended_at":
                    rec["consent_extended_at"] = parse_time(v)
                elif k in self.ALL:
                    raise ValueError(f"{k} is a read only property; its value cannot be set.")
                else:
                    raise ValueError(f'Property "{k}" does not exist')
            except ValueError as e:
                errors.append({"isValid": False, "message": str(e), "error": "INVALID_VALUE", "name": k})
        if errors:
            raise Fail(self.bad_request(f"Property values were not valid: {json.dumps(errors)}"))
        target.update(rec)

    # --- routes
    def list(self, req):
        try:
            limit = int(req.q("limit", "10"))
        except ValueError:
            raise Fail(self.bad_request("limit must be an integer"))
        if not 1 <= limit <= 100:
            raise Fail(self.bad_request("limit must be between 1 and 100"))
        limit = self.page_cap(limit)
        archived = req.q("archived", "false") == "true"
        after = req.q("after")
        props = self.props_of(req.q_list("properties"))
        everything = sorted((r for r in self.records if r["_deleted"] == archived and not r["_perm"]),
                            key=lambda r: int(r["_pid"]))
        if self.faults["empty_list"]:
            everything = []
        pool = everything
        if after:
            if not after.isdigit():
                raise Fail(self.bad_request(f"Invalid paging cursor: {after}"))
            pool = [r for r in pool if int(r["_pid"]) >= int(after)]
        page, rest = pool[:limit], pool[limit:]
        nxt = rest[0]["_pid"] if rest else None
        if self.faults["repeat_cursor"] and everything:
            page, nxt = everything[:limit], everything[0]["_pid"]        # `after` = this same first page
        elif self.faults["clamp_pages"] and everything and not pool:   # `after` past the last id
            last = (len(everything) - 1) // limit * limit
            page, nxt = everything[last:last + limit], str(int(after) + limit)
        body = {"results": [self.obj(r, props) for r in page]}
        if nxt is not None:
            q = {"limit": limit, "after": nxt, "archived": str(archived).lower()}
            if req.q_list("properties"):
                q["properties"] = ",".join(props)
            body["paging"] = {"next": {"after": nxt, "link": f"{self.base_url}{self.B}?{urlencode(q)}"}}
        else:
            self.served_last_page()
        return Resp(200, body)

    def get(self, req, pid):
        rec = self.lookup(pid)
        want_archived = req.q("archived", "false") == "true"
        if rec is None or rec["_perm"] or rec["_deleted"] != want_archived:
            raise Fail(self.not_found(pid))
        return Resp(200, self.obj(rec, self.props_of(req.q_list("properties"))))

    def patch(self, req, pid):
        body = req.json(self.bad_request)
        rec = self.live(pid)
        if rec is None:
            raise Fail(self.not_found(pid))
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise Fail(self.bad_request("Invalid input JSON: expected {\"properties\": {...}}"))
        self.set_props(rec, body["properties"])
        self.touch(rec)
        return Resp(200, self.obj(rec, self.DEFAULT_PROPS + list(body["properties"])))

    def delete(self, req, pid):
        self.count_delete_request(pid)
        rec = self.live(pid)
        if rec:
            self.api_delete(rec)
        return Resp(204)

    def count_delete_request(self, pid):
        """Counts a delete asked for a known record, live or not (`delete_requests`)."""
        rec = self.lookup(pid)
        if rec:
            rec["_delete_requests"] += 1

    def batch_inputs(self, req, maximum=100):
        body = req.json(self.bad_request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise Fail(self.bad_request("Invalid input JSON: inputs is required"))
        if len(inputs) > maximum:
            raise Fail(self.bad_request(f"Batch input limit exceeded: {len(inputs)} inputs, maximum {maximum}"))
        return body, [str(i.get("id")) for i in inputs if isinstance(i, dict)]

    def batch_read(self, req):
        body, ids = self.batch_inputs(req)
        # HubSpot's published schema (BatchReadInputSimplePublicObjectId) lists all three as required.
        for key in ("properties", "propertiesWithHistory"):
            if not isinstance(body.get(key), list):
                raise Fail(self.bad_request(f"Invalid input JSON: {key} is required"))
        started = iso_ms(datetime.now(UTC))
        props = self.props_of(body.get("properties") or [])
        results, missing = [], []
        for pid in ids:
            rec = self.live(pid)
            (results.append(self.obj(rec, props)) if rec else missing.append(pid))
        out = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": iso_ms(datetime.now(UTC))}
        if missing:
            out.update(numErrors=1, errors=[{
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing}}])
            return Resp(207, out)
        return Resp(200, out)

    def batch_archive(self, req):
        _, ids = self.batch_inputs(req)
        for pid in ids:
            self.count_delete_request(pid)
            rec = self.live(pid)
            if rec:
                self.api_delete(rec)
        return Resp(204)

    def gdpr_delete(self, req):
        body = req.json(self.bad_request)
        if not isinstance(body, dict) or "objectId" not in body:
            raise Fail(self.bad_request("objectId is required"))
        oid = str(body["objectId"])
        if body.get("idProperty") == "email":
            rec = next((r for r in self.records if r["email"] == oid and not r["_perm"]), None)
        else:
            rec = self.lookup(oid)
        if rec is None or rec["_perm"]:
            raise Fail(self.not_found(oid))
        self.api_delete(rec, permanent=True)
        return Resp(204)

    def cmp_value(self, rec, prop):
        v = self.value(rec, prop)
        if prop in self.DATES:
            return epoch_ms(parse_time(v)) if v else None
        if prop == "hs_object_id":
            return int(v)
        return v if v != "" else None

    def filter_match(self, rec, f):
        prop, op = f.get("propertyName"), str(f.get("operator", "EQ")).upper()
        if prop not in self.ALL:
            raise Fail(self.bad_request(f"There was a problem with the request: property {prop} does not exist"))
        have = self.cmp_value(rec, prop)
        if op == "HAS_PROPERTY":
            return have is not None
        if op == "NOT_HAS_PROPERTY":
            return have is None

        def conv(v):
            if prop in self.DATES:
                try:
                    return epoch_ms(parse_time(v))
                except ValueError:
                    raise Fail(self.bad_request(f"{v} is not a valid date value for {prop}"))
            if prop == "hs_object_id":
                return int(v)
            return str(v).lower()
        if prop == "lethe_purpose" and op in ("EQ", "IN", "CONTAINS_TOKEN", "NEQ", "NOT_IN"):
            wanted = {str(v).lower() for v in (f.get("values") or [f.get("value")])}
            hit = bool(wanted & {p.lower() for p in rec["purpose"]})
            return hit if op in ("EQ", "IN", "CONTAINS_TOKEN") else not hit
        if isinstance(have, str):
            have = have.lower()
        if op in ("IN", "NOT_IN"):
            hit = have in {conv(v) for v in f.get("values", [])}
            return hit if op == "IN" else not hit
        if op == "BETWEEN":
            return have is not None and conv(f.get("value")) <= have <= conv(f.get("highValue"))
        want = conv(f.get("value"))
        if op == "EQ":
            return have == want
        if op == "NEQ":
            return have != want
        if have is None:
            return False
        ops = {"GT": have > want, "GTE": have >= want, "LT": have < want, "LTE": have <= want}
        if op not in ops:
            raise Fail(self.bad_request(f"Unsupported operator {op}"))
        return ops[op]

    def search(self, req):
        body = req.json(self.bad_request) or {}
        limit = int(body.get("limit", 10))
        if not 1 <= limit <= 200:
            raise Fail(self.bad_request("limit must be between 1 and 200"))
        limit = self.page_cap(limit)
        try:
            after = int(body.get("after") or 0)
        except ValueError:
            raise Fail(self.bad_request(f"Invalid after value: {body.get('after')}"))
        if after >= 10000:
            raise Fail(self.bad_request("The maximum number of results for a search is 10000; after must be less "
                                        "than 10000"))
        groups = body.get("filterGroups") or []
        pool = [r for r in self.records if not r["_deleted"] and not r["_perm"]]
        if groups:
            pool = [r for r in pool if any(all(self.filter_match(r, f) for f in g.get("filters", [])) for g in groups)]
        pool.sort(key=lambda r: int(r["_pid"]))
        for s in reversed(body.get("sorts") or []):
            if isinstance(s, str):
                s = {"propertyName": s.lstrip("-"), "direction": "DESCENDING" if s.startswith("-") else "ASCENDING"}
            prop, desc = s.get("propertyName"), str(s.get("direction", "ASCENDING")).upper().startswith("DESC")
            present = [r for r in pool if self.cmp_value(r, prop) is not None]
            absent = [r for r in pool if self.cmp_value(r, prop) is None]
            pool = sorted(present, key=lambda r: self.cmp_value(r, prop), reverse=desc) + absent
        if self.faults["empty_list"]:
            pool = []       # after the filters and sorts: those are still validated
        window = pool[:10000]
        page, nxt = self.offset_page(window, after, limit)
        props = self.props_of(body.get("properties") or [])
        out = {"total": len(pool), "results": [self.obj(r, props) for r in page]}
        if nxt is not None:
            out["paging"] = {"next": {"after": str(nxt)}}
        else:
            self.served_last_page()
        return Resp(200, out)


# ---------------------------------------------------------------------------------------- Salesforce
class Salesforce(FakeCRM):
    name = "salesforce"
    token_path = "/services/oauth2/token"
    V = r"/services/data/v\d+\.\d"
    L = "/services/data/v60.0"
    routes = [
        ("GET", rf"^{V}/query/?$", "query", f"GET {L}/query"),
        ("GET", rf"^{V}/queryAll/?$", "query_all", f"GET {L}/queryAll"),
        ("GET", rf"^{V}/query/([A-Za-z0-9]+)-(\d+)$", "query_more", f"GET {L}/query/{{locator}}"),
        ("GET", rf"^{V}/sobjects/Contact/([^/]+)$", "get", f"GET {L}/sobjects/Contact/{{id}}"),
        ("PATCH", rf"^{V}/sobjects/Contact/([^/]+)$", "patch", f"PATCH {L}/sobjects/Contact/{{id}}"),
        ("DELETE", rf"^{V}/sobjects/Contact/([^/]+)$", "delete", f"DELETE {L}/sobjects/Contact/{{id}}"),
        ("DELETE", rf"^{V}/composite/sobjects/?$", "composite_delete", f"DELETE {L}/composite/sobjects"),
        ("GET", rf"^{V}/composite/sobjects/Contact/?$", "composite_get", f"GET {L}/composite/sobjects/Contact"),
        ("POST", rf"^{V}/jobs/ingest/?$", "job_create", f"POST {L}/jobs/ingest"),
        ("PUT", rf"^{V}/jobs/ingest/([^/]+)/batches/?$", "job_upload", f"PUT {L}/jobs/ingest/{{id}}/batches"),
        ("PATCH", rf"^{V}/jobs/ingest/([^/]+)/?$", "job_patch", f"PATCH {L}/jobs/ingest/{{id}}"),
        ("GET", rf"^{V}/jobs/ingest/([^/]+)/?$", "job_get", f"GET {L}/jobs/ingest/{{id}}"),
        ("GET", rf"^{V}/jobs/ingest/([^/]+)/(successfulResults|failedResults)/?$", "job_results",
         f"GET {L}/jobs/ingest/{{id}}/{{results}}"),
    ]
    FIELDS = ["Id", "IsDeleted", "Name", "FirstName", "LastName", "Email", "CreatedDate", "LastModifiedDate",
              "SystemModstamp", "Lethe_Purpose__c", "Lethe_Marketing_Consent__c", "Lethe_Interests__c",
              "Lethe_Consent_Extended_At__c"]
    CANON = {f.lower(): f for f in FIELDS}
    DATETIMES = {"CreatedDate", "LastModifiedDate", "SystemModstamp", "Lethe_Consent_Extended_At__c"}
    READ_ONLY = {"Id", "IsDeleted", "Name", "CreatedDate", "LastModifiedDate", "SystemModstamp"}

    def __init__(self, args, seeds):
        super().__init__(args, seeds)
        self.cursors, self.jobs, self.seq = {}, {}, 0

    def make_id(self, index, rec):
        return sf18("003Dn0000" + base62(index + 1, 6))

    def new_id(self, prefix):
        self.seq += 1
        return sf18(prefix + base62(self.seq, 15 - len(prefix)))

    def lookup(self, pid):
        pid = str(pid)
        if len(pid) == 15:
            pid = sf18(pid)
        return self.by_pid.get(pid)

    def err(self, status, code, message, fields=None):
        body = {"message": message, "errorCode": code}
        if fields is not None:
            body["fields"] = fields
        return Resp(status, [body])

    def auth_token(self, req):
        auth = req.headers.get("Authorization", "")
        return auth.split(" ", 1)[1].strip() if auth.lower().startswith(("bearer ", "oauth ")) else None

    def unauthorized(self, expired):
        return Resp(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                    {"WWW-Authenticate": 'Token'})

    def rate_limited(self):
        return self.err(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")

    def storm_limited(self):
        return self.rate_limited()      # Salesforce sends no Retry-After

    def server_error(self, status):
        if status == 503:
            return self.err(503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later.")
        return self.err(status, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if "
                        "you contact support: 1393532466-104532 (-1203787370)")

    def limit_headers(self, limited):
        return {"Sforce-Limit-Info": f"api-usage={self.stats['requests']}/15000"}

    def not_found_route(self, req):
        return self.err(404, "NOT_FOUND", "The requested resource does not exist")

    def status_error(self, status):
        return self.err(status, {401: "INVALID_SESSION_ID", 403: "INSUFFICIENT_ACCESS_OR_READONLY", 404: "NOT_FOUND",
                                 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(status, "BAD_REQUEST"),
                        status_phrase(status))

    def bad_request(self, message):
        return self.err(400, "JSON_PARSER_ERROR", message)

    def token_endpoint(self, req):
        problem = self.check_refresh(req.form())
        if problem == "grant_type":
            return Resp(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if problem == "client":
            return Resp(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        if problem:
            return Resp(400, {"error": "invalid_grant", "error_description": "expired access/refresh token"})
        ident = f"{self.base_url}/id/00DDn00000Fake1MAA/005Dn00000Fake1AAA"
        issued = str(int(time.time() * 1000))
        sig = base64.b64encode(hmac.new(self.args.client_secret.encode(), (ident + issued).encode(),
                                        hashlib.sha256).digest()).decode()
        return Resp(200, {"access_token": self.issue_token(), "instance_url": self.base_url, "id": ident,
                          "token_type": "Bearer", "issued_at": issued, "signature": sig, "scope": "api refresh_token"})

    # --- rendering
    def value(self, rec, field):
        v = {"Id": rec["_pid"], "IsDeleted": rec["_deleted"],
             "Name": " ".join(x for x in (rec["firstname"], rec["lastname"]) if x) or None,
             "FirstName": rec["firstname"] or None, "LastName": rec["lastname"] or None, "Email": rec["email"] or None,
             "CreatedDate": sf_ts(rec["created"]), "LastModifiedDate": sf_ts(rec["updated"]),
             "SystemModstamp": sf_ts(rec["updated"]), "Lethe_Purpose__c": ";".join(rec["purpose"]) or None,
             "Lethe_Marketing_Consent__c": bool(rec["marketing_consent"]),
             "Lethe_Interests__c": rec["interests"] or None,
             "Lethe_Consent_Extended_At__c": sf_ts(rec["consent_extended_at"])}
        return v[field]

    def sobject(self, rec, fields):
        out = {"attributes": {"type": "Contact", "url": f"{self.L}/sobjects/Contact/{rec['_pid']}"}}
        out.update({f: self.value(rec, f) for f in fields})
        return out

    def canon_fields(self, names, code="INVALID_FIELD"):
        out = []
        for n in names:
            f = self.CANON.get(n.strip().lower())
            if f is None:
                raise Fail(self.err(400, code, f"No such column '{n.strip()}' on entity 'Contact'. If you are attempting "
                                    "to use a custom field, be sure to append the '__c' after the custom field name."))
            out.append(f)
        return out

    # --- SOQL
    def literal(self, field, raw):
        raw = raw.strip()
        if field in self.DATETIMES:
            if raw.startswith("'"):
                raise Fail(self.err(400, "INVALID_FIELD", f"value of filter criterion for field '{field}' must be of "
                                    "type dateTime and should not be enclosed in quotes"))
            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", raw):
                if raw.lower() == "null":
                    return None
                raise Fail(self.err(400, "MALFORMED_QUERY", f"line 1:1 value of filter criterion for field '{field}' "
                                    f"must be a valid dateTime literal: {raw}"))
            return parse_time(raw)
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if raw.lower() == "null":
            return None
        m = re.fullmatch(r"'((?:[^'\\]|\\.)*)'", raw)
        if not m:
            raise Fail(self.err(400, "MALFORMED_QUERY", f"unexpected token: {raw}"))
        return m.group(1).replace("\\'", "'")

    def compile_where(self, where):
        bare = re.sub(r"'(?:[^'\\]|\\.)*'", "''", where)
        if re.search(r"\bOR\b|\bNOT\s*\(|^\s*\(", bare, re.I):
            raise Fail(self.err(400, "MALFORMED_QUERY", "this fake supports only AND-joined conditions in WHERE"))
        conds = []
        for part in re.split(r"\s+AND\s+(?=(?:[^']*'[^']*')*[^']*$)", where.strip(), flags=re.I):
            m = re.fullmatch(r"(\w+)\s*(=|!=|<>|<=|>=|<|>|\s+NOT\s+IN\s+|\s+IN\s+)\s*(.+)", part.strip(), re.I | re.S)
            if not m:
                raise Fail(self.err(400, "MALFORMED_QUERY", f"unexpected token: '{part.strip()}'"))
            field = self.canon_fields([m.group(1)])[0]
            op = m.group(2).strip().upper()
            op = "NOT IN" if op.startswith("NOT") else op
            if op in ("IN", "NOT IN"):
                inner = re.fullmatch(r"\((.*)\)", m.group(3).strip(), re.S)
                if not inner:
                    raise Fail(self.err(400, "MALFORMED_QUERY", "expecting a left parentheses after IN"))
                value = [self.literal(field, v) for v in inner.group(1).split(",")]
            else:
                value = self.literal(field, m.group(3))
            conds.append((field, op, value))
        return conds

    def where_match(self, rec, conds):
        for field, op, want in conds:
            have = rec["_pid"] if field == "Id" else self.value(rec, field)
            if field in self.DATETIMES:
                have = parse_time(have)
            if field == "Id" and want:
                want = [sf18(w) if len(w) == 15 else w for w in want] if isinstance(want, list) else \
                    (sf18(want) if len(want) == 15 else want)
            if isinstance(have, str) and field != "Id":
                have = have.lower()
                want = [w.lower() if isinstance(w, str) else w for w in want] if isinstance(want, list) else \
                    (want.lower() if isinstance(want, str) else want)
            if op in ("IN", "NOT IN"):
                ok = (have in want) == (op == "IN")
            elif op == "=":
                ok = have == want
            elif op in ("!=", "<>"):
                ok = have != want
            elif have is None or want is None:
                ok = False
            else:
                ok = {"<": have < want, "<=": have <= want, ">": have > want, ">=": have >= want}[op]
            if not ok:
                return False
        return True

    def run_query(self, req, include_deleted):
        soql = req.q("q")
        if not soql:
            raise Fail(self.err(400, "MALFORMED_QUERY", "A query string has to be specified"))
        m = re.fullmatch(r"\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
                         r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?"
                         r"(?:\s+OFFSET\s+(?P<offset>\d+))?\s*", soql, re.I | re.S)
        if not m:
            raise Fail(self.err(400, "MALFORMED_QUERY", f"unexpected token in query: {soql[:80]}"))
        if m.group("obj").lower() != "contact":
            raise Fail(self.err(400, "INVALID_TYPE", f"sObject type '{m.group('obj')}' is not supported."))
        fields = self.canon_fields(m.group("fields").split(","))
        conds = self.compile_where(m.group("where")) if m.group("where") else []
        pool = [r for r in self.records if not r["_perm"] and (include_deleted or not r["_deleted"])
                and self.where_match(r, conds)]
        pool.sort(key=lambda r: r["_pid"])
        if m.group("order"):
            for part in reversed(m.group("order").split(",")):
                words = part.split()
                field = self.canon_fields(words[:1])[0]
                desc = len(words) > 1 and words[1].upper() == "DESC"
                nulls_last = "LAST" in [w.upper() for w in words[2:]] or (desc and "FIRST" not in [w.upper() for w in words[2:]])
                key = (lambda r, f=field: parse_time(self.value(r, f))) if field in self.DATETIMES else \
                    (lambda r, f=field: self.value(r, f))
                present = sorted((r for r in pool if key(r) is not None), key=key, reverse=desc)
                absent = [r for r in pool if key(r) is None]
                pool = present + absent if nulls_last else absent + present
        if m.group("offset"):
            pool = pool[int(m.group("offset")):]
        if m.group("limit"):
            pool = pool[:int(m.group("limit"))]
        size = 2000
        opt = re.search(r"batchSize\s*=\s*(\d+)", req.headers.get("Sforce-Query-Options", ""))
        if opt:
            size = min(2000, max(200, int(opt.group(1))))
        locator = self.new_id("01gDn")
        self.cursors[locator] = {"records": [self.sobject(r, fields) for r in pool], "size": self.page_cap(size)}
        return self.query_page(locator, 0)

    def query_page(self, locator, offset):
        cur = self.cursors.get(locator)
        if cur is None or offset > len(cur["records"]):
            raise Fail(self.err(400, "INVALID_QUERY_LOCATOR", "invalid query locator"))
        records = [] if self.faults["empty_list"] else cur["records"]
        repeat = bool(self.faults["repeat_cursor"] and records)
        if repeat:
            offset = 0          # always the first batch, and nextRecordsUrl names that same batch
        page = records[offset:offset + cur["size"]]
        nxt = offset + len(page)
        body = {"totalSize": len(records), "done": nxt >= len(records) and not repeat, "records": page}
        if not body["done"]:
            body["nextRecordsUrl"] = f"{self.L}/query/{locator}-{0 if repeat else nxt}"
        else:
            self.cursors.pop(locator, None)
            self.served_last_page()
        return Resp(200, body)

    def query(self, req):
        return self.run_query(req, include_deleted=False)

    def query_all(self, req):
        return self.run_query(req, include_deleted=True)

    def query_more(self, req, locator, offset):
        return self.query_page(locator, int(offset))

    # --- sobject rows
    def missing(self, rec):
        if rec is None or rec["_perm"]:
            return self.err(404, "NOT_FOUND", "The requested resource does not exist")
        if rec["_deleted"]:
            return self.err(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return None

    def get(self, req, pid):
        rec = self.lookup(pid)
        problem = self.missing(rec)
        if problem:
            raise Fail(problem)
        fields = self.canon_fields(req.q_list("fields")) if req.q_list("fields") else self.FIELDS
        return Resp(200, self.sobject(rec, fields))

    def patch(self, req, pid):
        body = req.json(self.bad_request)
        rec = self.lookup(pid)
        problem = self.missing(rec)
        if problem:
            raise Fail(problem)
        if not isinstance(body, dict):
            raise Fail(self.bad_request("Cannot deserialize instance of Contact from non-object value"))
        changes = {}
        for k, v in body.items():
            if k == "attributes":
                continue
            f = self.canon_fields([k])[0]
            if f in self.READ_ONLY:
                raise Fail(self.err(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {f}. "
                                    "Please check the security settings of this field and verify that it is "
                                    "read/write for your profile or permission set.", [f]))
            if f == "LastName" and not v:
                raise Fail(self.err(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]",
                                    ["LastName"]))
            if f == "Lethe_Marketing_Consent__c":
                if v not in (True, False, None, "true", "false"):
                    raise Fail(self.bad_request(f"Cannot deserialize instance of boolean from VALUE_STRING value {v}"))
                changes["marketing_consent"] = v in (True, "true")
            elif f == "Lethe_Consent_Extended_At__c":
                try:
                    changes["consent_extended_at"] = parse_time(v)
                except ValueError:
                    raise Fail(self.bad_request(f"Cannot deserialize instance of datetime from VALUE_STRING value {v}"))
            elif f == "Lethe_Purpose__c":
                changes["purpose"] = [p for p in (v or "").split(";") if p]
            else:
                changes[{"FirstName": "firstname", "LastName": "lastname", "Email": "email",
                         "Lethe_Interests__c": "interests"}[f]] = (v or "") if f == "Lethe_Interests__c" else v
        rec.update(changes)
        self.touch(rec)
        return Resp(204)

    def delete(self, req, pid):
        rec = self.lookup(pid)
        problem = self.missing(rec)
        if problem:
            raise Fail(problem)
        self.api_delete(rec)
        return Resp(204)

    def delete_result(self, pid):
        rec = self.lookup(pid)
        if not re.fullmatch(r"[A-Za-z0-9]{15}|[A-Za-z0-9]{18}", pid):
            return {"success": False, "errors": [{"statusCode": "MALFORMED_ID", "message": f"malformed id {pid}",
                                                  "fields": []}]}
        if rec is None or rec["_perm"]:
            return {"id": pid, "success": False, "errors": [{"statusCode": "INVALID_CROSS_REFERENCE_KEY",
                                                              "message": "invalid cross reference id", "fields": []}]}
        if rec["_deleted"]:
            return {"id": pid, "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED",
                                                              "message": "entity is deleted", "fields": []}]}
        return {"id": rec["_pid"], "success": True, "errors": []}

    def composite_delete(self, req):
        ids = req.q_list("ids")
        if not ids:
            raise Fail(self.err(400, "MALFORMED_QUERY", "ids parameter is required"))
        if len(ids) > 200:
            raise Fail(self.err(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records "
                                "into this call", []))
        results = [self.delete_result(pid) for pid in ids]
        results = [r for r in results if str(r.get("id")) not in self.faults["omit_ids"]]   # left out: not deleted
        if req.q("allOrNone", "false").lower() == "true" and not all(r["success"] for r in results):
            rolled = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "fields": [],
                      "message": "Record rolled back because not all records were valid and the request was using "
                                 "AllOrNone header"}
            return Resp(200, [r if not r["success"] else {"id": r["id"], "success": False, "errors": [rolled]}
                              for r in results])
        for r in results:
            if r["success"]:
                self.api_delete(self.lookup(r["id"]))
        return Resp(200, results)

    def composite_get(self, req):
        ids, fields = req.q_list("ids"), req.q_list("fields")
        if not ids or not fields:
            raise Fail(self.err(400, "MALFORMED_QUERY", "ids and fields parameters are required"))
        fields = self.canon_fields(fields)
        out = []
        for pid in ids:
            rec = self.lookup(pid)
            out.append(self.sobject(rec, fields) if rec and not rec["_deleted"] and not rec["_perm"] else None)
        return Resp(200, out)

    # --- Bulk API 2.0 ingest (the REST way to hard delete: operation "hardDelete")
    # Open --PUT batches--> Open --PATCH UploadComplete--> UploadComplete --GET--> InProgress (for
    # `job_polls_in_progress` status reads) --GET--> `job_end_state`. The records are processed when the
    # job reaches JobComplete; a Failed or Aborted job processes none.
    ENDED = ("JobComplete", "Failed", "Aborted")

    def job_info(self, job):
        return {k: v for k, v in job.items() if not k.startswith("_")}

    def job(self, jid):
        job = self.jobs.get(jid)
        if job is None:
            raise Fail(self.err(404, "NOT_FOUND", "The requested resource does not exist"))
        return job

    def job_create(self, req):
        body = req.json(self.bad_request) or {}
        op = body.get("operation")
        if str(body.get("object", "")).lower() != "contact" or op not in ("delete", "hardDelete"):
            raise Fail(self.err(400, "INVALIDJOB", "fake supports only object Contact with operation delete or hardDelete"))
        jid = self.new_id("750Dn")
        now = sf_ts(datetime.now(UTC))
        self.jobs[jid] = {"id": jid, "operation": op, "object": "Contact", "createdById": "005Dn00000Fake1AAA",
                          "createdDate": now, "systemModstamp": now, "state": "Open", "concurrencyMode": "Parallel",
                          "contentType": "CSV", "apiVersion": 60.0, "contentUrl": f"services/data/v60.0/jobs/ingest/{jid}/batches",
                          "lineEnding": "LF", "columnDelimiter": "COMMA", "_ids": [], "_ok": [], "_failed": []}
        return Resp(200, self.job_info(self.jobs[jid]))

    def job_upload(self, req, jid):
        job = self.job(jid)
        if job["state"] != "Open":
            raise Fail(self.err(400, "INVALIDJOBSTATE", "Job is not open for upload"))
        ctype = req.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "text/csv":
            raise Fail(self.err(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be text/csv"))
        rows = list(csv.DictReader(io.StringIO(req.body.decode("utf-8-sig"))))
        job["_ids"] += [(r.get("Id") or r.get("ID") or r.get("id") or "").strip() for r in rows]
        return Resp(201)

    def job_patch(self, req, jid):
        job = self.job(jid)
        state = (req.json(self.bad_request) or {}).get("state")
        if state == "Aborted" and job["state"] not in self.ENDED:
            job["state"] = "Aborted"
        elif state == "UploadComplete" and job["state"] == "Open":
            job["state"] = "UploadComplete"
            job["_polls_left"] = int(self.faults["job_polls_in_progress"] or 0)
            job["_end"] = self.faults["job_end_state"]
            job["_errors"] = dict(self.faults["job_record_errors"])
        else:
            raise Fail(self.err(400, "INVALIDJOBSTATE", f"Cannot change job state to {state}"))
        return Resp(200, self.job_info(job))

    def job_process(self, job):
        for pid in job["_ids"]:
            rec = self.lookup(pid)
            if pid in job["_errors"]:
                job["_failed"].append((rec["_pid"] if rec else "", job["_errors"][pid], pid))
            elif rec is None or rec["_perm"]:
                job["_failed"].append(("", "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--", pid))
            elif rec["_deleted"]:
                job["_failed"].append(("", "ENTITY_IS_DELETED:entity is deleted:--", pid))
            else:
                self.api_delete(rec, permanent=job["operation"] == "hardDelete")
                job["_ok"].append((rec["_pid"], pid))
        job["numberRecordsProcessed"] = len(job["_ids"])
        job["numberRecordsFailed"] = len(job["_failed"])

    def job_get(self, req, jid):
        job = self.job(jid)
        if job["state"] in ("UploadComplete", "InProgress"):
            if job["_polls_left"] > 0:
                job["_polls_left"] -= 1
                job["state"] = "InProgress"
            else:
                job["state"] = job["_end"]
                if job["state"] == "JobComplete":
                    self.job_process(job)
                elif job["state"] == "Failed":
                    job["errorMessage"] = "InvalidBatch : Failed to process query"
                    job["numberRecordsProcessed"] = 0
        return Resp(200, self.job_info(job))

    def job_results(self, req, jid, which):
        job = self.job(jid)
        if job["state"] not in self.ENDED:
            raise Fail(self.err(400, "INVALIDJOBSTATE", "Job is not complete"))
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        if which == "successfulResults":
            w.writerow(["sf__Id", "sf__Created", "Id"])
            w.writerows([pid, "false", sent] for pid, sent in job["_ok"])
        else:
            w.writerow(["sf__Id", "sf__Error", "Id"])
            w.writerows([pid, err, sent] for pid, err, sent in job["_failed"])
        return Resp(200, out.getvalue().encode(), ctype="text/csv")


# ------------------------------------------------------------------------------------------ Pipedrive
class Pipedrive(FakeCRM):
    name = "pipedrive"
    token_path = "/oauth/token"
    window_ms, window_max = 2000, 80
    routes = [
        ("GET", r"^/v1/persons/?$", "list", "GET /v1/persons"),
        ("DELETE", r"^/v1/persons/?$", "bulk_delete", "DELETE /v1/persons"),
        ("GET", r"^/v1/persons/(\d+)$", "get", "GET /v1/persons/{id}"),
        ("PUT", r"^/v1/persons/(\d+)$", "put", "PUT /v1/persons/{id}"),
        ("DELETE", r"^/v1/persons/(\d+)$", "delete", "DELETE /v1/persons/{id}"),
        ("GET", r"^/v1/personFields/?$", "fields", "GET /v1/personFields"),
        # API v2 (only the /api/v2/ prefix exists; same record store)
        ("GET", r"^/api/v2/persons/?$", "list_v2", "GET /api/v2/persons"),
        ("GET", r"^/api/v2/persons/(\d+)$", "get_v2", "GET /api/v2/persons/{id}"),
        ("PATCH", r"^/api/v2/persons/(\d+)$", "patch_v2", "PATCH /api/v2/persons/{id}"),
        ("DELETE", r"^/api/v2/persons/(\d+)$", "delete_v2", "DELETE /api/v2/persons/{id}"),
        ("GET", r"^/api/v2/personFields/?$", "fields_v2", "GET /api/v2/personFields"),
    ]
    v2_custom_keys = [PD_KEY_PURPOSE, PD_KEY_CONSENT, PD_KEY_INTERESTS, PD_KEY_EXTENDED]

    def __init__(self, args, seeds):
        labels = list(PD_PURPOSE_OPTIONS)
        for s in seeds:
            p = s.get("purpose") or []
            labels += [x.strip() for x in (p.split(";") if isinstance(p, str) else p) if x.strip() not in labels]
        self.purpose_ids = {label: PD_PURPOSE_OPTIONS.get(label, 12 + i) for i, label in enumerate(dict.fromkeys(labels))}
        self.purpose_labels = {v: k for k, v in self.purpose_ids.items()}
        super().__init__(args, seeds)

    def purpose_id(self, label):
        if label not in self.purpose_ids:
            self.purpose_ids[label] = max(self.purpose_ids.values()) + 1
            self.purpose_labels[self.purpose_ids[label]] = label
        return self.purpose_ids[label]

    def dispatch(self, req):
        if req.path.startswith("/api/v1/"):
            req.path = req.path[4:]
        return super().dispatch(req)

    def make_id(self, index, rec):
        return index + 1

    def err(self, status, message, **extra):
        return Resp(status, {"success": False, "error": message, "errorCode": status,
                             "error_info": "Please check developers.pipedrive.com for more information about Pipedrive API.",
                             "data": None, "additional_data": None, **extra})

    def auth_token(self, req):
        auth = req.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        if req.path.startswith("/api/v2/"):       # v2: the token only in the header, never in the URL
            return req.headers.get("x-api-token")
        return req.q("api_token") or req.headers.get("x-api-token")

    def unauthorized(self, expired):
        return self.err(401, "unauthorized access")

    def rate_limited(self):
        return Resp(429, {"success": False, "error": "Request over limit", "errorCode": 429},
                    {"Retry-After": "1"})

    def server_error(self, status):
        return self.err(status, {500: "Internal server error", 502: "Bad gateway",
                                 503: "Service unavailable"}.get(status, status_phrase(status)))

    def limit_headers(self, limited):
        return {"x-ratelimit-limit": str(self.window_max),
                "x-ratelimit-remaining": "0" if limited else str(max(0, self.window_max - len(self.recent))),
                "x-ratelimit-reset": "2"}

    def not_found_route(self, req):
        return self.err(404, "Unknown method .")

    def status_error(self, status):
        return self.err(status, status_phrase(status))

    def bad_request(self, message):
        return self.err(400, message)

    def token_endpoint(self, req):
        auth = req.headers.get("Authorization", "")
        basic = base64.b64decode(auth[6:]).decode() if auth[:6].lower() == "basic " else None
        problem = self.check_refresh(req.form(), basic)
        if problem:
            return Resp(400 if problem != "client" else 401,
                        {"success": False, "message": {"grant_type": "Unsupported grant type: grant_type is invalid",
                                                       "client": "Invalid client: client is invalid",
                                                       "refresh_token": "Invalid grant: refresh_token is invalid"}[problem],
                         "error": "invalid_grant"})
        return Resp(200, {"access_token": self.issue_token(), "token_type": "Bearer", "expires_in": 3599,
                          "refresh_token": self.args.refresh_token, "scope": "base,contacts:full",
                          "api_domain": self.base_url})

    def info(self):
        out = super().info()
        out["fields"] = {"PIPEDRIVE_FIELD_PURPOSE": PD_KEY_PURPOSE, "PIPEDRIVE_FIELD_MARKETING_CONSENT": PD_KEY_CONSENT,
                         "PIPEDRIVE_FIELD_INTERESTS": PD_KEY_INTERESTS, "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT": PD_KEY_EXTENDED,
                         "purpose_options": self.purpose_ids, "consent_options": PD_CONSENT_OPTIONS}
        return out

    def person(self, rec):
        name = " ".join(x for x in (rec["firstname"], rec["lastname"]) if x)
        email = rec["email"]
        consent = rec["marketing_consent"]
        return {"id": rec["_pid"], "company_id": 7001,
                "owner_id": {"id": 9001, "name": "Lethe Owner", "email": "owner@example.com", "has_pic": 0,
                             "pic_hash": None, "active_flag": True, "value": 9001},
                "org_id": None, "name": name, "first_name": rec["firstname"] or None, "last_name": rec["lastname"] or None,
                "phone": [{"value": "", "primary": True}],
                "email": [{"label": "work", "value": email, "primary": True}] if email else [{"value": "", "primary": True}],
                "primary_email": email or None, "first_char": name[:1].lower() or None,
                "add_time": pd_ts(rec["created"]), "update_time": pd_ts(rec["updated"]), "visible_to": "3",
                "active_flag": not rec["_deleted"], "label": None, "org_name": None, "owner_name": "Lethe Owner",
                PD_KEY_PURPOSE: ",".join(str(self.purpose_id(p)) for p in rec["purpose"]) or None,
                PD_KEY_CONSENT: None if consent is None else str(PD_CONSENT_OPTIONS["Yes" if consent else "No"]),
                PD_KEY_INTERESTS: rec["interests"] or None,
                PD_KEY_EXTENDED: rec["consent_extended_at"].strftime("%Y-%m-%d") if rec["consent_extended_at"] else None}

    def list(self, req):
        try:
            start, limit = int(req.q("start", "0")), int(req.q("limit", "100"))
        except ValueError:
            raise Fail(self.bad_request("start and limit must be integers"))
        limit = self.page_cap(max(1, min(limit, 500)))
        pool = sorted((r for r in self.records if not r["_deleted"] and not r["_perm"] and not self.faults["empty_list"]),
                      key=lambda r: r["_pid"])
        sort = req.q("sort")
        if sort:
            for part in reversed(sort.split(",")):
                words = part.split()
                field = words[0] if words else ""
                keys = {"id": "_pid", "add_time": "created", "update_time": "updated", "first_name": "firstname",
                        "last_name": "lastname"}
                if field == "name":
                    key = lambda r: " ".join(x for x in (r["firstname"], r["lastname"]) if x).lower()
                elif field in keys:
                    key = lambda r, k=keys[field]: (r[k] is None, r[k] or "")
                else:
                    raise Fail(self.bad_request(f"Invalid sort field: {field}"))
                pool.sort(key=key, reverse=len(words) > 1 and words[1].upper() == "DESC")
        page, nxt = self.offset_page(pool, start, limit)
        more = nxt is not None
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = nxt
        # Rendered before the after-list actions run: they happen after this answer was sent.
        data = [self.person(r) for r in page] or None
        if not more:
            self.served_last_page()
        return Resp(200, {"success": True, "data": data,
                          "additional_data": {"pagination": pagination}})

    def found(self, pid):
        rec = self.lookup(pid)
        if rec is None or rec["_perm"]:
            raise Fail(self.err(404, "Person not found"))
        return rec

    def get(self, req, pid):
        return Resp(200, {"success": True, "data": self.person(self.found(pid))})

    def put(self, req, pid):
        body = req.json(self.bad_request)
        rec = self.found(pid)
        if not isinstance(body, dict):
            raise Fail(self.bad_request("Request body must be a JSON object"))
        changes = {}
        if "name" in body and "first_name" not in body and "last_name" not in body:
            first, _, last = str(body["name"] or "").partition(" ")
            changes.update(firstname=first, lastname=last)
        if "first_name" in body:
            changes["firstname"] = body["first_name"]
        if "last_name" in body:
            changes["lastname"] = body["last_name"]
        if "email" in body:
            e = body["email"]
            if isinstance(e, list):
                vals = [x for x in e if isinstance(x, dict) and x.get("value")]
                prim = [x for x in vals if str(x.get("primary")).lower() == "true"]
                e = (prim or vals or [{"value": None}])[0]["value"]
            changes["email"] = e or None
        if PD_KEY_PURPOSE in body:
            v = body[PD_KEY_PURPOSE]
            ids = v if isinstance(v, list) else [x for x in str(v or "").split(",") if x.strip()]
            try:
                changes["purpose"] = [self.purpose_labels[int(x)] for x in ids]
            except (KeyError, ValueError):
                raise Fail(self.bad_request(f"Invalid option id(s) for field {PD_KEY_PURPOSE}: {v}"))
        if PD_KEY_CONSENT in body:
            v = body[PD_KEY_CONSENT]
            if v in (None, ""):
                changes["marketing_consent"] = None
            elif str(v) in ("21", "22"):
                changes["marketing_consent"] = str(v) == "21"
            else:
                raise Fail(self.bad_request(f"Invalid option id for field {PD_KEY_CONSENT}: {v}"))
        if PD_KEY_INTERESTS in body:
            changes["interests"] = str(body[PD_KEY_INTERESTS] or "")
        if PD_KEY_EXTENDED in body:
            v = body[PD_KEY_EXTENDED]
            if v not in (None, "") and not re.fullmatch(r"\d{4}-\d\d-\d\d", str(v)):
                raise Fail(self.bad_request(f"Invalid date for field {PD_KEY_EXTENDED}: {v} (expected YYYY-MM-DD)"))
            changes["consent_extended_at"] = parse_time(v)
        rec.update(changes)
        self.touch(rec)
        return Resp(200, {"success": True, "data": self.person(rec)})

    def delete(self, req, pid):
        rec = self.found(pid)
        self.api_delete(rec)
        return Resp(200, {"success": True, "data": {"id": rec["_pid"]}})

    def bulk_delete(self, req):
        ids = req.q_list("ids")
        if not ids:
            raise Fail(self.bad_request("ids parameter is required"))
        done = []
        for pid in ids:
            if pid in self.faults["omit_ids"]:
                continue   # left out of the answer, not deleted
            rec = self.lookup(pid) if pid.isdigit() else None
            if rec and not rec["_perm"]:
                self.api_delete(rec)
                done.append(rec["_pid"])
        return Resp(200, {"success": True, "data": {"id": done}})

    def fields(self, req):
        std = [("id", "ID", "int"), ("name", "Name", "varchar"), ("first_name", "First name", "varchar"),
               ("last_name", "Last name", "varchar"), ("email", "Email", "varchar"), ("phone", "Phone", "phone"),
               ("add_time", "Person created", "date"), ("update_time", "Update time", "date"),
               ("active_flag", "Active", "int"), ("owner_id", "Owner", "user")]
        data = [{"id": 9000 + i, "key": k, "name": n, "field_type": t, "edit_flag": False, "active_flag": True,
                 "mandatory_flag": k == "name", "bulk_edit_allowed": True} for i, (k, n, t) in enumerate(std)]
        custom = [(PD_KEY_PURPOSE, "Lethe purpose", "set",
                   [{"id": i, "label": label} for label, i in self.purpose_ids.items()]),
                  (PD_KEY_CONSENT, "Lethe marketing consent", "enum",
                   [{"id": i, "label": label} for label, i in PD_CONSENT_OPTIONS.items()]),
                  (PD_KEY_INTERESTS, "Lethe interests", "varchar", None),
                  (PD_KEY_EXTENDED, "Lethe consent extended at", "date", None)]
        for i, (k, n, t, opts) in enumerate(custom):
            f = {"id": 9100 + i, "key": k, "name": n, "field_type": t, "edit_flag": True, "active_flag": True,
                 "mandatory_flag": False, "bulk_edit_allowed": True}
            if opts:
                f["options"] = opts
            data.append(f)
        start, limit = int(req.q("start", "0")), int(req.q("limit", "100"))
        page = data[start:start + limit]
        more = start + limit < len(data)
        pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + limit
        return Resp(200, {"success": True, "data": page or None, "additional_data": {"pagination": pagination}})

    # --- API v2 (/api/v2/persons): cursor pages, RFC 3339 times, custom fields in `custom_fields`
    def person_v2(self, rec, keys=None):
        name = " ".join(x for x in (rec["firstname"], rec["lastname"]) if x)
        email, consent = rec["email"], rec["marketing_consent"]
        custom = {PD_KEY_PURPOSE: [self.purpose_id(p) for p in rec["purpose"]] or None,
                  PD_KEY_CONSENT: None if consent is None else PD_CONSENT_OPTIONS["Yes" if consent else "No"],
                  PD_KEY_INTERESTS: rec["interests"] or None,
                  PD_KEY_EXTENDED: rec["consent_extended_at"].strftime("%Y-%m-%d") if rec["consent_extended_at"] else None}
        return {"id": rec["_pid"], "name": name, "first_name": rec["firstname"] or None,
                "last_name": rec["lastname"] or None, "owner_id": 9001, "org_id": None,
                "add_time": v2_ts(rec["created"]), "update_time": v2_ts(rec["updated"]),
                "emails": [{"value": email, "primary": True, "label": "work"}] if email else [],
                "phones": [], "is_deleted": bool(rec["_deleted"]), "visible_to": 3, "label_ids": [],
                "picture_id": None,
                "custom_fields": {k: v for k, v in custom.items() if keys is None or k in keys}}

    def custom_keys_v2(self, req):
        """The `custom_fields` parameter: at most 15 keys; unknown keys are simply not returned."""
        if "custom_fields" not in req.query:
            return None
        keys = req.q_list("custom_fields")
        if len(keys) > 15:
            raise Fail(self.bad_request("custom_fields: a maximum of 15 keys is allowed"))
        return set(keys)

    def cursor_out(self, position):
        return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")

    def cursor_in(self, text):
        try:
            position = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            assert isinstance(position, dict) and isinstance(position.get("id"), int)
            return position
        except Exception:
            raise Fail(self.bad_request("Invalid cursor"))

    def list_v2(self, req):
        try:
            limit = int(req.q("limit", "100"))
        except ValueError:
            raise Fail(self.bad_request("limit must be an integer"))
        if not 1 <= limit <= 500:
            raise Fail(self.bad_request("limit must be between 1 and 500"))
        ids = req.q_list("ids")
        # --max-page forces paging of lists; a read by ids (≤ 100, with a limit that covers them, as a
        # re-check asks) stays one page, as on Pipedrive.
        limit = self.page_cap(limit) if not ids or limit < len(ids) else limit
        sort_by, direction = req.q("sort_by", "id"), req.q("sort_direction", "asc")
        if sort_by not in ("id", "update_time", "add_time") or direction not in ("asc", "desc"):
            raise Fail(self.bad_request("sort_by is id, update_time or add_time; sort_direction asc or desc"))
        keys = self.custom_keys_v2(req)
        if len(ids) > 100 or not all(x.isdigit() for x in ids):
            raise Fail(self.bad_request("ids: up to 100 comma-separated integers"))
        bounds = []
        for name in ("updated_since", "updated_until"):
            value = req.q(name)
            if value and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
                raise Fail(self.bad_request(f"{name} must be an RFC 3339 date-time"))
            bounds.append(parse_time(value) if value else None)
        since, until = bounds
        field = {"id": None, "update_time": "updated", "add_time": "created"}[sort_by]

        def sort_key(r):   # seconds, as the API shows them; the id breaks ties
            return (int(r[field].timestamp()) if field else r["_pid"], r["_pid"])
        pool = [r for r in self.records if not r["_deleted"] and not r["_perm"] and not self.faults["empty_list"]
                and (not ids or str(r["_pid"]) in ids)
                and (since is None or r["updated"] >= since) and (until is None or r["updated"] < until)]
        pool.sort(key=sort_key, reverse=direction == "desc")
        start = 0
        cursor = req.q("cursor")
        if cursor and not (self.faults["repeat_cursor"] and pool):
            position = self.cursor_in(cursor)
            mark = (position.get("v", position["id"]), position["id"])
            start = next((i for i, r in enumerate(pool)
                          if (sort_key(r) >= mark if direction == "asc" else sort_key(r) <= mark)), len(pool))
            if self.faults["clamp_pages"] and pool and start >= len(pool):
                last = (len(pool) - 1) // limit * limit
                page = pool[last:last + limit]
                beyond = {"id": position["id"] + limit, "v": position.get("v", position["id"]) + limit}
                return self.page_v2(page, self.cursor_out(beyond), keys)
        page = pool[start:start + limit]
        if self.faults["repeat_cursor"] and pool:
            page, nxt = pool[:limit], pool[0]
        else:
            nxt = pool[start + limit] if start + limit < len(pool) else None
        next_cursor = self.cursor_out({"id": nxt["_pid"], "v": sort_key(nxt)[0]}) if nxt else None
        return self.page_v2(page, next_cursor, keys)

    def page_v2(self, page, next_cursor, keys):
        data = [self.person_v2(r, keys) for r in page]   # rendered before the after-list actions run
        if next_cursor is None:
            self.served_last_page()
        return Resp(200, {"success": True, "data": data, "additional_data": {"next_cursor": next_cursor}})

    def get_v2(self, req, pid):
        keys = self.custom_keys_v2(req)
        return Resp(200, {"success": True, "data": self.person_v2(self.found(pid), keys)})

    def custom_change_v2(self, key, v):
        """One `custom_fields` member of a PATCH, checked as strictly as v2 documents (no coercion)."""
        if key == PD_KEY_PURPOSE:
            if v is None:
                return {"purpose": []}
            if not isinstance(v, list) or not v or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                raise Fail(self.bad_request(f"custom_fields.{key}: an array of option ids, or null to clear"))
            if any(x not in self.purpose_labels for x in v):
                raise Fail(self.bad_request(f"custom_fields.{key}: unknown option id"))
            return {"purpose": [self.purpose_labels[x] for x in v]}
        if key == PD_KEY_CONSENT:
            if v is None:
                return {"marketing_consent": None}
            if not isinstance(v, int) or isinstance(v, bool) or v not in PD_CONSENT_OPTIONS.values():
                raise Fail(self.bad_request(f"custom_fields.{key}: an option id (integer), or null"))
            return {"marketing_consent": v == PD_CONSENT_OPTIONS["Yes"]}
        if key == PD_KEY_INTERESTS:
            if v is not None and not isinstance(v, str):
                raise Fail(self.bad_request(f"custom_fields.{key}: a string, or null"))
            return {"interests": v or ""}
        if key == PD_KEY_EXTENDED:
            if v is not None and not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", v)):
                raise Fail(self.bad_request(f"custom_fields.{key}: a date YYYY-MM-DD, or null"))
            return {"consent_extended_at": parse_time(v)}
        raise Fail(self.bad_request(f"custom_fields: unknown field {key}"))

    def patch_v2(self, req, pid):
        body = req.json(self.bad_request)
        rec = self.found(pid)
        if not isinstance(body, dict):
            raise Fail(self.bad_request("Request body must be a JSON object"))
        changes = {}
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise Fail(self.bad_request("name must be a non-empty string"))
            first, _, last = body["name"].partition(" ")
            changes.update(firstname=first, lastname=last)
        if "emails" in body:
            e = body["emails"]
            if not isinstance(e, list) or not all(isinstance(x, dict) and isinstance(x.get("value"), str) for x in e):
                raise Fail(self.bad_request("emails must be an array of {value, primary, label}"))
            prim = [x for x in e if x.get("primary") is True]
            changes["email"] = (prim or e or [{"value": None}])[0]["value"] or None
        custom = body.get("custom_fields", {})
        if not isinstance(custom, dict):
            raise Fail(self.bad_request("custom_fields must be an object"))
        for key, value in custom.items():   # all checked before any is applied
            changes.update(self.custom_change_v2(key, value))
        rec.update(changes)
        self.touch(rec)
        return Resp(200, {"success": True, "data": self.person_v2(rec)})

    def delete_v2(self, req, pid):
        rec = self.found(pid)
        self.api_delete(rec)
        return Resp(200, {"success": True, "data": {"id": rec["_pid"]}})

    def fields_v2(self, req):
        std = [("id", "ID", "int"), ("name", "Name", "varchar"), ("emails", "Email", "varchar"),
               ("phones", "Phone", "phone"), ("add_time", "Person created", "date"),
               ("update_time", "Update time", "date"), ("owner_id", "Owner", "user")]
        data = [{"field_name": n, "field_code": k, "field_type": t, "options": None, "subfields": None,
                 "is_custom_field": False, "is_optional_response_field": False} for k, n, t in std]
        custom = [(PD_KEY_PURPOSE, "Lethe purpose", "set", [{"id": i, "label": label} for label, i in self.purpose_ids.items()]),
                  (PD_KEY_CONSENT, "Lethe marketing consent", "enum",
                   [{"id": i, "label": label} for label, i in PD_CONSENT_OPTIONS.items()]),
                  (PD_KEY_INTERESTS, "Lethe interests", "varchar", None),
                  (PD_KEY_EXTENDED, "Lethe consent extended at", "date", None)]
        data += [{"field_name": n, "field_code": k, "field_type": t, "options": opts, "subfields": None,
                  "is_custom_field": True, "is_optional_response_field": False} for k, n, t, opts in custom]
        try:
            limit = int(req.q("limit", "100"))
        except ValueError:
            raise Fail(self.bad_request("limit must be an integer"))
        if not 1 <= limit <= 500:
            raise Fail(self.bad_request("limit must be between 1 and 500"))
        start = self.cursor_in(req.q("cursor"))["id"] if req.q("cursor") else 0
        more = start + limit < len(data)
        return Resp(200, {"success": True, "data": data[start:start + limit],
                          "additional_data": {"next_cursor": self.cursor_out({"id": start + limit}) if more else None}})


# `pipedrive-v1` is the same fake (v1 and v2 routes over one store), named after the v1 manifest.
PROVIDERS = {"hubspot": HubSpot, "salesforce": Salesforce, "pipedrive": Pipedrive, "pipedrive-v1": Pipedrive}


# ------------------------------------------------------------------------------------------- HTTP
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakecrm/1.0"

    def log_message(self, fmt, *args):
        if self.server.crm.args.verbose:
            sys.stderr.write("fakecrm: " + fmt % args + "\n")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_any(self):
        crm = self.server.crm
        split = urlsplit(self.path)
        try:
            req = Req(self.command, split.path, parse_qs(split.query, keep_blank_values=True), self.headers,
                      self.read_body())
            resp = crm.dispatch(req)
        except Exception:
            traceback.print_exc()
            resp = Resp(500, {"error": "fake server bug", "trace": traceback.format_exc()[-2000:]})
        body = resp.payload()
        if resp.malformed:
            body = body[:len(body) // 2]
        if resp.stall:
            time.sleep(resp.stall)
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.status != 204:
            self.send_header("Content-Type", resp.ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if resp.truncate:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif body:
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--provider", required=True, choices=sorted(PROVIDERS))
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--data", help="seed JSON file (list of provider-neutral records)")
    p.add_argument("--token", default="test-token", help="initially valid access token / api_token")
    p.add_argument("--client-id", default="cid")
    p.add_argument("--client-secret", default="csecret")
    p.add_argument("--refresh-token", default="rtoken")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--fail-5xx", type=float, default=0.0)
    p.add_argument("--rate-limit-every", type=int, default=0)
    p.add_argument("--truncate-every", type=int, default=0)
    p.add_argument("--token-expires-after", type=int, default=0)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--max-page", type=int, default=0)
    p.add_argument("--missing-route", action="append", metavar="LABEL",
                   help='answer this route (stats label, e.g. "POST /crm/v3/objects/contacts/batch/read") with the '
                        "provider's unknown-route 404; repeatable")
    p.add_argument("--empty-list", action="store_true", help="list/search/query endpoints answer zero records")
    p.add_argument("--repeat-cursor", action="store_true", help="list paging never advances: always the first page")
    p.add_argument("--clamp-pages", action="store_true", help="out-of-range pages answer the last page again")
    p.add_argument("--rate-limit-storm", type=int, default=0, metavar="N",
                   help="the next N authorised API requests are rate-limited (Retry-After: 1)")
    p.add_argument("--no-stdin-watch", action="store_true", help="do not exit when stdin reaches EOF")
    p.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    seeds = []
    if args.data:
        with open(args.data, encoding="utf-8") as fh:
            seeds = json.load(fh)
    crm = PROVIDERS[args.provider](args, seeds)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.crm = crm
    crm.port = server.server_address[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    if not args.no_stdin_watch:
        threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    sys.stdout.write(f"LISTENING {crm.port}\n")
    sys.stdout.flush()
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
