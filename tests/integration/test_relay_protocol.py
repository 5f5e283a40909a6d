"""The relay's wider protocol (issue: relay, the full Sentry ingest protocol): legacy routes and
encodings, self-authenticating envelopes. Each event is followed to the API, so "accepted" means
stored with the right content, not just answered 200."""

import base64
import json
import unittest
import uuid
import zlib

from rookery_stack import Stack, wait_for


class RelayProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack().start()
        cls.org = cls.stack.credentials["ROOKERY_ORG"]
        cls.project = cls.stack.credentials["ROOKERY_PROJECT"]

    @classmethod
    def tearDownClass(cls):
        codes = cls.stack.stop()
        assert all(code == 0 for code in codes.values()), f"unclean exits: {codes}"

    def run(self, result=None):
        outcome = super().run(result)
        if result is not None and (result.failures or result.errors):
            self.stack.dump_logs()
        return outcome

    def wait_issue(self, title):
        def find():
            issues = self.stack.api(f"/api/0/projects/{self.org}/{self.project}/issues/")
            return next((i for i in issues if i["title"] == title), None)
        return wait_for(find, 15, message=f"issue {title!r}")

    def event(self, message):
        return {"event_id": uuid.uuid4().hex, "message": message, "platform": "node"}

    def test_legacy_store_route_takes_the_project_from_the_key(self):
        event = self.event("legacy store route")
        result = self.stack.relay_post("/api/store/", json.dumps(event).encode(), self.stack.auth_header())
        self.assertEqual((result.status, result.json()), (200, {"id": event["event_id"]}))
        self.wait_issue("legacy store route")

    def test_raven_base64_zlib_store_body(self):
        # What raven-node 2.6 and sentry-raven send: base64(zlib(JSON)), no Content-Encoding.
        event = self.event("base64 zlib body")
        body = base64.b64encode(zlib.compress(json.dumps(event).encode()))
        headers = {"X-Sentry-Auth": f"Sentry sentry_version=5, sentry_timestamp=1700000000000, "
                                    f"sentry_client=raven-node/2.6.4, sentry_key={self.stack.public_key}",
                   "Content-Type": "application/octet-stream"}
        result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", body, headers)
        self.assertEqual((result.status, result.json()), (200, {"id": event["event_id"]}))
        issue = self.wait_issue("base64 zlib body")
        latest = self.stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
        self.assertEqual(latest["eventID"], event["event_id"])

    def test_deflate_store_body_as_raven_python_sends_it(self):
        event = self.event("raven-python deflate")
        headers = {**self.stack.auth_header(), "Content-Encoding": "deflate",
                   "Content-Type": "application/octet-stream"}
        result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/",
                                       zlib.compress(json.dumps(event).encode()), headers)
        self.assertEqual(result.status, 200, result.body)
        self.wait_issue("raven-python deflate")

    def test_envelope_authenticated_by_its_dsn_header(self):
        event_id = uuid.uuid4().hex
        header = {"event_id": event_id, "dsn": self.stack.dsn}
        body = "\n".join([json.dumps(header), json.dumps({"type": "event"}),
                          json.dumps({"message": "dsn header only"})]).encode()
        result = self.stack.relay_post(f"/api/{self.stack.project_id}/envelope/", body)
        self.assertEqual((result.status, result.json()), (200, {"id": event_id}))
        self.wait_issue("dsn header only")

    def test_envelope_dsn_must_agree_with_the_request(self):
        before = self.stack.kafka_count()
        other_key = "0123456789abcdef0123456789abcdef"
        mismatched_key = self.stack.dsn.replace(self.stack.public_key, other_key)
        mismatched_project = self.stack.dsn.rsplit("/", 1)[0] + "/999"
        cases = [
            ("key mismatch", mismatched_key, self.stack.auth_header(), 400,
             "public key header mismatch between envelope and request"),
            ("project mismatch", mismatched_project, self.stack.auth_header(), 400,
             "project id header mismatch between envelope and request"),
            ("unknown key in the dsn alone", mismatched_key, {}, 403, None),
            ("not a dsn", "nonsense", {}, 401, None),
        ]
        for name, dsn, headers, status, cause in cases:
            with self.subTest(name):
                body = (json.dumps({"dsn": dsn}) + "\n" + json.dumps({"type": "event"}) + "\n" +
                        json.dumps({"message": "never"})).encode()
                result = self.stack.relay_post(f"/api/{self.stack.project_id}/envelope/", body, headers)
                self.assertEqual(result.status, status, result.body)
                if cause:
                    self.assertEqual(result.json()["causes"], [cause])
        self.assertEqual(self.stack.kafka_count(), before)


if __name__ == "__main__":
    unittest.main()
