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
    def __init__(self, provider, *flags, wait=True):
        self.tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
        json.dump(SEED, self.tmp, ensure_ascii=False)
        self.tmp.close()
        self.proc = subprocess.Popen([sys.executable, FAKE, "--provider", provider, "--port", "0", "--data", self.tmp.name,
                                      *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if wait:
            self.ready()

    def ready(self):
        line = self.proc.stdout.readline()
        assert line.startswith("LISTENING "), line
        self.port = int(line.split()[1])
        return self

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
                                 {"inputs": [{"id": "1002"}, {"id": "77"}], "properties": ["email"], "propertiesWithHistory": []}, h)
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

    def hard_delete_job(self, ids):
        s, _, job = self.f.call("POST", "/services/data/v60.0/jobs/ingest",
                                {"object": "Contact", "operation": "hardDelete", "contentType": "CSV", "lineEnding": "LF"},
                                self.h)
        self.assertEqual(s, 200)
        csv_body = "Id\n" + "".join(i + "\n" for i in ids)
        self.assertEqual(self.f.call("PUT", "/" + job["contentUrl"], csv_body, dict(self.h, **{"Content-Type": "text/csv"}))[0], 201)
        s, _, info = self.f.call("PATCH", f"/services/data/v60.0/jobs/ingest/{job['id']}", {"state": "UploadComplete"}, self.h)
        self.assertEqual((s, info["state"]), (200, "UploadComplete"))
        return f"/services/data/v60.0/jobs/ingest/{job['id']}"

    def test_bulk_job_progress_record_errors_and_failed_jobs(self):
        self.f.control("POST", "faults", {"rate_limit_every": 0, "job_polls_in_progress": 2,
                                          "job_record_errors": {"003Dn0000000002IAA": "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access:--"}})
        a, b, gone = "003Dn0000000001IAA", "003Dn0000000002IAA", "003Dn0000000099IAA"
        job = self.hard_delete_job([a, b, gone])
        self.assertEqual(self.f.call("GET", job + "/successfulResults/", headers=self.h)[0], 400, "not ended yet")
        states = [self.f.call("GET", job, headers=self.h)[2]["state"] for _ in range(3)]
        self.assertEqual(states, ["InProgress", "InProgress", "JobComplete"])
        s, headers, ok = self.f.call("GET", job + "/successfulResults/", headers=self.h)
        self.assertEqual((s, headers["Content-Type"].split(";")[0]), (200, "text/csv"))
        self.assertEqual(ok.splitlines(), ['"sf__Id","sf__Created","Id"', f'"{a}","false","{a}"'])
        failed = self.f.call("GET", job + "/failedResults/", headers=self.h)[2].splitlines()
        self.assertEqual(failed[0], '"sf__Id","sf__Error","Id"')
        self.assertIn(f'"{b}","UNABLE_TO_LOCK_ROW:unable to obtain exclusive access:--","{b}"', failed)
        self.assertIn(f'"","INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--","{gone}"', failed)
        recs = {r["provider_id"]: r for r in self.f.control("GET", "records")}
        self.assertTrue(recs[a]["permanently_deleted"])
        self.assertFalse(recs[b]["deleted"])
        # A Failed job processes nothing; an upload that is not text/csv is refused.
        self.f.control("POST", "faults", {"job_polls_in_progress": 0, "job_end_state": "Failed", "job_record_errors": {}})
        job = self.hard_delete_job([b])
        info = self.f.call("GET", job, headers=self.h)[2]
        self.assertEqual((info["state"], "errorMessage" in info), ("Failed", True))
        self.assertFalse({r["provider_id"]: r for r in self.f.control("GET", "records")}[b]["deleted"])
        s, _, created = self.f.call("POST", "/services/data/v60.0/jobs/ingest", {"object": "Contact", "operation": "hardDelete"}, self.h)
        self.assertEqual(self.f.call("PUT", "/" + created["contentUrl"], f"Id\n{b}\n", self.h)[0], 415)
        self.assertEqual(self.f.call("POST", "/_fake/faults", {"job_end_state": "Done"})[0], 400)

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
        # The documented shape; a person deleted before (1) is listed again, an unknown id (999) left out.
        s, _, body = self.f.call("DELETE", "/v1/persons?ids=1,2,3,999&api_token=test-token")
        self.assertEqual((s, body), (200, {"success": True, "data": {"id": [1, 2, 3]}}))
        s, _, body = self.f.call("GET", "/v1/persons?limit=500&api_token=test-token")
        self.assertEqual(len(body["data"]), 22)
        self.f.control("PUT", "records/4", {"email": "changed@example.com"})
        self.assertEqual(self.f.call("GET", "/v1/persons/4?api_token=test-token")[2]["data"]["primary_email"],
                         "changed@example.com")


class PipedriveV2Tests(unittest.TestCase):
    """API v2 (/api/v2/persons) over the same store as v1."""
    H = {"x-api-token": "test-token"}

    def tearDown(self):
        self.f.close()

    def walk(self, query, limit=7):
        ids, cursor, pages = [], None, 0
        while True:
            q = f"{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            s, _, body = self.f.call("GET", "/api/v2/persons?" + q.lstrip("&"), headers=self.H)
            self.assertEqual(s, 200, body)
            pages += 1
            ids += [p["id"] for p in body["data"]]
            cursor = body["additional_data"]["next_cursor"]
            if cursor is None:
                return ids, pages

    def test_cursor_pages_shape_and_faults(self):
        self.f = Fake("pipedrive", "--seed", "3", "--fail-5xx", "0.3", "--rate-limit-every", "4")
        outcomes, ids, cursor = [], [], ""
        while cursor is not None:
            s, headers, body = self.f.call("GET", f"/api/v2/persons?limit=7&cursor={cursor}", headers=self.H)
            outcomes.append(s)
            if s == 429:
                self.assertEqual((headers["Retry-After"], body["errorCode"]), ("1", 429))
            if s != 200:
                continue
            self.assertIn("x-ratelimit-remaining", headers)
            ids += [p["id"] for p in body["data"]]
            cursor = body["additional_data"]["next_cursor"]
        self.assertEqual(ids, list(range(1, 26)))
        self.assertTrue(429 in outcomes and any(o in (500, 502, 503) for o in outcomes))
        self.f.control("POST", "faults", {"fail_5xx": 0, "rate_limit_every": 0})
        person = self.f.call("GET", "/api/v2/persons/2", headers=self.H)[2]["data"]
        self.assertEqual(person["add_time"], "2019-03-02T09:15:00Z")
        self.assertEqual(person["update_time"], "2024-01-02T00:00:00Z")
        self.assertEqual(person["emails"], [{"value": "u1@example.com", "primary": True, "label": "work"}])
        self.assertIs(person["is_deleted"], False)
        self.assertNotIn("active_flag", person)
        info = self.f.control("GET", "info")["fields"]
        custom = person["custom_fields"]
        self.assertEqual(custom[info["PIPEDRIVE_FIELD_PURPOSE"]], [12, 14])
        self.assertEqual(custom[info["PIPEDRIVE_FIELD_MARKETING_CONSENT"]], 22)
        self.assertEqual(custom[info["PIPEDRIVE_FIELD_INTERESTS"]], "hiking;golf")
        self.assertIsNone(custom[info["PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT"]])
        # The token only in the header; /v2/ without /api/ is an unknown route.
        self.assertEqual(self.f.call("GET", "/api/v2/persons?api_token=test-token")[0], 401)
        self.assertEqual(self.f.call("GET", "/v2/persons", headers=self.H)[0], 404)
        self.assertEqual(self.f.call("GET", "/api/v2/persons?limit=501", headers=self.H)[0], 400)
        self.assertEqual(self.f.call("GET", "/api/v2/persons/999", headers=self.H)[2]["errorCode"], 404)

    def test_ids_updated_since_and_custom_fields(self):
        self.f = Fake("pipedrive")
        info = self.f.control("GET", "info")["fields"]
        purpose, interests = info["PIPEDRIVE_FIELD_PURPOSE"], info["PIPEDRIVE_FIELD_INTERESTS"]
        s, _, body = self.f.call("GET", f"/api/v2/persons?ids=3,1,999&custom_fields={purpose},{interests}", headers=self.H)
        self.assertEqual([p["id"] for p in body["data"]], [1, 3], "unknown ids are left out")
        self.assertEqual(set(body["data"][0]["custom_fields"]), {purpose, interests})
        self.assertEqual(self.f.call("GET", "/api/v2/persons?ids=" + ",".join(map(str, range(1, 102))), headers=self.H)[0], 400)
        many = ",".join(f"{i:040x}" for i in range(16))
        self.assertEqual(self.f.call("GET", f"/api/v2/persons?custom_fields={many}", headers=self.H)[0], 400)
        # updated_since is RFC 3339 and inclusive; update_time ordering with cursors.
        ids, _ = self.walk("updated_since=2024-01-20T00:00:00Z&sort_by=update_time&sort_direction=asc", limit=3)
        updated = {p["provider_id"]: p["updated"] for p in self.f.control("GET", "records")}
        self.assertEqual(sorted(ids), sorted(i for i, u in updated.items() if u >= "2024-01-20T00:00:00Z"))
        self.assertEqual([updated[i] for i in ids], sorted(updated[i] for i in ids))
        self.assertEqual(self.f.call("GET", "/api/v2/persons?updated_since=2024-01-20%2000:00:00", headers=self.H)[0], 400)
        ids, pages = self.walk("sort_by=update_time&sort_direction=desc", limit=10)
        self.assertEqual((len(ids), len(set(ids)), pages), (25, 25, 3))

    def test_patch_delete_and_fields(self):
        self.f = Fake("pipedrive")
        s, _, body = self.f.call("GET", "/api/v2/personFields?limit=5", headers=self.H)
        fields = body["data"]
        cursor = body["additional_data"]["next_cursor"]
        while cursor:
            more = self.f.call("GET", f"/api/v2/personFields?limit=5&cursor={cursor}", headers=self.H)[2]
            fields += more["data"]
            cursor = more["additional_data"]["next_cursor"]
        by_name = {f["field_name"]: f for f in fields}
        purpose, consent = by_name["Lethe purpose"], by_name["Lethe marketing consent"]
        self.assertEqual((purpose["field_type"], [o["id"] for o in purpose["options"]]), ("set", [12, 13, 14]))
        extended, interests = by_name["Lethe consent extended at"]["field_code"], by_name["Lethe interests"]["field_code"]
        # Strict input: an option id as a string, a bad date, an unknown key: 400 and nothing changes.
        for bad in ({consent["field_code"]: "22"}, {extended: "2026-12-01T00:00:00Z"}, {"0" * 40: 1},
                    {purpose["field_code"]: []}):
            s, _, body = self.f.call("PATCH", "/api/v2/persons/1", {"custom_fields": bad}, headers=self.H)
            self.assertEqual(s, 400, bad)
        self.assertEqual(self.f.control("GET", "records")[0]["updates"], 0)
        patch = {"custom_fields": {consent["field_code"]: 21, interests: None, extended: "2026-12-01"}}
        s, _, body = self.f.call("PATCH", "/api/v2/persons/1", patch, headers=self.H)
        self.assertEqual((s, body["data"]["custom_fields"][consent["field_code"]]), (200, 21))
        rec = self.f.control("GET", "records")[0]
        self.assertEqual((rec["marketing_consent"], rec["interests"], rec["consent_extended_at"], rec["updates"]),
                         (True, "", "2026-12-01T00:00:00Z", 1))
        self.assertEqual(self.f.call("PATCH", "/api/v2/persons/999", patch, headers=self.H)[0], 404)
        self.assertEqual(self.f.call("PUT", "/api/v2/persons/1", patch, headers=self.H)[0], 404)
        # Soft delete: gone from lists (also by ids), still readable with is_deleted; purged: 404.
        self.assertEqual(self.f.call("DELETE", "/api/v2/persons/1", headers=self.H)[2], {"success": True, "data": {"id": 1}})
        self.assertIs(self.f.call("GET", "/api/v2/persons/1", headers=self.H)[2]["data"]["is_deleted"], True)
        self.assertEqual(self.f.call("GET", "/api/v2/persons?ids=1,2", headers=self.H)[2]["data"][0]["id"], 2)
        self.assertEqual(self.f.call("GET", "/v1/persons/1?api_token=test-token")[2]["data"]["active_flag"], False)
        self.f.control("POST", "purge")
        self.assertEqual(self.f.call("GET", "/api/v2/persons/1", headers=self.H)[0], 404)
        self.assertEqual(self.f.call("DELETE", "/api/v2/persons/1", headers=self.H)[0], 404)

    def test_list_faults_and_route_faults(self):
        self.f = Fake("pipedrive", "--max-page", "10")
        # --max-page pages lists, not a re-check by ids whose limit covers them.
        body = self.f.call("GET", "/api/v2/persons?limit=100&ids=" + ",".join(map(str, range(1, 18))), headers=self.H)[2]
        self.assertEqual((len(body["data"]), body["additional_data"]["next_cursor"]), (17, None))
        self.assertEqual(len(self.f.call("GET", "/api/v2/persons?limit=100", headers=self.H)[2]["data"]), 10)
        self.f.control("POST", "faults", {"repeat_cursor": True})
        first = self.f.call("GET", "/api/v2/persons", headers=self.H)[2]
        again = self.f.call("GET", "/api/v2/persons?cursor=" + first["additional_data"]["next_cursor"], headers=self.H)[2]
        self.assertEqual([p["id"] for p in again["data"]], list(range(1, 11)))
        self.assertEqual(again["additional_data"]["next_cursor"], first["additional_data"]["next_cursor"])
        self.f.control("POST", "faults", {"repeat_cursor": False, "clamp_pages": True})
        ids, _ = self.walk("", limit=10)
        self.assertEqual(ids, list(range(1, 26)))
        past = self.f.call("GET", "/api/v2/persons?cursor=eyJpZCI6OTl9", headers=self.H)[2]   # {"id":99}
        self.assertEqual(([p["id"] for p in past["data"]], past["additional_data"]["next_cursor"] is not None),
                         (list(range(21, 26)), True))
        self.f.control("POST", "faults", {"clamp_pages": False, "empty_list": True})
        self.assertEqual(self.f.call("GET", "/api/v2/persons", headers=self.H)[2],
                         {"success": True, "data": [], "additional_data": {"next_cursor": None}})
        self.f.control("POST", "faults", {"empty_list": False, "missing_routes": ["GET /api/v2/persons"],
                                          "fail_routes": {"PATCH /api/v2/persons/{id}": 503}})
        self.assertEqual(self.f.call("GET", "/api/v2/persons?ids=1", headers=self.H)[0], 404)
        self.assertEqual(self.f.call("PATCH", "/api/v2/persons/1", {"custom_fields": {}}, headers=self.H)[0], 503)
        self.f.control("POST", "faults", {"missing_routes": [], "fail_routes": {}, "rate_limit_storm": 2})
        self.assertEqual([self.f.call("DELETE", "/api/v2/persons/1", headers=self.H)[0] for _ in range(3)], [429, 429, 200])
        stats = self.f.control("GET", "stats")["by_route"]
        self.assertEqual((stats["DELETE /api/v2/persons/{id}"], stats["PATCH /api/v2/persons/{id}"]), (3, 1))


class FaultModeTests(unittest.TestCase):
    """missing_routes, empty_list, repeat_cursor, clamp_pages, rate_limit_storm, fail_routes."""
    HS = {"Authorization": "Bearer test-token"}
    SF = {"Authorization": "Bearer test-token"}
    PD = "api_token=test-token"

    def fakes(self, *specs):
        """Starts one fake per (provider, *flags) at once and stops them together: keeps the suite fast."""
        started = [Fake(*spec, wait=False) for spec in specs]

        def close_all():
            for f in started:
                f.proc.stdin.close()
            for f in started:
                f.close()
        self.addCleanup(close_all)
        return [f.ready() for f in started]

    def test_missing_routes(self):
        composite = "GET /services/data/v60.0/composite/sobjects/Contact"
        f, h = self.fakes(("salesforce", "--missing-route", composite),
                          ("hubspot", "--missing-route", "POST /crm/v3/objects/contacts/batch/read"))
        self.assertEqual(f.control("GET", "faults")["missing_routes"], [composite])
        pid = "003Dn0000000001IAA"
        path = f"/services/data/v60.0/composite/sobjects/Contact?ids={pid}&fields=Id"
        self.assertEqual(f.call("GET", path)[0], 401)                         # auth first
        s, _, body = f.call("GET", path, headers=self.SF)
        self.assertEqual((s, body[0]["errorCode"]), (404, "NOT_FOUND"))
        self.assertEqual(f.call("GET", f"/services/data/v60.0/sobjects/Contact/{pid}", headers=self.SF)[0], 200)
        delete = "DELETE /services/data/v60.0/sobjects/Contact/{id}"
        self.assertEqual(f.call("POST", "/_fake/faults", {"missing_routes": ["DELETE /nope"]})[0], 400)
        self.assertEqual(f.control("POST", "faults", {"missing_routes": [delete]})["missing_routes"], [delete])
        s, _, body = f.call("DELETE", f"/services/data/v60.0/sobjects/Contact/{pid}", headers=self.SF)
        self.assertEqual((s, body[0]["errorCode"]), (404, "NOT_FOUND"))
        self.assertFalse(f.control("GET", "records")[0]["deleted"])           # not performed
        self.assertEqual(f.control("GET", "stats")["by_route"][delete], 1)
        self.assertEqual(f.call("GET", path, headers=self.SF)[0], 200)        # the list was replaced
        s, _, body = h.call("POST", "/crm/v3/objects/contacts/batch/read", {"properties": [], "propertiesWithHistory": [], "inputs": [{"id": "1001"}]}, self.HS)
        self.assertEqual((s, body["category"]), (404, "OBJECT_NOT_FOUND"))
        self.assertTrue(body["message"].startswith("Unable to route POST"))

    def test_empty_list(self):
        h, p, sf = self.fakes(("hubspot", "--empty-list"), ("pipedrive",), ("salesforce", "--max-page", "10"))
        self.assertIs(h.control("GET", "faults")["empty_list"], True)
        self.assertEqual(h.call("GET", "/crm/v3/objects/contacts?limit=5", headers=self.HS)[2], {"results": []})
        s, _, body = h.call("POST", "/crm/v3/objects/contacts/search", {"limit": 5}, self.HS)
        self.assertEqual((s, body["total"], body["results"], "paging" in body), (200, 0, [], False))
        self.assertEqual(h.call("GET", "/crm/v3/objects/contacts/1001", headers=self.HS)[0], 200)
        s, _, body = h.call("POST", "/crm/v3/objects/contacts/batch/read", {"properties": [], "propertiesWithHistory": [], "inputs": [{"id": "1001"}]}, self.HS)
        self.assertEqual((s, len(body["results"])), (200, 1))
        p.control("POST", "faults", {"empty_list": True})
        s, _, body = p.call("GET", f"/v1/persons?limit=5&{self.PD}")
        self.assertEqual((s, body["data"], body["additional_data"]["pagination"]),
                         (200, None, {"start": 0, "limit": 5, "more_items_in_collection": False}))
        self.assertEqual(p.call("GET", f"/v1/persons/1?{self.PD}")[2]["data"]["id"], 1)
        # Salesforce: a query under way answers its nextRecordsUrl page empty and done.
        s, _, body = sf.call("GET", "/services/data/v60.0/query?q=" + quote("SELECT Id FROM Contact"), headers=self.SF)
        self.assertEqual((s, len(body["records"]), body["done"]), (200, 10, False))
        sf.control("POST", "faults", {"empty_list": True})
        s, _, more = sf.call("GET", body["nextRecordsUrl"], headers=self.SF)
        self.assertEqual((s, more), (200, {"totalSize": 0, "done": True, "records": []}))
        s, _, body = sf.call("GET", "/services/data/v60.0/query?q=" + quote("SELECT Id FROM Contact"), headers=self.SF)
        self.assertEqual(body, {"totalSize": 0, "done": True, "records": []})

    def test_repeat_cursor(self):
        p, h, sf = self.fakes(("pipedrive", "--repeat-cursor"), ("hubspot",),
                              ("salesforce", "--max-page", "10", "--repeat-cursor"))
        for start in (0, 0, 7):
            body = p.call("GET", f"/v1/persons?start={start}&limit=7&{self.PD}")[2]
            self.assertEqual([x["id"] for x in body["data"]], list(range(1, 8)))
            pag = body["additional_data"]["pagination"]
            self.assertEqual((pag["more_items_in_collection"], pag["next_start"]), (True, 0))
        h.control("POST", "faults", {"repeat-cursor": True})
        path = "/crm/v3/objects/contacts?limit=10"
        for _ in range(3):
            body = h.call("GET", path, headers=self.HS)[2]
            self.assertEqual([r["id"] for r in body["results"]], [str(1001 + i) for i in range(10)])
            self.assertEqual(body["paging"]["next"]["after"], "1001")
            path = body["paging"]["next"]["link"].split(str(h.port), 1)[1]
        for after in (None, "0", "5"):
            body = h.call("POST", "/crm/v3/objects/contacts/search", {"limit": 4, "after": after}, self.HS)[2]
            self.assertEqual(([r["id"] for r in body["results"]], body["paging"]["next"]["after"]),
                             (["1001", "1002", "1003", "1004"], "0"))
        s, _, first = sf.call("GET", "/services/data/v60.0/query?q=" + quote("SELECT Id FROM Contact"), headers=self.SF)
        url = first["nextRecordsUrl"]
        for _ in range(2):
            s, _, body = sf.call("GET", url, headers=self.SF)
            self.assertEqual((s, body["done"], body["nextRecordsUrl"], body["records"]), (200, False, url, first["records"]))

    def test_clamp_pages(self):
        p, h = self.fakes(("pipedrive", "--clamp-pages"), ("hubspot", "--clamp-pages"))
        body = p.call("GET", f"/v1/persons?start=21&limit=7&{self.PD}")[2]          # the real last page
        self.assertEqual(([x["id"] for x in body["data"]], body["additional_data"]["pagination"]["more_items_in_collection"]),
                         ([22, 23, 24, 25], False))
        for start in (25, 100):
            body = p.call("GET", f"/v1/persons?start={start}&limit=7&{self.PD}")[2]
            pag = body["additional_data"]["pagination"]
            self.assertEqual(([x["id"] for x in body["data"]], pag["more_items_in_collection"], pag["next_start"]),
                             ([22, 23, 24, 25], True, start + 7))
        p.control("POST", "faults", {"clamp_pages": False})
        self.assertIsNone(p.call("GET", f"/v1/persons?start=100&limit=7&{self.PD}")[2]["data"])
        body = h.call("GET", "/crm/v3/objects/contacts?limit=10&after=5000", headers=self.HS)[2]
        self.assertEqual(([r["id"] for r in body["results"]], body["paging"]["next"]["after"]),
                         ([str(i) for i in range(1021, 1026)], "5010"))
        body = h.call("POST", "/crm/v3/objects/contacts/search", {"limit": 10, "after": "30"}, self.HS)[2]
        self.assertEqual(([r["id"] for r in body["results"]], body["paging"]["next"]["after"]),
                         ([str(i) for i in range(1021, 1026)], "40"))
        self.assertNotIn("paging", h.call("GET", "/crm/v3/objects/contacts?limit=10&after=1021", headers=self.HS)[2])

    def test_rate_limit_storm(self):
        h, sf, p = self.fakes(("hubspot", "--rate-limit-storm", "2"), ("salesforce",),
                              ("pipedrive", "--rate-limit-storm", "1"))
        self.assertEqual(h.call("GET", "/crm/v3/objects/contacts/1001")[0], 401)   # unauthorised: not counted
        self.assertEqual(h.control("GET", "faults")["rate_limit_storm"], 2)
        s, headers, body = h.call("PATCH", "/crm/v3/objects/contacts/1001", {"properties": {"firstname": "X"}}, self.HS)
        self.assertEqual((s, headers["Retry-After"], headers["X-HubSpot-RateLimit-Remaining"], body["errorType"]),
                         (429, "1", "0", "RATE_LIMIT"))
        self.assertEqual(h.control("GET", "faults")["rate_limit_storm"], 1)
        self.assertEqual(h.control("GET", "records")[0]["updates"], 0)              # not performed
        self.assertEqual(h.call("GET", "/crm/v3/objects/contacts/1001", headers=self.HS)[0], 429)
        s, headers, _ = h.call("GET", "/crm/v3/objects/contacts/1001", headers=self.HS)
        self.assertEqual((s, "Retry-After" in headers), (200, False))               # storm over by itself
        self.assertEqual((h.control("GET", "faults")["rate_limit_storm"], h.control("GET", "stats")["rate_limited"]), (0, 2))
        sf.control("POST", "faults", {"rate_limit_storm": 1})
        s, headers, body = sf.call("GET", "/services/data/v60.0/sobjects/Contact/003Dn0000000001IAA", headers=self.SF)
        self.assertEqual((s, body[0]["errorCode"], "Retry-After" in headers), (403, "REQUEST_LIMIT_EXCEEDED", False))
        self.assertEqual(sf.call("GET", "/services/data/v60.0/sobjects/Contact/003Dn0000000001IAA", headers=self.SF)[0], 200)
        s, headers, body = p.call("GET", f"/v1/persons?{self.PD}")
        self.assertEqual((s, headers["Retry-After"], body["errorCode"]), (429, "1", 429))
        self.assertEqual(p.call("POST", "/_fake/faults", {"rate_limit_storm": -1})[0], 400)

    def test_fail_routes(self):
        h, p = self.fakes(("hubspot",), ("pipedrive",))
        read, patch = "POST /crm/v3/objects/contacts/batch/read", "PATCH /crm/v3/objects/contacts/{id}"
        self.assertEqual(h.call("POST", "/_fake/faults", {"fail_routes": {read: 200}})[0], 400)
        self.assertEqual(h.call("POST", "/_fake/faults", {"fail_routes": {"POST /x": 503}})[0], 400)
        self.assertEqual(h.control("POST", "faults", {"fail_routes": {read: 503, patch: 409}})["fail_routes"],
                         {read: 503, patch: 409})
        for _ in range(2):
            s, _, body = h.call("POST", "/crm/v3/objects/contacts/batch/read", {"properties": [], "propertiesWithHistory": [], "inputs": [{"id": "1001"}]}, self.HS)
            self.assertEqual((s, body["category"]), (503, "SERVICE_UNAVAILABLE"))
        s, _, body = h.call("PATCH", "/crm/v3/objects/contacts/1001", {"properties": {"firstname": "X"}}, self.HS)
        self.assertEqual((s, body["status"], body["category"]), (409, "error", "CONFLICT"))
        self.assertEqual(h.control("GET", "records")[0]["updates"], 0)              # not performed
        self.assertEqual(h.call("GET", "/crm/v3/objects/contacts/1001", headers=self.HS)[0], 200)
        self.assertEqual(h.control("GET", "stats")["failed_routes"], 3)
        h.control("POST", "faults", {"fail_routes": {}})
        self.assertEqual(h.call("POST", "/crm/v3/objects/contacts/batch/read", {"properties": [], "propertiesWithHistory": [], "inputs": [{"id": "1001"}]}, self.HS)[0], 200)
        p.control("POST", "faults", {"fail_routes": {"DELETE /v1/persons": 504, "GET /v1/persons/{id}": 403}})
        s, _, body = p.call("DELETE", f"/v1/persons?ids=1,2&{self.PD}")
        self.assertEqual((s, body["success"], body["errorCode"]), (504, False, 504))
        self.assertFalse(any(r["deleted"] for r in p.control("GET", "records")))
        s, _, body = p.call("GET", f"/v1/persons/1?{self.PD}")
        self.assertEqual((s, body["error"], body["errorCode"]), (403, "Forbidden", 403))


    def test_fail_all_and_omit_ids(self):
        h, s, p = self.fakes(("hubspot",), ("salesforce",), ("pipedrive",))
        self.assertEqual(h.call("POST", "/_fake/faults", {"fail_all": 200})[0], 400)
        self.assertEqual(h.call("POST", "/_fake/faults", {"omit_ids": "1001"})[0], 400)
        expected = {429: ("RATE_LIMIT", "errorType"), 404: None, 401: ("INVALID_AUTHENTICATION", "category"),
                    503: ("SERVICE_UNAVAILABLE", "category")}
        for status, shape in expected.items():
            h.control("POST", "faults", {"fail_all": status})
            got, _, body = h.call("DELETE", "/crm/v3/objects/contacts/1001", headers=self.HS)
            self.assertEqual(got, status)
            if shape:
                self.assertEqual(body[shape[1]], shape[0])
        self.assertFalse(h.control("GET", "records")[0]["deleted"])                # not performed
        h.control("POST", "faults", {"fail_all": 0})
        self.assertEqual(h.call("DELETE", "/crm/v3/objects/contacts/1001", headers=self.HS)[0], 204)
        s.control("POST", "faults", {"fail_all": 429})
        got, _, body = s.call("GET", "/services/data/v60.0/sobjects/Contact/003Dn0000000001IAA", headers=self.SF)
        self.assertEqual((got, body[0]["errorCode"]), (403, "REQUEST_LIMIT_EXCEEDED"))   # Salesforce's rate limit
        s.control("POST", "faults", {"fail_all": 0})
        first, second = [r["provider_id"] for r in s.control("GET", "records")[:2]]
        s.control("POST", "faults", {"omit_ids": [first]})
        got, _, body = s.call("DELETE", f"/services/data/v60.0/composite/sobjects?ids={first},{second}&allOrNone=false",
                              headers=self.SF)
        self.assertEqual((got, [r["id"] for r in body]), (200, [second]))
        self.assertEqual([r["deleted"] for r in s.control("GET", "records")[:2]], [False, True])
        p.control("POST", "faults", {"omit_ids": [1]})
        got, _, body = p.call("DELETE", f"/v1/persons?ids=1,2&{self.PD}")
        self.assertEqual((got, body["data"]["id"]), (200, [2]))
        self.assertEqual([r["deleted"] for r in p.control("GET", "records")[:2]], [False, True])
        self.assertEqual(p.control("POST", "faults", {"omit_ids": []})["omit_ids"], [])

    def test_effective_deletes_malformed_stall_and_kill(self):
        h, = self.fakes(("hubspot",))
        HS = self.HS
        h.call("DELETE", "/crm/v3/objects/contacts/1001", headers=HS)
        h.call("DELETE", "/crm/v3/objects/contacts/1001", headers=HS)                   # already archived
        h.call("POST", "/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": "1001"}, {"id": "1002"}]}, HS)
        counts = {r["provider_id"]: r["effective_deletes"] for r in h.control("GET", "records")}
        self.assertEqual((counts["1001"], counts["1002"], counts["1003"]), (1, 1, 0))
        asked = {r["provider_id"]: r["delete_requests"] for r in h.control("GET", "records")}
        self.assertEqual((asked["1001"], asked["1002"], asked["1003"]), (3, 1, 0))       # every delete asked, live or not
        h.control("PUT", "records/1001", {"deleted": False})                           # restored, deleted again
        h.call("DELETE", "/crm/v3/objects/contacts/1001", headers=HS)
        self.assertEqual(h.control("GET", "records")[0]["effective_deletes"], 2)
        h.control("POST", "faults", {"malformed_every": 2, "stall_every": 3, "stall_ms": 300})
        s, _, body = h.call("GET", "/crm/v3/objects/contacts/1003", headers=HS)
        self.assertEqual((s, isinstance(body, dict)), (200, True))
        s, _, body = h.call("GET", "/crm/v3/objects/contacts/1003", headers=HS)      # complete answer, broken JSON
        self.assertEqual((s, isinstance(body, str)), (200, True))
        started = time.monotonic()
        h.call("GET", "/crm/v3/objects/contacts/1003", headers=HS)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        stats = h.control("GET", "stats")
        self.assertEqual((stats["malformed"], stats["stalled"]), (1, 1))
        self.assertEqual(h.call("POST", "/_fake/faults", {"kill": {"pid": 1, "request": 0}})[0], 400)
        victim = subprocess.Popen(["sleep", "30"])
        h.control("POST", "faults", {"malformed_every": 0, "stall_every": 0,
                                     "kill": {"pid": victim.pid, "request": 2, "phase": "before"}})
        h.call("GET", "/crm/v3/objects/contacts/1003", headers=HS)
        self.assertIsNone(victim.poll())
        s, _, _ = h.call("DELETE", "/crm/v3/objects/contacts/1004", headers=HS)       # killed before acting
        self.assertEqual((s, victim.wait(5)), (503, -signal.SIGKILL))
        self.assertEqual(h.control("GET", "records")[3]["deleted"], False)
        victim = subprocess.Popen(["sleep", "30"])
        h.control("POST", "faults", {"kill": {"pid": victim.pid, "request": 1, "phase": "after"}})
        h.call("DELETE", "/crm/v3/objects/contacts/1004", headers=HS)                  # killed after acting
        self.assertEqual(victim.wait(5), -signal.SIGKILL)
        self.assertEqual(h.control("GET", "records")[3]["effective_deletes"], 1)
        self.assertEqual((h.control("GET", "stats")["kills"], h.control("GET", "faults")["kill"]), (2, None))


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
