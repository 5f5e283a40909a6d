"""The relay's wider protocol (issue: relay, the full Sentry ingest protocol): legacy routes and
encodings, self-authenticating envelopes. Each event is followed to the API, so "accepted" means
stored with the right content, not just answered 200."""

import base64
import concurrent.futures
import json
import signal
import time
import unittest
import uuid
import zlib

from rookery_stack import StackTestCase, http_request, wait_for


class RelayProtocolTest(StackTestCase):
    RELAY_ENV = {
        # Short enough for the outage test to see both paths to 503 quickly.
        "ROOKERY_RELAY_BROKER_DOWN_GRACE_MS": "1500",
        "ROOKERY_KAFKA_DELIVERY_TIMEOUT_MS": "4000",
        "ROOKERY_MAX_ATTACHMENT_BYTES": str(64 * 1024),
    }

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

    def test_csp_report_becomes_an_issue(self):
        report = {"csp-report": {"document-uri": "https://app.example.com/checkout", "referrer": "",
                                 "violated-directive": "script-src 'self'", "effective-directive": "script-src",
                                 "original-policy": "script-src 'self'; report-uri /api/1/security/",
                                 "blocked-uri": "https://evil.example/miner.js", "status-code": 200}}
        path = (f"/api/{self.stack.project_id}/security/?sentry_key={self.stack.public_key}"
                f"&sentry_release=web%401.2&sentry_environment=staging")
        result = self.stack.relay_post(path, json.dumps(report).encode(), {"Content-Type": "application/csp-report"})
        self.assertEqual((result.status, result.body), (200, b""))
        issue = self.wait_issue("Blocked 'script' from 'evil.example'")
        self.assertEqual(issue["culprit"], "script-src 'self'")
        latest = self.stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
        tags = {tag["key"]: tag["value"] for tag in latest["tags"]}
        self.assertEqual((tags["release"], tags["environment"]), ("web@1.2", "staging"))
        self.assertEqual(tags["blocked-uri"], "https://evil.example/miner.js")

        not_a_report = self.stack.relay_post(path, b'{"hello": 1}', {"Content-Type": "application/json"})
        self.assertEqual(not_a_report.status, 400)

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

    def new_project(self, name):
        credentials = self.stack.bootstrap(f"{name}@example.com", f"{name}-org", f"{name}-project")
        key = credentials["ROOKERY_DSN"].split("//")[1].split("@")[0]
        return credentials, key, int(credentials["ROOKERY_PROJECT_ID"])

    def store(self, project_id, key, message="quota probe", headers=None):
        return self.stack.relay_post(f"/api/{project_id}/store/", json.dumps({"message": message}).encode(),
                                     {**self.stack.auth_header(key), **(headers or {})})

    def test_events_arriving_together_share_a_partition_and_spread_over_time(self):
        # The relay sends each 5 ms slice of events to one partition (ROOKERY_KAFKA_PARTITION_SLICE_MS):
        # batches of many events instead of one per partition, and over a second every partition
        # gets its share. Events keyed by id alone would spread a burst over most partitions.
        self.assertEqual(self.store(self.stack.project_id, self.stack.public_key, "slice warm-up").status, 200)
        time.sleep(2.5)  # the relay learns the topic's partition count from its next metadata probe (1 s)

        def moved(before):
            after = self.stack.kafka_ends()
            return {p: after[p] - before.get(p, 0) for p in after if after[p] != before.get(p, 0)}
        before = self.stack.kafka_ends()
        self.assertGreaterEqual(len(before), 16)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
            statuses = list(pool.map(lambda n: self.store(self.stack.project_id, self.stack.public_key,
                                                          f"burst {n}").status, range(64)))
        elapsed_ms = (time.monotonic() - started) * 1000
        self.assertEqual(statuses, [200] * 64)
        burst = moved(before)
        self.assertEqual(sum(burst.values()), 64)
        # In slices: at most one partition per 5 ms the burst took (by key, 64 events would reach
        # about 40 of 64 partitions, however fast they came).
        self.assertLessEqual(len(burst), elapsed_ms / 5 + 2, (elapsed_ms, burst))

        before = self.stack.kafka_ends()
        deadline = time.monotonic() + 1.0
        sent = 0
        while time.monotonic() < deadline:
            self.assertEqual(self.store(self.stack.project_id, self.stack.public_key, f"spread {sent}").status, 200)
            sent += 1
            time.sleep(0.02)
        spread = moved(before)
        self.assertEqual(sum(spread.values()), sent)
        self.assertGreaterEqual(len(spread), min(sent, len(before)) // 3, spread)

    def test_disabling_a_key_takes_effect_within_two_seconds(self):
        _, key, project_id = self.new_project("disable")
        wait_for(lambda: self.store(project_id, key).status == 200, 5, message="the new key to work")
        self.stack.sql(f"UPDATE project_keys SET is_active = false WHERE public_key = '{key}'")
        started = time.monotonic()
        wait_for(lambda: self.store(project_id, key).status == 403, 2, interval=0.02, message="403 after disabling")
        self.assertLess(time.monotonic() - started, 2.0)
        self.stack.sql(f"UPDATE project_keys SET is_active = true WHERE public_key = '{key}'")
        wait_for(lambda: self.store(project_id, key).status == 200, 2, interval=0.02, message="200 after enabling")

    def test_per_key_rate_limit_answers_429_as_sdks_expect(self):
        _, key, project_id = self.new_project("quota")
        self.stack.sql(f"UPDATE project_keys SET rate_limit_count = 3, rate_limit_window_seconds = 3600 "
                       f"WHERE public_key = '{key}'")
        time.sleep(1)  # NOTIFY reaches the relay's cache well within this
        statuses = [self.store(project_id, key) for _ in range(5)]
        self.assertEqual([r.status for r in statuses], [200, 200, 200, 429, 429])
        limited = statuses[3]
        retry_after = int(limited.headers["Retry-After"])
        self.assertTrue(1 <= retry_after <= 3600)
        self.assertEqual(limited.headers["X-Sentry-Rate-Limits"], f"{retry_after}::key")
        self.assertEqual(limited.headers["Access-Control-Allow-Origin"], "*")
        self.assertIn("x-sentry-rate-limits", limited.headers["Access-Control-Expose-Headers"])
        # Other keys are not affected.
        self.assertEqual(self.store(self.stack.project_id, self.stack.public_key).status, 200)

    def test_allowed_origins(self):
        _, key, project_id = self.new_project("origins")
        self.stack.sql(f"UPDATE project_keys SET allowed_origins = '{{app.example.com,*.shop.test}}' "
                       f"WHERE public_key = '{key}'")
        time.sleep(1)
        self.assertEqual(self.store(project_id, key, headers={"Origin": "https://app.example.com"}).status, 200)
        self.assertEqual(self.store(project_id, key, headers={"Origin": "https://a.shop.test"}).status, 200)
        refused = self.store(project_id, key, headers={"Origin": "https://evil.test"})
        self.assertEqual(refused.status, 403)
        self.assertEqual(refused.json()["detail"], "event submission rejected with_reason: Cors")
        self.assertEqual(self.store(project_id, key, headers={"Referer": "https://evil.test/page"}).status, 403)
        self.assertEqual(self.store(project_id, key).status, 200)  # servers send no Origin

    def test_preflight_and_cors_on_errors(self):
        preflight = http_request(f"http://127.0.0.1:{self.stack.relay_port}/api/{self.stack.project_id}/envelope/",
                                 method="OPTIONS", headers={"Origin": "https://app.test",
                                                            "Access-Control-Request-Method": "POST",
                                                            "Access-Control-Request-Headers": "x-sentry-auth"})
        self.assertEqual(preflight.status, 200)
        self.assertEqual(preflight.headers["Access-Control-Allow-Origin"], "*")
        self.assertIn("POST", preflight.headers["Access-Control-Allow-Methods"])
        self.assertIn("x-sentry-auth", preflight.headers["Access-Control-Allow-Headers"])
        error = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", b"{}")
        self.assertEqual(error.status, 401)
        self.assertEqual(error.headers["Access-Control-Allow-Origin"], "*")

    def test_envelope_items_forwarded_dropped_and_limited(self):
        event_id = uuid.uuid4().hex
        items = [
            ({"type": "attachment", "length": 5, "filename": "a.txt"}, b"hello"),
            ({"type": "event"}, json.dumps({"message": "envelope with extras"}).encode()),
            ({"type": "client_report"}, b'{"discarded_events":[]}'),
            ({"type": "transaction"}, b'{"type":"transaction","spans":[]}'),
            ({"type": "brand_new_type", "length": 3}, b"abc"),
        ]
        body = json.dumps({"event_id": event_id}).encode() + b"".join(
            b"\n" + json.dumps(header).encode() + b"\n" + payload for header, payload in items)
        path = f"/api/{self.stack.project_id}/envelope/"
        result = self.stack.relay_post(path, body, self.stack.auth_header())
        self.assertEqual((result.status, result.json()), (200, {"id": event_id}))
        issue = self.wait_issue("envelope with extras")
        self.assertEqual(self.stack.api(f"/api/0/issues/{issue['id']}/events/latest/")["eventID"], event_id)
        metrics = self.stack.relay_get("/metrics").body.decode()
        for item_type in ("attachment", "client_report", "transaction", "unknown"):
            self.assertRegex(metrics, rf'rookery_relay_outcomes_dropped_total{{item_type="{item_type}"}} [1-9]')
        # A type nobody knows is counted, but cannot mint a series of its own.
        self.assertNotIn("brand_new_type", metrics)

        too_big = json.dumps({"type": "attachment", "length": 70000}).encode()
        body = b"{}\n" + too_big + b"\n" + b"x" * 70000
        result = self.stack.relay_post(path, body, self.stack.auth_header())
        self.assertEqual(result.status, 413)
        self.assertEqual(result.json()["causes"], ["envelope exceeded size limits for type 'attachment'"])

    def test_oversized_transaction_item_is_refused_like_an_event(self):
        path = f"/api/{self.stack.project_id}/envelope/"
        payload = json.dumps({"type": "transaction", "spans": [], "pad": "x" * (1024 * 1024)}).encode()
        body = b"{}\n" + json.dumps({"type": "transaction", "length": len(payload)}).encode() + b"\n" + payload
        result = self.stack.relay_post(path, body, self.stack.auth_header())
        self.assertEqual(result.status, 413)
        self.assertEqual(result.json()["causes"], ["envelope exceeded size limits for type 'transaction'"])

    def test_envelope_posted_to_the_store_route_is_read_as_an_envelope(self):
        event_id = uuid.uuid4().hex
        body = (json.dumps({"event_id": event_id}) + "\n" + json.dumps({"type": "event"}) + "\n" +
                json.dumps({"message": "envelope through store"})).encode()
        result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", body,
                                       dict(self.stack.auth_header(),
                                            **{"Content-Type": "application/x-sentry-envelope"}))
        self.assertEqual((result.status, result.json()), (200, {"id": event_id}))
        self.wait_issue("envelope through store")

    def test_every_error_names_itself_in_x_sentry_error(self):
        not_found = http_request(f"http://127.0.0.1:{self.stack.relay_port}/api/1/nothing/", data=b"", method="POST")
        self.assertEqual(not_found.status, 404)
        self.assertEqual(not_found.headers["X-Sentry-Error"], "not found")
        wrong_method = http_request(f"http://127.0.0.1:{self.stack.relay_port}/api/1/store/")
        self.assertEqual(wrong_method.status, 405)
        self.assertEqual(wrong_method.headers["X-Sentry-Error"], "method not allowed")
        self.assertEqual(wrong_method.headers["Access-Control-Allow-Origin"], "*")

    def test_advertised_rate_limits_are_capped_at_five_minutes(self):
        _, key, project_id = self.new_project("daily-quota")
        self.stack.sql(f"UPDATE project_keys SET rate_limit_count = 1, rate_limit_window_seconds = 86400 "
                       f"WHERE public_key = '{key}'")
        time.sleep(1)
        statuses = [self.store(project_id, key) for _ in range(2)]
        self.assertEqual([r.status for r in statuses], [200, 429])
        self.assertEqual(statuses[1].headers["Retry-After"], "300")
        self.assertEqual(statuses[1].headers["X-Sentry-Rate-Limits"], "300::key")

    def test_metrics(self):
        self.stack.relay_post(f"/api/{self.stack.project_id}/store/", b"{}")  # one 401
        text = self.stack.relay_get("/metrics").body.decode()
        self.assertIn("# TYPE rookery_relay_requests_total counter", text)
        self.assertRegex(text, r'rookery_relay_requests_total\{route="store",status="401"\} [1-9]')
        self.assertRegex(text, r'rookery_relay_events_rejected_total\{reason="missing_auth"\} [1-9]')
        self.assertRegex(text, r"rookery_relay_events_accepted_total \d+")
        self.assertRegex(text, r"rookery_relay_producer_queue_depth \d+")
        self.assertRegex(text, r'rookery_relay_request_duration_seconds_bucket\{route="store",le="\+Inf"\} [1-9]')
        self.assertRegex(text, r"rookery_relay_bytes_received_total \d+")

    def test_z_broker_outage_answers_503_and_loses_nothing_accepted(self):
        broker = self.stack.processes["devbroker"]
        accepted_before = [self.stack.relay_post(f"/api/{self.stack.project_id}/store/",
                                                 json.dumps(self.event(f"before outage {'abc'[i]}")).encode(),
                                                 self.stack.auth_header()) for i in range(3)]
        self.assertEqual([r.status for r in accepted_before], [200] * 3)

        broker.send_signal(signal.SIGUSR1)  # every mock broker down
        try:
            during = []
            slowest = 0.0
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                started = time.monotonic()
                during.append(self.stack.relay_post(f"/api/{self.stack.project_id}/store/",
                                                    json.dumps(self.event("during outage")).encode(),
                                                    self.stack.auth_header()))
                slowest = max(slowest, time.monotonic() - started)
                if during[-1].status == 503 and self.stack.relay_get("/readyz").status == 503:
                    break
            self.assertEqual(during[-1].status, 503)
            # Bounded by the delivery timeout (4 s here) plus a second and the 0.2 s sweep, even while
            # librdkafka waits; the margin absorbs a loaded machine.
            self.assertLess(slowest, 8.0)
            self.assertIn("Retry-After", during[-1].headers)
            # Never a 200 for an event the broker could not take.
            self.assertNotIn(200, [r.status for r in during])
        finally:
            broker.send_signal(signal.SIGUSR2)

        wait_for(lambda: self.stack.relay_get("/readyz").status == 200, 15, message="relay ready again")
        after = self.stack.relay_post(f"/api/{self.stack.project_id}/store/",
                                      json.dumps(self.event("after outage")).encode(), self.stack.auth_header())
        self.assertEqual(after.status, 200, after.body)
        for letter in "abc":
            self.wait_issue(f"before outage {letter}")
        self.wait_issue("after outage")
        self.assertEqual(self.stack.sql("SELECT count(*) FROM events WHERE title = 'during outage'"), [["0"]])


if __name__ == "__main__":
    unittest.main()
