"""Self-test for fakecrm.py: `python3 -m unittest Tests/FakeCRMs/test_fakecrm.py` (a few seconds)."""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import quote, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fakecrm.py")
SEED = [{"id": f"n{i}", "created": f"2019-03-{i % 28 + 1:02d}T09:15:00Z", "updated": f"2024-01-{i % 28 + 1:02d}T00:00:00Z",
         "email": f"u{i}@example.com", "firstname": "민준", "lastname": "김",
         "purpose": ["payment", "marketing"] if i % 2 else ["dispute"], "marketing_consent": [True, False, None][i % 3],
         "interests": "hiking;golf" if i % 4 else "", "consent_extended_at": "2024-05-01T00:00:00Z" if i % 5 == 0 else None}
        for i in range(25)]


class Fake:
    def __init__(self, provider, *flags):
        self.tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
        json.dump(SEED, self.tmp, ensure_ascii=False)
        self.tmp.close()
        self.proc = subprocess.Popen([sys.executable, FAKE, "--provider", provider, "--port", "0", "--data", self.tmp.name,
                                      *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("LISTENING "), line
        self.port = int(line.split()[1])

    def call(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        data = body if isinstance(body, (bytes, type(None))) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        try:
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode()
        return resp.status, dict(resp.getheaders()), parsed

    def control(self, method, path, body=None):
        return self.call(method, "/_fake/" + path, body)[2]

    def close(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()        # EOF on stdin: the server exits by itself
        self.proc.wait(5)
        self.proc.stdout.close()
        os.unlink(self.tmp.name)


class HubSpotTests(unittest.TestCase):
    def setUp(self):
        self.f = Fake("hubspot", "--token", "tok", "--token-expires-after", "2")
        self.auth = {"Authorization": "Bearer tok"}

    def tearDown(self):
        self.f.close()

    def test_paging_auth_refresh_and_after_list(self):
        self.assertEqual(self.f.call("GET", "/crm/v3/objects/contacts")[0], 401)
        # Make record 1003 disappear once the last page has been served.
        self.f.control("POST", "after-list", {"provider_id": "1003", "delete": True})
        ids, path, token, refreshed = [], "/crm/v3/objects/contacts?limit=10&properties=email,lethe_purpose", "tok", 0
        while path:
            status, headers, body = self.f.call("GET", path, headers={"Authorization": f"Bearer {token}"})
            if status == 401:
                self.assertEqual(body["category"], "EXPIRED_AUTHENTICATION")
                form = "grant_type=refresh_token&client_id=cid&client_secret=csecret&refresh_token=rtoken"
                status, _, tok = self.f.call("POST", "/oauth/v1/token", form,
                                             {"Content-Type": "application/x-www-form-urlencoded"})
                self.assertEqual(status, 200)
                token, refreshed = tok["access_token"], refreshed + 1
                continue
            self.assertEqual(status, 200)
            self.assertIn("X-HubSpot-RateLimit-Remaining", headers)
            ids += [r["id"] for r in body["results"]]
            self.assertEqual(set(body["results"][0]["properties"]),
                             {"email", "lethe_purpose", "createdate", "hs_object_id", "lastmodifieddate"})
            nxt = body.get("paging", {}).get("next")
            path = nxt["link"].split(str(self.f.port), 1)[1] if nxt else None
        self.assertEqual(ids, [str(1001 + i) for i in range(25)])
        self.assertEqual(refreshed, 1)
        records = {r["provider_id"]: r for r in self.f.control("GET", "records")}
        self.assertTrue(records["1003"]["deleted"])
        self.f.control("POST", "faults", {"token_expires_after": 0})
        h = {"Authorization": f"Bearer {token}"}
        self.assertEqual(self.f.call("GET", "/crm/v3/objects/contacts/1003", headers=h)[2]["category"], "OBJECT_NOT_FOUND")
        self.assertEqual(self.f.call("DELETE", "/crm/v3/objects/contacts/424242", headers=h)[0], 204)
        stats = self.f.control("GET", "stats")
        self.assertEqual(stats["token_refreshes"], refreshed)
        self.assertGreaterEqual(stats["unauthorized"], 2)

    def test_patch_search_batch(self):
        self.f.control("POST", "faults", {"token_expires_after": 0})
        h = self.auth
        s, _, body = self.f.call("PATCH", "/crm/v3/objects/contacts/1001",
                                 {"properties": {"lethe_interests": "", "lethe_marketing_consent": "maybe"}}, h)
        self.assertEqual(s, 400)
        s, _, body = self.f.call("PATCH", "/crm/v3/objects/contacts/1001", {"properties": {"lethe_purpose": "payment"}}, h)
        self.assertEqual((s, body["properties"]["lethe_purpose"]), (200, "payment"))
        rec = self.f.control("GET", "records")[0]
        self.assertEqual((rec["purpose"], rec["interests"], rec["updates"]), (["payment"], "", 1))
        q = {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "LT",
                                            "value": "1552000000000"}]}], "limit": 2, "properties": ["email"]}
        s, _, body = self.f.call("POST", "/crm/v3/objects/contacts/search", q, h)
        self.assertEqual((s, body["total"], len(body["results"]), body["paging"]["next"]["after"]), (200, 7, 2, "2"))
        self.assertEqual(self.f.call("POST", "/crm/v3/objects/contacts/search", dict(q, after="10000"), h)[0], 400)
        s, _, body = self.f.call("POST", "/crm/v3/objects/contacts/batch/read",
                                 {"inputs": [{"id": "1002"}, {"id": "77"}], "properties": ["email"]}, h)
        self.assertEqual((s, body["errors"][0]["context"]["ids"]), (207, ["77"]))
        too_many = {"inputs": [{"id": str(i)} for i in range(101)]}
        self.assertEqual(self.f.call("POST", "/crm/v3/objects/contacts/batch/archive", too_many, h)[0], 400)
        self.assertEqual(self.f.call("POST", "/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": "1002"}]}, h)[0], 204)
        self.assertEqual(self.f.call("POST", "/crm/v3/objects/contacts/gdpr-delete", {"objectId": "1004"}, h)[0], 204)
        recs = {r["provider_id"]: r for r in self.f.control("GET", "records")}
        self.assertTrue(recs["1002"]["deleted"] and not recs["1002"]["permanently_deleted"])
        self.assertTrue(recs["1004"]["permanently_deleted"])


class SalesforceTests(unittest.TestCase):
    def setUp(self):
        self.f = Fake("salesforce", "--max-page", "10", "--rate-limit-every", "3")
        self.h = {"Authorization": "Bearer test-token"}

    def tearDown(self):
        self.f.close()

    def get(self, path):
        while True:
            s, headers, body = self.f.call("GET", path, headers=self.h)
            if s != 403:
                self.assertRegex(headers["Sforce-Limit-Info"], r"api-usage=\d+/15000")
                return s, body
            self.assertEqual(body[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED")

    def test_query_paging_deletes_and_hard_delete(self):
        soql = "SELECT Id, Email, LastModifiedDate FROM Contact WHERE LastModifiedDate >= 2024-01-05T00:00:00Z " \
               "ORDER BY LastModifiedDate ASC"
        s, body = self.get("/services/data/v60.0/query?q=" + quote(soql))
        records = list(body["records"])
        self.assertEqual((s, body["totalSize"], body["done"]), (200, 21, False))
        while not body["done"]:
            s, body = self.get(body["nextRecordsUrl"])
            records += body["records"]
        self.assertEqual(len(records), 21)
        self.assertTrue(records[0]["LastModifiedDate"].endswith(".000+0000"))
        s, body = self.get("/services/data/v60.0/query?q=" + quote("SELECT Id FROM Contact WHERE"))
        self.assertEqual((s, body[0]["errorCode"]), (400, "MALFORMED_QUERY"))
        a, b = records[0]["Id"], records[1]["Id"]
        self.f.control("POST", "faults", {"rate_limit_every": 0})
        self.assertEqual(self.f.call("DELETE", f"/services/data/v60.0/sobjects/Contact/{a}", headers=self.h)[0], 204)
        s, _, body = self.f.call("GET", f"/services/data/v60.0/sobjects/Contact/{a}", headers=self.h)
        self.assertEqual((s, body[0]["errorCode"]), (404, "ENTITY_IS_DELETED"))
        s, _, body = self.f.call("DELETE", f"/services/data/v60.0/composite/sobjects?ids={a},{b}&allOrNone=false",
                                 headers=self.h)
        self.assertEqual([r["success"] for r in body], [False, True])
        self.assertEqual(body[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED")
        # Bulk API 2.0 hardDelete bypasses the Recycle Bin.
        c = records[2]["Id"]
        s, _, job = self.f.call("POST", "/services/data/v60.0/jobs/ingest",
                                {"object": "Contact", "operation": "hardDelete", "contentType": "CSV", "lineEnding": "LF"},
                                self.h)
        self.assertEqual((s, job["state"]), (200, "Open"))
        self.assertEqual(self.f.call("PUT", "/" + job["contentUrl"], f"Id\n{c}\n{a}\n",
                                     dict(self.h, **{"Content-Type": "text/csv"}))[0], 201)
        self.f.call("PATCH", f"/services/data/v60.0/jobs/ingest/{job['id']}", {"state": "UploadComplete"}, self.h)
        s, _, info = self.f.call("GET", f"/services/data/v60.0/jobs/ingest/{job['id']}", headers=self.h)
        self.assertEqual((info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]), ("JobComplete", 2, 1))
        recs = {r["provider_id"]: r for r in self.f.control("GET", "records")}
        self.assertTrue(recs[c]["permanently_deleted"] and not recs[a]["permanently_deleted"])

    def test_token_expiry_and_refresh(self):
        self.f.control("POST", "faults", {"rate_limit_every": 0, "token_expires_after": 2})
        path = "/services/data/v60.0/sobjects/Contact/003Dn0000000001IAA?fields=Id,Email"
        self.assertEqual(self.get(path)[0], 200)
        self.assertEqual(self.get(path)[0], 200)
        s, body = self.get(path)
        self.assertEqual((s, body[0]["errorCode"]), (401, "INVALID_SESSION_ID"))
        ctype = {"Content-Type": "application/x-www-form-urlencoded"}
        form = {"grant_type": "refresh_token", "client_id": "cid", "client_secret": "csecret", "refresh_token": "nope"}
        self.assertEqual(self.f.call("POST", "/services/oauth2/token", urlencode(form), ctype)[2]["error"], "invalid_grant")
        s, _, tok = self.f.call("POST", "/services/oauth2/token", urlencode(dict(form, refresh_token="rtoken")), ctype)
        self.assertEqual(set(tok) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}, True)
        self.h = {"Authorization": "Bearer " + tok["access_token"]}
        self.assertEqual(self.get(path)[1]["Email"], "u0@example.com")


class PipedriveTests(unittest.TestCase):
    def tearDown(self):
        self.f.close()

    def test_paging_faults_and_control(self):
        self.f = Fake("pipedrive", "--seed", "3", "--fail-5xx", "0.3", "--rate-limit-every", "4", "--truncate-every", "3")
        outcomes, persons, start = [], [], 0
        while start is not None:
            try:
                s, headers, body = self.f.call("GET", f"/v1/persons?start={start}&limit=7&api_token=test-token")
            except http.client.IncompleteRead:
                outcomes.append("cut")
                continue
            outcomes.append(s)
            if s == 429:
                self.assertEqual((headers["Retry-After"], body["errorCode"]), ("1", 429))
            if s != 200:
                continue
            self.assertIn("x-ratelimit-remaining", headers)
            persons += body["data"]
            pag = body["additional_data"]["pagination"]
            start = pag.get("next_start") if pag["more_items_in_collection"] else None
        self.assertEqual([p["id"] for p in persons], list(range(1, 26)))
        stats = self.f.control("GET", "stats")
        self.assertEqual(stats["requests"], len(outcomes))
        self.assertEqual((stats["rate_limited"], stats["failed_5xx"], stats["truncated"]),
                         (outcomes.count(429), sum(o in (500, 502, 503) for o in outcomes), outcomes.count("cut")))
        self.assertTrue(stats["rate_limited"] and stats["failed_5xx"] and stats["truncated"])
        first_run = outcomes
        self.f.close()
        # Same seed, same request sequence: same fault schedule.
        self.f = Fake("pipedrive", "--seed", "3", "--fail-5xx", "0.3", "--rate-limit-every", "4", "--truncate-every", "3")
        again = []
        for _ in first_run:
            try:
                again.append(self.f.call("GET", "/v1/persons?start=0&limit=7&api_token=test-token")[0])
            except http.client.IncompleteRead:
                again.append("cut")
        self.assertEqual(again, first_run)

    def test_writes_fields_and_failed_actions(self):
        self.f = Fake("pipedrive")
        s, _, body = self.f.call("GET", "/v1/personFields", headers={"x-api-token": "test-token"})
        keys = {f["name"]: f for f in body["data"]}
        purpose = keys["Lethe purpose"]
        self.assertEqual((purpose["field_type"], [o["id"] for o in purpose["options"]]), ("set", [12, 13, 14]))
        self.assertEqual(self.f.call("GET", "/v1/persons/1?api_token=bad")[0], 401)
        put = {purpose["key"]: "12,14", keys["Lethe marketing consent"]["key"]: 22}
        self.f.control("POST", "faults", {"fail_5xx": 1.0})
        self.assertIn(self.f.call("PUT", "/v1/persons/1?api_token=test-token", put)[0], (500, 502, 503))
        self.assertEqual(self.f.control("GET", "records")[0]["updates"], 0)       # failed: not performed
        self.f.control("POST", "faults", {"fail_5xx": 0})
        s, _, body = self.f.call("PUT", "/v1/persons/1?api_token=test-token", put)
        self.assertEqual((s, body["data"][purpose["key"]]), (200, "12,14"))
        rec = self.f.control("GET", "records")[0]
        self.assertEqual((rec["purpose"], rec["marketing_consent"], rec["updates"]), (["payment", "marketing"], False, 1))
        self.assertEqual(self.f.call("DELETE", "/v1/persons/1?api_token=test-token")[2], {"success": True, "data": {"id": 1}})
        s, _, body = self.f.call("GET", "/v1/persons/1?api_token=test-token")
        self.assertEqual((s, body["data"]["active_flag"]), (200, False))
        s, _, body = self.f.call("DELETE", "/v1/persons?ids=2,3,999&api_token=test-token")
        self.assertEqual(body["data"]["id"], [2, 3])
        s, _, body = self.f.call("GET", "/v1/persons?limit=500&api_token=test-token")
        self.assertEqual(len(body["data"]), 22)
        self.f.control("PUT", "records/4", {"email": "changed@example.com"})
        self.assertEqual(self.f.call("GET", "/v1/persons/4?api_token=test-token")[2]["data"]["primary_email"],
                         "changed@example.com")


class LifecycleTests(unittest.TestCase):
    def test_sigterm_and_stdin_eof(self):
        f = Fake("hubspot")
        f.proc.send_signal(signal.SIGTERM)
        self.assertEqual(f.proc.wait(5), 0)
        f.close()
        g = Fake("salesforce")
        g.proc.stdin.close()
        self.assertEqual(g.proc.wait(5), 0)
        g.close()


if __name__ == "__main__":
    unittest.main()
