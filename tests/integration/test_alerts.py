"""Alerts end to end: a real SDK's event becomes a new issue, the worker's outbox row becomes a
notification in cron, and a real SMTP server (aiosmtpd) receives the mail; digests instead of
storms, regressions, SMTP outages and a cron killed mid-send (nothing lost, nothing twice),
unsubscribe links, per-user settings, signed webhooks and Slack payloads, frequency rules, and
one leader among several cron replicas."""

import hashlib
import hmac
import json
import re
import signal
import subprocess
import time
import unittest
import urllib.parse
import urllib.request
import uuid

from mail_sink import MailSink, WebhookReceiver
from rookery_stack import PYTHON, StackTestCase, binary, free_port, http_request, wait_for

SMTP_PORT = free_port()
DIGEST_WINDOW = 8


class AlertsTest(StackTestCase):
    CRON_ENV = {
        "ROOKERY_SMTP_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "ROOKERY_ALERT_DIGEST_WINDOW_SECONDS": str(DIGEST_WINDOW),
        "ROOKERY_ALERT_POLL_MS": "200",
        "ROOKERY_ALERT_RETRY_BASE_SECONDS": "1",
        "ROOKERY_ALERT_FREQUENCY_INTERVAL_SECONDS": "1",
    }

    @classmethod
    def setUpClass(cls):
        cls.smtp = MailSink(SMTP_PORT).start()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.smtp.stop()

    # -- helpers ------------------------------------------------------------------------------------
    def new_project(self, tag):
        """A project of its own (own org, own owner), so each test's mail channel starts fresh."""
        credentials = self.stack.bootstrap(f"owner-{tag}@example.com", f"org-{tag}", f"app-{tag}")
        credentials["email"] = f"owner-{tag}@example.com"
        credentials["key"] = urllib.parse.urlsplit(credentials["ROOKERY_DSN"]).username
        # The relay learns of a new key through NOTIFY, a moment after it is created: probe with an
        # envelope that carries no event until the key is accepted.
        probe = b'{}\n{"type":"client_report"}\n{"discarded_events":[]}\n'
        wait_for(lambda: self.stack.relay_post(f"/api/{credentials['ROOKERY_PROJECT_ID']}/envelope/", probe,
                                               self.stack.auth_header(credentials["key"])).status == 200, 10,
                 message="the relay knows the new key")
        return credentials

    def send(self, project, message, **fields):
        event = {"event_id": uuid.uuid4().hex, "message": message, "level": "error", "platform": "python"}
        event.update(fields)
        answer = self.stack.relay_post(f"/api/{project['ROOKERY_PROJECT_ID']}/store/", json.dumps(event).encode(),
                                       {**self.stack.auth_header(project["key"]), "Content-Type": "application/json"})
        self.assertEqual(answer.status, 200, answer.body)
        return event["event_id"]

    def issue_of(self, event_id):
        rows = wait_for(lambda: self.stack.sql(f"SELECT issue_id FROM events WHERE event_id = '{event_id}'"), 20,
                        message=f"event {event_id} stored")
        return int(rows[0][0])

    def settle(self, project_id, timeout=40):
        """Waits until cron has nothing left to do for the project."""
        def idle():
            left = self.stack.sql(
                f"SELECT (SELECT count(*) FROM issue_activities WHERE project_id = {project_id} "
                f"AND dispatched_at IS NULL) + (SELECT count(*) FROM alert_notifications WHERE project_id = "
                f"{project_id} AND delivery_id IS NULL AND NOT suppressed) + (SELECT count(*) FROM "
                f"alert_deliveries WHERE project_id = {project_id} AND status = 'pending')")
            return left == [["0"]]
        wait_for(idle, timeout, interval=0.2, message="alerts settled")

    # -- the promise: one mail within a minute -------------------------------------------------------
    def test_a_new_issue_from_a_real_sdk_is_mailed_within_a_minute(self):
        project = self.new_project("first")
        script = ("import sentry_sdk\n"
                  f"sentry_sdk.init({project['ROOKERY_DSN']!r})\n"
                  "def charge_card():\n"
                  "    raise RuntimeError('card declined by the processor')\n"
                  "try:\n"
                  "    charge_card()\n"
                  "except RuntimeError:\n"
                  "    sentry_sdk.capture_exception()\n"
                  "sentry_sdk.flush(10)\n")
        started = time.monotonic()
        subprocess.run([PYTHON, "-c", script], check=True, capture_output=True, timeout=60)
        [mail] = self.smtp.wait_for(project["email"], timeout=60)
        self.assertLess(time.monotonic() - started, 60)
        issue_id = int(self.stack.sql(f"SELECT id FROM issues WHERE project_id = {project['ROOKERY_PROJECT_ID']}")[0][0])

        self.assertIn("New issue", mail.subject)
        self.assertIn("RuntimeError: card declined by the processor", mail.subject)
        self.assertEqual(mail.message["From"].addresses[0].addr_spec, "alerts@rookery.test")
        link = f"/organizations/org-first/issues/{issue_id}/"
        self.assertIn(link, mail.text)
        self.assertIn(link, mail.html)
        self.assertIn("charge_card", mail.text)  # the culprit and the stack trace's first lines
        self.assertRegex(mail.text, r"at .*charge_card in .*:\d+")
        unsubscribe = re.search(r"(http://\S+/api/0/notifications/unsubscribe/\?token=\S+)", mail.text)
        self.assertIsNotNone(unsubscribe, mail.text)

        # Nothing more for it: one issue, one mail.
        self.settle(project["ROOKERY_PROJECT_ID"])
        self.assertEqual(len(self.smtp.to(project["email"])), 1)
        metrics = self.stack.cron_get("/metrics").body.decode()
        self.assertRegex(metrics, r'rookery_cron_alerts_sent_total\{channel="email"\} [1-9]')

    def test_a_burst_of_thirty_new_issues_makes_at_most_two_mails(self):
        project = self.new_project("burst")
        words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
                 "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
                 "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "amber", "basalt", "cobalt", "dune"]
        for word in words:
            self.send(project, f"deploy broke the {word} service")
        wait_for(lambda: self.stack.sql(f"SELECT count(*) FROM issues WHERE project_id = "
                                        f"{project['ROOKERY_PROJECT_ID']}") == [["30"]], 30, message="30 issues")
        self.settle(project["ROOKERY_PROJECT_ID"], timeout=DIGEST_WINDOW + 40)
        mails = self.smtp.to(project["email"])
        self.assertLessEqual(len(mails), 2, [m.subject for m in mails])
        # Every issue is in exactly one of them.
        listed = [word for mail in mails for word in words if f"the {word} service" in mail.text]
        self.assertEqual(sorted(listed), sorted(words))

    def test_a_regression_is_mailed(self):
        project = self.new_project("regress")
        issue_id = self.issue_of(self.send(project, "the nightly export timed out"))
        self.smtp.wait_for(project["email"], 1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.stack.web_port}/api/0/issues/{issue_id}/", method="PUT",
            data=json.dumps({"status": "resolved"}).encode(),
            headers={"Authorization": f"Bearer {project['ROOKERY_API_TOKEN']}", "Content-Type": "application/json"})
        self.assertEqual(urllib.request.urlopen(request, timeout=10).status, 200)
        # After the digest window the regression goes out on its own.
        time.sleep(DIGEST_WINDOW)
        self.send(project, "the nightly export timed out")
        mails = self.smtp.wait_for(project["email"], 2, timeout=60)
        self.assertIn("Regression", mails[1].subject)
        self.assertIn("the nightly export timed out", mails[1].subject)

    # -- reliability ---------------------------------------------------------------------------------
    def test_mail_server_down_then_up_delivers_once(self):
        project = self.new_project("outage")
        self.smtp.stop()
        try:
            self.send(project, "payment webhook rejected")
            wait_for(lambda: self.stack.sql(
                f"SELECT attempts > 0 AND last_error IS NOT NULL FROM alert_deliveries "
                f"WHERE project_id = {project['ROOKERY_PROJECT_ID']}") == [["t"]], 30,
                message="a failed attempt recorded")
        finally:
            self.smtp.start()
        [mail] = self.smtp.wait_for(project["email"], 1, timeout=60)
        self.assertIn("payment webhook rejected", mail.subject)
        self.settle(project["ROOKERY_PROJECT_ID"])
        time.sleep(2)
        self.assertEqual(len(self.smtp.to(project["email"])), 1)
        self.assertEqual(self.stack.sql(f"SELECT status FROM alert_deliveries "
                                        f"WHERE project_id = {project['ROOKERY_PROJECT_ID']}"), [["sent"]])

    def test_temporary_smtp_refusals_are_retried(self):
        project = self.new_project("refusal")
        self.smtp.refusals[project["email"]] = 2
        self.send(project, "inventory sync lost its lock")
        [mail] = self.smtp.wait_for(project["email"], 1, timeout=60)
        self.assertEqual(self.smtp.refusals[project["email"]], 0)
        self.assertEqual(self.stack.sql(f"SELECT status, attempts FROM alert_deliveries "
                                        f"WHERE project_id = {project['ROOKERY_PROJECT_ID']}"), [["sent", "3"]])

    def test_z_cron_killed_mid_send_sends_once_after_restart(self):
        project = self.new_project("killed")
        self.smtp.reply_delay = 3
        self.smtp.data_started.clear()
        try:
            self.send(project, "search index rebuild crashed")
            self.assertTrue(self.smtp.data_started.wait(60), "cron never started sending")
            cron = self.stack.processes.pop("cron")
            cron.send_signal(signal.SIGKILL)
            cron.wait(10)
            time.sleep(self.smtp.reply_delay + 0.5)
            self.assertEqual(self.smtp.to(project["email"]), [])
        finally:
            self.smtp.reply_delay = 0
        self.stack.start_service("cron", self.stack.cron_env)
        [mail] = self.smtp.wait_for(project["email"], 1, timeout=60)
        self.assertIn("search index rebuild crashed", mail.subject)
        self.settle(project["ROOKERY_PROJECT_ID"])
        time.sleep(2)
        self.assertEqual(len(self.smtp.to(project["email"])), 1)

    # -- who gets what -------------------------------------------------------------------------------
    def test_unsubscribe_link_stops_mail_for_that_project(self):
        project = self.new_project("unsub")
        self.send(project, "the thumbnailer ran out of memory")
        [mail] = self.smtp.wait_for(project["email"], 1)
        link = re.search(r"(http://\S+/api/0/notifications/unsubscribe/\?token=\S+)", mail.text).group(1)
        # Following the link (a mail scanner does) changes nothing; it asks to confirm.
        page = http_request(link)
        self.assertEqual(page.status, 200)
        self.assertIn(b"<form method=\"post\"", page.body)
        self.assertEqual(self.stack.sql("SELECT count(*) FROM notification_settings"), [["0"]])
        tampered = http_request(link[:-1] + ("0" if link[-1] != "0" else "1"), data=b"", method="POST")
        self.assertEqual(tampered.status, 404)
        confirmed = http_request(link, data=b"List-Unsubscribe=One-Click", method="POST")
        self.assertEqual(confirmed.status, 200)
        self.assertIn(b"no more alert mail", confirmed.body)

        time.sleep(DIGEST_WINDOW)
        self.send(project, "the thumbnailer lost its cache")
        self.settle(project["ROOKERY_PROJECT_ID"])
        self.assertEqual(len(self.smtp.to(project["email"])), 1)
        # The user's settings show it, and the API can turn it back on.
        token = project["ROOKERY_API_TOKEN"]
        settings = json.loads(http_request(f"http://127.0.0.1:{self.stack.web_port}/api/0/users/me/notifications/",
                                           headers={"Authorization": f"Bearer {token}"}).body)
        self.assertEqual(settings, {"emailAlerts": True, "projects": {project["ROOKERY_PROJECT_ID"]: False}})
        answer = http_request(f"http://127.0.0.1:{self.stack.web_port}/api/0/users/me/notifications/",
                              data=json.dumps({"project": int(project["ROOKERY_PROJECT_ID"]),
                                               "emailAlerts": True}).encode(),
                              headers={"Authorization": f"Bearer {token}"}, method="PUT")
        self.assertEqual(json.loads(answer.body)["projects"], {project["ROOKERY_PROJECT_ID"]: True})
        bad = http_request(f"http://127.0.0.1:{self.stack.web_port}/api/0/users/me/notifications/",
                           data=b"{\"emailAlerts\": \"no\"}", headers={"Authorization": f"Bearer {token}"},
                           method="PUT")
        self.assertEqual(bad.status, 400)

    def test_webhook_is_signed_and_slack_gets_its_payload(self):
        project = self.new_project("hooks")
        receiver = WebhookReceiver(free_port())
        try:
            base = f"http://127.0.0.1:{receiver.server.server_address[1]}"
            self.stack.sql(
                f"INSERT INTO alert_rules (project_id, name, on_new, min_level, webhook_url, webhook_secret, "
                f"slack_url) VALUES ({project['ROOKERY_PROJECT_ID']}, 'hooks', true, 'error', '{base}/generic', "
                f"'hook-secret', '{base}/slack')")
            self.send(project, "a low note", level="info")  # below the rule's level: only the default rule
            event_id = self.send(project, "the ledger does not balance")
            issue_id = self.issue_of(event_id)
            wait_for(lambda: receiver.json_posts("/generic") and receiver.json_posts("/slack"), 30,
                     message="webhook and Slack posts")
            self.settle(project["ROOKERY_PROJECT_ID"])
            [(headers, body, payload)] = receiver.json_posts("/generic")
            signed = f"{headers['X-Rookery-Timestamp']}.".encode() + body
            expected = "sha256=" + hmac.new(b"hook-secret", signed, hashlib.sha256).hexdigest()
            self.assertEqual(headers["X-Rookery-Signature"], expected)
            self.assertIn(str(issue_id), json.dumps(payload))
            self.assertIn("the ledger does not balance", json.dumps(payload))
            [(_, _, slack)] = receiver.json_posts("/slack")
            self.assertIn("the ledger does not balance", slack["text"])
            # A burst: the generic webhook gets every issue, Slack one digest after the window.
            for word in ["alder", "birch", "cedar"]:
                self.send(project, f"the {word} import failed")
            wait_for(lambda: len(receiver.json_posts("/generic")) == 4, 30, message="four generic posts")
            wait_for(lambda: len(receiver.json_posts("/slack")) == 2, DIGEST_WINDOW + 30, message="a Slack digest")
            self.settle(project["ROOKERY_PROJECT_ID"])
            time.sleep(2)
            slack_posts = receiver.json_posts("/slack")
            self.assertEqual(len(slack_posts), 2)
            for word in ["alder", "birch", "cedar"]:
                self.assertIn(f"the {word} import failed", slack_posts[1][2]["text"])
        finally:
            receiver.stop()

    def test_frequency_rule_fires_once_per_window(self):
        project = self.new_project("often")
        self.stack.sql(
            f"INSERT INTO alert_rules (project_id, name, frequency_count, frequency_minutes, email_addresses) "
            f"VALUES ({project['ROOKERY_PROJECT_ID']}, 'often', 3, 60, '{{oncall@example.com}}')")
        for _ in range(4):
            self.send(project, "the cache stampedes again")
        [mail] = self.smtp.wait_for("oncall@example.com", 1, timeout=60)
        self.assertIn("Issue seen often", mail.subject)
        for _ in range(3):
            self.send(project, "the cache stampedes again")
        time.sleep(DIGEST_WINDOW + 3)
        self.settle(project["ROOKERY_PROJECT_ID"])
        self.assertEqual(len(self.smtp.to("oncall@example.com")), 1)

    def test_an_expired_ignore_ends_without_an_event_and_the_next_event_resurfaces_it(self):
        project = self.new_project("snooze")
        pid = project["ROOKERY_PROJECT_ID"]
        self.stack.sql(f"INSERT INTO alert_rules (project_id, name, on_new, on_resurfaced, email_addresses) "
                       f"VALUES ({pid}, 'back again', false, true, '{{back@example.com}}')")
        issue_id = self.issue_of(self.send(project, "the nightly report is late"))
        self.smtp.wait_for(project["email"], 1)
        self.stack.sql(f"UPDATE issues SET status = 'ignored', ignore_until = now() + interval '1 hour' "
                       f"WHERE id = {issue_id}")
        time.sleep(2)
        self.assertEqual(self.stack.sql(f"SELECT status FROM issues WHERE id = {issue_id}"), [["ignored"]])
        # An hour later, as far as the issue can tell: cron un-ignores it by itself, quietly (the
        # issue lists show it again; nothing has happened to alert about).
        self.stack.sql(f"UPDATE issues SET ignore_until = now() - interval '1 second' WHERE id = {issue_id}")
        wait_for(lambda: self.stack.sql(f"SELECT status FROM issues WHERE id = {issue_id}") == [["unresolved"]], 15,
                 message="the issue unresolved by cron")
        self.assertEqual(self.stack.sql(f"SELECT kind FROM issue_activities WHERE issue_id = {issue_id}"), [["new"]])
        self.settle(pid)
        self.assertEqual(self.smtp.to("back@example.com"), [])
        # The error comes back after the ignore ran out: that event re-surfaces the issue, with its
        # activity and its alert, as if cron had not been quicker.
        self.assertEqual(self.issue_of(self.send(project, "the nightly report is late")), issue_id)
        wait_for(lambda: self.stack.sql(f"SELECT kind FROM issue_activities WHERE issue_id = {issue_id} ORDER BY id")
                 == [["new"], ["resurfaced"]], 15, message="the resurfaced activity")
        [mail] = self.smtp.wait_for("back@example.com", 1)
        self.assertIn("Issue is back", mail.subject)
        self.assertIn("the nightly report is late", mail.subject)
        # Once: the mark is gone with the re-surfacing, and later events are ordinary ones.
        self.assertEqual(self.stack.sql(f"SELECT ignore_until IS NULL FROM issues WHERE id = {issue_id}"), [["t"]])
        self.issue_of(self.send(project, "the nightly report is late"))
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM issue_activities WHERE issue_id = {issue_id}"), [["2"]])

    def test_frequency_rules_respect_tag_filters_and_ignored_issues(self):
        project = self.new_project("oftenfiltered")
        pid = project["ROOKERY_PROJECT_ID"]
        self.stack.sql(
            f"INSERT INTO alert_rules (project_id, name, frequency_count, frequency_minutes, tag_filters, "
            f"email_addresses) VALUES ({pid}, 'eu only', 2, 60, '{{\"region\": \"eu\"}}', '{{eu-oncall@example.com}}')")
        for _ in range(4):
            self.send(project, "the us shard is slow", tags={"region": "us"})
        ignored = self.issue_of(self.send(project, "the eu shard is noisy", tags={"region": "eu"}))
        self.stack.sql(f"UPDATE issues SET status = 'ignored' WHERE id = {ignored}")
        for _ in range(4):
            self.send(project, "the eu shard is noisy", tags={"region": "eu"})
        time.sleep(4)  # several frequency evaluations (every second here)
        self.settle(pid)
        self.assertEqual(self.smtp.to("eu-oncall@example.com"), [])
        # Events that match, of an issue nobody ignored: now it fires.
        for _ in range(3):
            self.send(project, "the eu shard is down", tags={"region": "eu"})
        [mail] = self.smtp.wait_for("eu-oncall@example.com", 1, timeout=60)
        self.assertIn("the eu shard is down", mail.subject)

    def test_a_hanging_webhook_does_not_hold_up_mail(self):
        import socket
        hanging = socket.socket()
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(64)  # connections complete in the backlog and are never answered
        try:
            stuck = self.new_project("stuckhook")
            self.stack.sql(f"INSERT INTO alert_rules (project_id, name, on_new, webhook_url) VALUES "
                           f"({stuck['ROOKERY_PROJECT_ID']}, 'hangs', true, "
                           f"'http://127.0.0.1:{hanging.getsockname()[1]}/hook')")
            for word in ["amber", "beryl", "coral", "dusk", "ember", "flint"]:
                self.send(stuck, f"the {word} queue backs up")
            wait_for(lambda: self.stack.sql(f"SELECT count(*) FROM alert_deliveries WHERE project_id = "
                                            f"{stuck['ROOKERY_PROJECT_ID']} AND channel LIKE 'webhook:%'") == [["6"]],
                     30, message="webhook deliveries queued")
            other = self.new_project("unstuck")
            started = time.monotonic()
            self.send(other, "the invoice run stopped")
            self.smtp.wait_for(other["email"], 1, timeout=60)
            self.assertLess(time.monotonic() - started, 45)
        finally:
            hanging.close()

    def test_the_default_rule_mails_the_projects_team_only(self):
        project = self.new_project("teams")
        pid = project["ROOKERY_PROJECT_ID"]
        # A second member of the organization, and a team (with only the owner) owning the project.
        self.stack.sql(f"INSERT INTO users (email, name) VALUES ('outsider-teams@example.com', 'Other')")
        self.stack.sql(f"INSERT INTO organization_members (organization_id, user_id, role) SELECT "
                       f"p.organization_id, u.id, 'member' FROM projects p, users u WHERE p.id = {pid} "
                       f"AND u.email = 'outsider-teams@example.com'")
        self.stack.sql(f"INSERT INTO teams (organization_id, slug, name) SELECT organization_id, 'backend-team', "
                       f"'Backend' FROM projects WHERE id = {pid}")
        self.stack.sql(f"DELETE FROM project_teams WHERE project_id = {pid}")
        self.stack.sql(f"INSERT INTO project_teams (project_id, team_id) SELECT {pid}, t.id FROM teams t "
                       f"JOIN projects p ON p.organization_id = t.organization_id WHERE p.id = {pid} "
                       f"AND t.slug = 'backend-team'")
        self.stack.sql(f"INSERT INTO team_members (team_id, user_id) SELECT t.id, u.id FROM teams t, users u "
                       f"WHERE t.slug = 'backend-team' AND u.email = '{project['email']}'")
        self.send(project, "the team's own failure")
        self.smtp.wait_for(project["email"], 1, timeout=60)
        self.settle(pid)
        self.assertEqual(self.smtp.to("outsider-teams@example.com"), [])

    def test_only_one_cron_replica_leads(self):
        second_port = free_port()
        second = subprocess.Popen([binary("cron")], env=self.stack.env({**self.stack.cron_env,
                                                                          "ROOKERY_CRON_PORT": str(second_port)}),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: self.stack.cron_get("/healthz", second_port).status == 200, 20, message="second cron")
            time.sleep(1)
            leaders = [json.loads(self.stack.cron_get("/healthz", port).body)["leader"]
                       for port in (self.stack.cron_port, second_port)]
            self.assertEqual(sorted(leaders), [False, True])
        finally:
            second.send_signal(signal.SIGTERM)
            self.assertEqual(second.wait(20), 0)


if __name__ == "__main__":
    unittest.main()
