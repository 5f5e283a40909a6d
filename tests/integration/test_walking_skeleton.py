"""The walking skeleton, end to end: a real Python SDK event through relay, Kafka and worker into
PostgreSQL and out of the API; replays that must not double-count; and bad input that must never
reach Kafka."""

import datetime
import json
import os
import unittest
import uuid
import zlib

from rookery_stack import StackTestCase, gzip_bytes, wait_for

# Sentry groups an exception with a stack trace by its frames, not its message: each tag raises
# from a function of its own, so each tag is an issue of its own, as it would be in Sentry.
RAISE_SCRIPT = """
def fail_{tag}():
    raise ValueError("walking skeleton {tag}")

try:
    fail_{tag}()
except ValueError:
    print(sentry_sdk.capture_exception())
"""


class WalkingSkeletonTest(StackTestCase):
    # A small body limit keeps the oversized-body test quick.
    RELAY_ENV = {"ROOKERY_RELAY_MAX_BODY_BYTES": str(256 * 1024)}

    @classmethod
    def tearDownClass(cls):
        codes = cls.stack.stop()
        # Every service must exit cleanly on SIGTERM (relay drains and flushes, worker commits).
        assert all(code == 0 for code in codes.values()), f"unclean exits: {codes}"

    def issues(self, query=None):
        path = f"/api/0/projects/{self.org}/{self.project}/issues/"
        if query is not None:
            path += "?query=" + query
        return self.stack.api(path)

    def issue_titled(self, title):
        matches = [issue for issue in self.issues() if issue["title"] == title]
        return matches[0] if matches else None

    # -- the happy path ----------------------------------------------------------------------------
    def test_1_python_sdk_exception_becomes_an_issue_and_repeats_count(self):
        title = "ValueError: walking skeleton one"
        event_id = self.stack.run_python_sdk(RAISE_SCRIPT.format(tag="one")).strip()
        self.assertRegex(event_id, r"^[0-9a-f]{32}$")

        issue = wait_for(lambda: self.issue_titled(title), 15, message="the issue in the API")
        self.assertEqual(issue["count"], "1")
        # As Sentry keeps it: the exception and where it was raised (the script runs as `python -c`).
        self.assertEqual(issue["metadata"], {"type": "ValueError", "value": "walking skeleton one",
                                             "filename": "<string>", "function": "fail_one"})
        self.assertEqual(issue["culprit"], "__main__ in fail_one")
        self.assertEqual(issue["status"], "unresolved")
        self.assertEqual(issue["project"]["slug"], self.project)
        self.assertEqual(issue["level"], "error")

        detail = self.stack.api(f"/api/0/issues/{issue['id']}/")
        self.assertEqual(detail["title"], title)
        latest = self.stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
        self.assertEqual(latest["eventID"], event_id)
        self.assertEqual(latest["groupID"], issue["id"])
        exception = next(entry for entry in latest["entries"] if entry["type"] == "exception")
        self.assertEqual(exception["data"]["values"][0]["type"], "ValueError")
        self.assertTrue(exception["data"]["values"][0]["stacktrace"]["frames"])
        self.assertEqual(latest["sdk"]["name"], "sentry.python")

        # The same exception again: the same issue, counted twice.
        second_id = self.stack.run_python_sdk(RAISE_SCRIPT.format(tag="one")).strip()
        self.assertNotEqual(second_id, event_id)
        wait_for(lambda: (self.issue_titled(title) or {}).get("count") == "2", 15, message="count 2")
        self.assertEqual(len([i for i in self.issues() if i["title"] == title]), 1)
        self.assertEqual(self.stack.api(f"/api/0/issues/{issue['id']}/events/latest/")["eventID"], second_id)

    def test_2_replayed_kafka_messages_do_not_double_count(self):
        title = "ValueError: walking skeleton replay"
        self.stack.run_python_sdk(RAISE_SCRIPT.format(tag="replay"))
        issue = wait_for(lambda: self.issue_titled(title), 15, message="the replay issue")
        # Every message, whatever became of it (an earlier test sends retries that are duplicates).
        wait_for(lambda: self.stack.worker_totals()["messages"] >= self.stack.kafka_count(), 15,
                 message="the worker to consume everything")
        counts_before = {i["id"]: i["count"] for i in self.issues(query="")}
        events_before = self.stack.sql("SELECT count(*) FROM events")[0][0]
        duplicates_before = self.stack.worker_totals()["duplicates"]

        replayed = self.stack.kafka_replay()
        self.assertGreaterEqual(replayed, 1)
        # The worker must actually have seen every replayed message, as duplicates.
        wait_for(lambda: self.stack.worker_totals()["duplicates"] - duplicates_before >= replayed, 20,
                 message=f"{replayed} duplicates in the worker log")

        self.assertEqual({i["id"]: i["count"] for i in self.issues(query="")}, counts_before)
        self.assertEqual(self.stack.sql("SELECT count(*) FROM events")[0][0], events_before)
        self.assertEqual(self.issue_titled(title)["count"], issue["count"])

    def test_3_worker_restart_resumes_without_loss_or_double_count(self):
        title = "ValueError: walking skeleton restart"
        self.assertEqual(self.stack.stop_service("worker"), 0)
        # Accepted while no worker runs: acknowledged by the broker, processed after the restart.
        self.stack.run_python_sdk(RAISE_SCRIPT.format(tag="restart"))
        self.stack.run_python_sdk(RAISE_SCRIPT.format(tag="restart"))
        self.stack.start_service("worker")
        issue = wait_for(lambda: (self.issue_titled(title) or {}).get("count") == "2" and self.issue_titled(title),
                         20, message="both events after the restart")
        self.assertEqual(issue["count"], "2")

    def test_4_envelope_endpoint(self):
        event_id = "9ec79c33ec9942ab8353589fcb2e04dc"
        event = {"message": "hello from an envelope", "level": "warning", "platform": "javascript"}
        body = (json.dumps({"event_id": event_id}) + "\n" + json.dumps({"type": "event"}) + "\n" +
                json.dumps(event) + "\n").encode()
        query = f"?sentry_key={self.stack.public_key}&sentry_version=7&sentry_client=sentry.javascript.browser%2F11.12.0"
        result = self.stack.relay_post(f"/api/{self.stack.project_id}/envelope/{query}", body)
        self.assertEqual(result.status, 200, result.body)
        self.assertEqual(result.json(), {"id": event_id})
        self.assertEqual(result.headers.get("Access-Control-Allow-Origin"), "*")
        issue = wait_for(lambda: self.issue_titled("hello from an envelope"), 15, message="envelope issue")
        self.assertEqual(issue["level"], "warning")

        # Sessions only: accepted (so SDKs do not retry) and nothing goes to Kafka.
        before = self.stack.kafka_count()
        sessions = b'{}\n{"type":"session"}\n{"started":"2020-02-07T14:16:00Z","attrs":{"release":"r@1"}}'
        result = self.stack.relay_post(f"/api/{self.stack.project_id}/envelope/{query}", sessions)
        self.assertEqual((result.status, result.json()), (200, {}))
        self.assertEqual(self.stack.kafka_count(), before)

    # -- bad input ---------------------------------------------------------------------------------
    def test_5_bad_input_gets_its_status_and_never_reaches_kafka(self):
        store = f"/api/{self.stack.project_id}/store/"
        good = json.dumps({"message": "never stored"}).encode()
        unknown_key = "0123456789abcdef0123456789abcdef"
        other = self.stack.bootstrap("other@example.com", "other-org", "other-project")
        other_key = other["ROOKERY_DSN"].split("//")[1].split("@")[0]
        cases = [
            ("missing auth", store, good, {}, 401, "missing authorization information"),
            ("malformed auth", store, good, {"X-Sentry-Auth": "Sentry sentry_version=7"}, 401,
             "bad x-sentry-auth header"),
            ("unknown key", store, good, self.stack.auth_header(unknown_key), 403,
             "event submission rejected with_reason: ProjectId"),
            ("key of another project", store, good, self.stack.auth_header(other_key), 403,
             "event submission rejected with_reason: ProjectId"),
            ("non-JSON body", store, b"this is not json", self.stack.auth_header(), 400, "invalid JSON data"),
            ("JSON that is not an object", store, b"[1, 2]", self.stack.auth_header(), 400, "invalid JSON data"),
            ("empty body", store, b"", self.stack.auth_header(), 400, "empty request body"),
            ("broken gzip", store, b"\x1f\x8b not really gzip", {**self.stack.auth_header(),
                                                                 "Content-Encoding": "gzip"}, 400,
             "failed to read request body"),
            ("unknown encoding", store, good, {**self.stack.auth_header(), "Content-Encoding": "compress"}, 400,
             "unsupported content encoding"),
            ("oversized body", store, b"{" + b" " * (300 * 1024) + b"}", self.stack.auth_header(), 413, None),
            ("decompression bomb", store, gzip_bytes(b"{\"m\":\"" + b"A" * (3 * 1024 * 1024) + b"\"}"),
             {**self.stack.auth_header(), "Content-Encoding": "gzip"}, 413, None),
            ("deeply nested JSON (1 KB gzipped)", store, gzip_bytes(b'{"a":' + b"[" * 300000),
             {**self.stack.auth_header(), "Content-Encoding": "gzip"}, 400, "invalid JSON data"),
            ("bad event id", store, b'{"event_id":"not-a-uuid"}', self.stack.auth_header(), 400, "invalid JSON data"),
            ("bad project id", "/api/zero/store/", good, self.stack.auth_header(), 400, "bad project path parameter"),
            ("broken envelope", f"/api/{self.stack.project_id}/envelope/", b"{}\n{\"type\":\"event\",\"length\":999}\n{}",
             self.stack.auth_header(), 400, "invalid event envelope"),
        ]
        before = self.stack.kafka_count()
        for name, path, body, headers, status, detail in cases:
            with self.subTest(name):
                result = self.stack.relay_post(path, body, headers)
                self.assertEqual(result.status, status, f"{name}: {result.body!r}")
                if detail is not None:
                    self.assertEqual(result.json()["detail"], detail)
                    self.assertTrue(result.headers.get("X-Sentry-Error"))
        self.assertEqual(self.stack.kafka_count(), before, "a rejected request reached Kafka")
        self.assertEqual(self.stack.relay_get("/healthz").status, 200)  # and the relay is still there

    def test_6_api_auth_and_tenant_isolation(self):
        issues_path = f"/api/0/projects/{self.org}/{self.project}/issues/"
        self.assertEqual(self.stack.web_get(issues_path).status, 401)
        self.assertEqual(self.stack.web_get(issues_path, token="f" * 64).status, 401)
        self.assertEqual(self.stack.web_get(f"/api/0/projects/{self.org}/no-such-project/issues/",
                                            token=self.stack.credentials["ROOKERY_API_TOKEN"]).status, 404)

        # A user of another organization sees nothing of this one: 404, not 403.
        title = "ValueError: walking skeleton isolation"
        self.stack.run_python_sdk(RAISE_SCRIPT.format(tag="isolation"))
        issue = wait_for(lambda: self.issue_titled(title), 15, message="isolation issue")
        outsider = self.stack.bootstrap("outsider@example.com", "outsider-org", "outsider-project")
        token = outsider["ROOKERY_API_TOKEN"]
        for path in (issues_path, f"/api/0/issues/{issue['id']}/", f"/api/0/issues/{issue['id']}/events/latest/"):
            with self.subTest(path):
                result = self.stack.web_get(path, token=token)
                self.assertEqual(result.status, 404, result.body)
                self.assertEqual(result.json()["detail"], "The requested resource does not exist")
        self.assertEqual(self.stack.api("/api/0/projects/outsider-org/outsider-project/issues/", token=token), [])

    def test_9_an_event_the_database_refuses_is_dead_lettered_and_its_batch_survives(self):
        store = f"/api/{self.stack.project_id}/store/"
        # Bytes that are not UTF-8 inside a JSON string are repaired (U+FFFD), not lost.
        broken = b'{"message": "broken \xff\xfe bytes"}'
        self.assertEqual(self.stack.relay_post(store, broken, self.stack.auth_header()).status, 200)
        wait_for(lambda: self.issue_titled("broken \ufffd\ufffd bytes"), 15, message="the repaired event")

        # An event whose project is deleted while it waits in Kafka: the database refuses it (its
        # project is gone), it is dead-lettered, and the events batched with it are stored.
        doomed = self.stack.bootstrap("doomed@example.com", "doomed-org", "doomed-project")
        doomed_key = doomed["ROOKERY_DSN"].split("//")[1].split("@")[0]
        doomed_store = f"/api/{doomed['ROOKERY_PROJECT_ID']}/store/"
        wait_for(lambda: self.stack.relay_post(doomed_store, b"{}", self.stack.auth_header(doomed_key)).status == 200,
                 5, message="the doomed project's key")
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM events WHERE project_id = "
                                        f"{doomed['ROOKERY_PROJECT_ID']}") == [["1"]], 15, message="the probe stored")
        self.assertEqual(self.stack.stop_service("worker"), 0)
        events = [(store, self.stack.auth_header(), {"message": "sent with the refused one x"}),
                  (doomed_store, self.stack.auth_header(doomed_key), {"message": "for a project about to go"}),
                  (store, self.stack.auth_header(), {"message": "sent with the refused one y"}),
                  (store, self.stack.auth_header(), {"message": "sent with the refused one z"})]
        for path, headers, event in events:
            self.assertEqual(self.stack.relay_post(path, json.dumps(event).encode(), headers).status, 200)
        self.stack.sql(f"DELETE FROM projects WHERE id = {doomed['ROOKERY_PROJECT_ID']}")
        self.stack.start_service("worker")
        for letter in "xyz":
            wait_for(lambda: self.issue_titled(f"sent with the refused one {letter}"), 30, message=letter)
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM dead_letters WHERE reason LIKE "
                                        "'database refused event%'") == [["1"]], 15, message="one dead letter")
        self.assertIn("writing its events one by one", self.stack.log_text("worker"))

    def test_8_project_fingerprint_rules_apply(self):
        # A project whose rules are saved before its first event: two different errors, one rule,
        # one issue titled by the rule.
        credentials = self.stack.bootstrap("rules@example.com", "rules-org", "rules-project")
        key = credentials["ROOKERY_DSN"].split("//")[1].split("@")[0]
        project_id = credentials["ROOKERY_PROJECT_ID"]
        self.stack.sql("UPDATE projects SET fingerprinting_rules = "
                       "'message:\"*payment provider*\" -> payment-provider title=\"Payment provider down\"' "
                       f"WHERE id = {project_id}")
        wait_for(lambda: self.stack.relay_post(f"/api/{project_id}/store/", b"{}", self.stack.auth_header(key)).status
                 in (200, 400), 5, message="the new key in the relay's cache")
        for message in ("payment provider timed out", "payment provider refused the card"):
            body = json.dumps({"message": message, "level": "error"}).encode()
            self.assertEqual(self.stack.relay_post(f"/api/{project_id}/store/", body,
                                                   self.stack.auth_header(key)).status, 200)
        token = credentials["ROOKERY_API_TOKEN"]
        path = "/api/0/projects/rules-org/rules-project/issues/"
        issue = wait_for(lambda: next((i for i in self.stack.api(path, token=token)
                                       if i["title"] == "Payment provider down" and i["count"] == "2"), None),
                         15, message="both messages in the rule's issue")
        titles = [i["title"] for i in self.stack.api(path, token=token)]
        self.assertEqual(titles.count("Payment provider down"), 1, titles)
        self.assertNotIn("payment provider timed out", titles)
        self.assertEqual(issue["count"], "2")

    def test_11_project_stack_trace_rules_apply(self):
        # The same two errors in two projects: they differ only in a frame of shop.retry, so they
        # are two issues where no rule says otherwise, and one issue in the project whose
        # stack-trace rule takes that module's frames out of grouping.
        def project(name, stacktrace_rules):
            credentials = self.stack.bootstrap(f"{name}@example.com", f"{name}-org", f"{name}-project")
            key = credentials["ROOKERY_DSN"].split("//")[1].split("@")[0]
            project_id = credentials["ROOKERY_PROJECT_ID"]
            self.stack.sql("UPDATE projects SET stacktrace_rules = %s WHERE id = %s"
                           % ("'" + stacktrace_rules.replace("'", "''") + "'", project_id))
            wait_for(lambda: self.stack.relay_post(f"/api/{project_id}/store/", b"{}",
                                                   self.stack.auth_header(key)).status in (200, 400),
                     5, message="the new key in the relay's cache")
            for attempt in ("attempt_once", "attempt_twice"):
                body = json.dumps({"platform": "python", "exception": {"values": [{
                    "type": "TimeoutError", "value": "the cart timed out", "stacktrace": {"frames": [
                        {"function": "load", "module": "shop.cart", "filename": "shop/cart.py", "in_app": True},
                        {"function": attempt, "module": "shop.retry", "filename": "shop/retry.py",
                         "in_app": True}]}}]}}).encode()
                self.assertEqual(self.stack.relay_post(f"/api/{project_id}/store/", body,
                                                       self.stack.auth_header(key)).status, 200)
            return project_id

        with_rule = project("stackrules", "stack.module:shop.retry -group")
        without_rule = project("norules", "")

        def issues(project_id):  # the relay's cache probe above stores an empty event: not counted
            return self.stack.sql(f"SELECT count(*), coalesce(sum(times_seen), 0) FROM issues "
                                  f"WHERE project_id = {project_id} AND title LIKE 'TimeoutError%'")[0]
        wait_for(lambda: issues(without_rule) == ["2", "2"], 15, message="two issues without the rule")
        wait_for(lambda: issues(with_rule)[1] == "2", 15, message="both events stored with the rule")
        self.assertEqual(issues(with_rule), ["1", "2"])

    def test_12_a_retry_whose_day_moved_is_stored_once(self):
        # An SDK retry whose timestamp lands on the next UTC day (one the relay clamped, or none at
        # all, received after midnight): the events table's unique key holds the day, so only the
        # worker's look-up on the days either side keeps the second copy out, in the same batch or
        # a later one.
        duplicates_before = self.stack.worker_totals()["duplicates"]
        event_id = uuid.uuid4().hex
        midnight = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)

        def send(event_id, at):
            body = json.dumps({"event_id": event_id, "message": "walking skeleton retried over midnight",
                               "level": "error", "timestamp": at.isoformat()}).encode()
            self.assertEqual(self.stack.relay_post(f"/api/{self.stack.project_id}/store/", body,
                                                   self.stack.auth_header()).status, 200)

        send(event_id, midnight - datetime.timedelta(seconds=10))
        wait_for(lambda: self.stack.sql(f"SELECT count(*) FROM events WHERE event_id = '{event_id}'") == [["1"]], 15,
                 message="the first copy stored")
        send(event_id, midnight + datetime.timedelta(seconds=10))
        twice = uuid.uuid4().hex  # both copies in one batch, most likely
        send(twice, midnight - datetime.timedelta(seconds=5))
        send(twice, midnight + datetime.timedelta(seconds=5))
        # An unrelated event after them: once it is stored, the retries were processed too.
        marker = uuid.uuid4().hex
        send(marker, midnight + datetime.timedelta(seconds=20))
        wait_for(lambda: self.stack.sql(f"SELECT count(*) FROM events WHERE event_id = '{marker}'") == [["1"]], 15,
                 message="the marker event stored")
        wait_for(lambda: self.stack.worker_totals()["duplicates"] - duplicates_before >= 2, 15,
                 message="the retries seen as duplicates")
        for retried in (event_id, twice):
            self.assertEqual(self.stack.sql(f"SELECT count(*) FROM events WHERE event_id = '{retried}'"), [["1"]])
        issue = self.stack.sql("SELECT times_seen FROM issues WHERE title = 'walking skeleton retried over midnight'")
        self.assertEqual(issue, [["3"]])

    def test_10_grouping_memo_serves_repeats_and_follows_rule_changes(self):
        # The worker remembers grouping results (GroupingMemo); events that differ only in their
        # exception value come from the memo, and a rule saved later still applies to new events.
        credentials = self.stack.bootstrap("memo@example.com", "memo-org", "memo-project")
        key = credentials["ROOKERY_DSN"].split("//")[1].split("@")[0]
        project_id = credentials["ROOKERY_PROJECT_ID"]
        token = credentials["ROOKERY_API_TOKEN"]
        path = "/api/0/projects/memo-org/memo-project/issues/"

        def send(value):
            body = json.dumps({"platform": "python", "exception": {"values": [{
                "type": "KeyError", "value": value, "stacktrace": {"frames": [
                    {"function": "load", "module": "shop.cart", "filename": "shop/cart.py", "lineno": 3,
                     "in_app": True}]}}]}}).encode()
            self.assertEqual(self.stack.relay_post(f"/api/{project_id}/store/", body,
                                                   self.stack.auth_header(key)).status, 200)
        wait_for(lambda: self.stack.relay_post(f"/api/{project_id}/store/", b"{}", self.stack.auth_header(key)).status
                 in (200, 400), 5, message="the new key in the relay's cache")

        def hits():
            return self.stack.metric(self.stack.worker_metrics().body.decode(), "rookery_worker_grouping_memo_total",
                                     '{result="hit"}')
        before = hits()
        for value in ("'cart 1'", "'cart 2'", "'cart 3'"):
            send(value)
        issue = wait_for(lambda: next((i for i in self.stack.api(path, token=token) if i["count"] == "3"), None), 15,
                         message="three events in one issue")
        self.assertGreaterEqual(hits(), before + 2)
        # The issue shows its latest event, metadata included, as Sentry's does.
        self.assertEqual(issue["title"], "KeyError: 'cart 3'")
        self.assertEqual(issue["metadata"]["value"], "'cart 3'")
        self.assertEqual(issue["metadata"]["function"], "load")

        self.stack.sql("UPDATE projects SET fingerprinting_rules = 'type:\"KeyError\" -> cart-keys "
                       f"title=\"Cart key missing\"' WHERE id = {project_id}")

        # The worker reloads a project's rules within seconds; until then events may still join the
        # old issue, after that every one goes to the rule's.
        def rule_applied():
            send("'cart 4'")
            return next((i for i in self.stack.api(path, token=token) if i["title"] == "Cart key missing"), None)
        wait_for(rule_applied, 40, interval=1, message="the saved rule applied to new events")
        old_count = int(next(i for i in self.stack.api(path, token=token) if i["id"] == issue["id"])["count"])
        send("'cart 5'")
        wait_for(lambda: any(i["title"] == "Cart key missing" and int(i["count"]) >= 2
                             for i in self.stack.api(path, token=token)), 15, message="the next event in the rule's")
        self.assertEqual(int(next(i for i in self.stack.api(path, token=token) if i["id"] == issue["id"])["count"]),
                         old_count)

    def test_7_cron_keeps_a_heartbeat(self):
        version = self.stack.run_admin("version").strip()
        line = f"heartbeat: database reachable, schema version {version}"
        wait_for(lambda: self.stack.log_text("cron").count(line) >= 2, 10, message="two cron heartbeats")


if __name__ == "__main__":
    unittest.main()
