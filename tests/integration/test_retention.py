"""Retention in rookery-cron, against a real stack: day partitions older than the longest retention
are dropped and the database really shrinks; a project with a shorter retention loses its older
events and expired issues (with their hashes, tags, users and counts) in batches; recent data,
sent through the real relay and worker, stays and is still served by the API; tomorrow's
partition is created ahead; a second pass removes nothing; replicas take turns through a lock."""

import json
import re
import subprocess
import time
import uuid

from rookery_stack import StackTestCase, binary, wait_for

RETENTION_LOCK_KEY = 0x526F6F6B526574  # services/cron/src/retention.cpp kRetentionLockKey
OLD_EVENTS_PER_DAY = 4000
SHORT_OLD_EVENTS = 500


class RetentionTest(StackTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.prepare()
        except BaseException:
            cls.stack.dump_logs()
            cls.tearDownClass()
            raise

    @classmethod
    def prepare(cls):
        stack = cls.stack
        # The service's own pass runs right after start; then it sleeps an hour, so this test's
        # passes are the only ones touching the data below. Stopped, so that stays true.
        cls.scheduled_log = wait_for(lambda: "retention done" in stack.log_text("cron") and stack.log_text("cron"),
                                     30, message="the scheduled retention pass")
        # The pass is counted just after it logs; read /metrics once the count is there.
        cls.scheduled_metrics = wait_for(
            lambda: (lambda text: stack.metric(text, "rookery_cron_retention_runs_total") >= 1 and text)(
                stack.cron_get("/metrics").body.decode()), 10, message="the pass counted on /metrics")
        assert stack.stop_service("cron") == 0

        cls.today = stack.sql("SELECT (now() AT TIME ZONE 'UTC')::date")[0][0]
        cls.project_a = stack.project_id  # the organization's default retention: 90 days

        # Recent events, through the relay and worker.
        cls.recent_a = [cls.send(cls.project_a, stack.public_key, "retention keeps me") for _ in range(2)]
        cls.recent_a.append(cls.send(cls.project_a, stack.public_key, "retention keeps me too"))
        for event_id in cls.recent_a:
            cls.wait_stored(event_id)
        cls.issue_recent_a = cls.issue_of(cls.recent_a[0])

        # A second project of the same organization keeps 7 days; its key reaches the relay by NOTIFY.
        cls.project_b = int(stack.sql(
            f"INSERT INTO projects (organization_id, slug, name, retention_days) SELECT organization_id, "
            f"'short-lived', 'short-lived', 7 FROM projects WHERE id = {cls.project_a} RETURNING id")[0][0])
        key_b = uuid.uuid4().hex
        stack.sql(f"INSERT INTO project_keys (project_id, public_key, secret_key) "
                  f"VALUES ({cls.project_b}, '{key_b}', '{uuid.uuid4().hex}')")
        first_b = wait_for(lambda: cls.try_send(cls.project_b, key_b, "short-lived but recent"), 15,
                           interval=0.2, message="the relay knowing project B's key")
        cls.recent_b = [first_b, cls.send(cls.project_b, key_b, "short-lived but recent")]
        for event_id in cls.recent_b:
            cls.wait_stored(event_id)
        cls.issue_recent_b = cls.issue_of(cls.recent_b[0])

        # Old bulk data: two day partitions past 90 days, a few MB of payload each, with their issues.
        cls.old_days = [cls.day(-120), cls.day(-100)]
        cls.old_issues_a = []
        for offset in (-120, -100):
            issue = cls.make_issue(cls.project_a, 1000000 - offset, f"ancient issue {-offset}", offset)
            cls.bulk_events(cls.project_a, issue, offset, OLD_EVENTS_PER_DAY)
            cls.old_issues_a.append(issue)
        # Ten days old: expired for project B (7 days), not for project A (90 days).
        cls.mid_issue_a = cls.make_issue(cls.project_a, 2000000, "ten days old, kept", -10)
        cls.bulk_events(cls.project_a, cls.mid_issue_a, -10, 50)
        cls.old_issue_b = cls.make_issue(cls.project_b, 3000000, "ten days old, expired", -10)
        cls.bulk_events(cls.project_b, cls.old_issue_b, -10, SHORT_OLD_EVENTS)
        # The recent issue of B also had an event ten days ago: that event and its hour go, the issue stays.
        cls.bulk_events(cls.project_b, cls.issue_recent_b, -10, 1)
        stack.sql(f"INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) VALUES "
                  f"({cls.project_b}, {cls.issue_recent_b}, '{cls.day(-10)} 12:00+00', 1)")
        stack.sql("INSERT INTO dead_letters (topic, partition, \"offset\", reason, payload, created_at) VALUES "
                  "('rookery.raw-events', 0, 1, 'old', 'x', now() - interval '100 days'), "
                  "('rookery.raw-events', 0, 2, 'recent', 'y', now())")
        stack.sql("ANALYZE")

        cls.old_partitions_bytes = sum(int(stack.sql(
            f"SELECT pg_total_relation_size('events_{day.replace('-', '')}')")[0][0]) for day in cls.old_days)
        cls.size_before = cls.database_size()
        cls.events_b_before = cls.count(f"events WHERE project_id = {cls.project_b}")
        cls.first = cls.run_retention({"ROOKERY_CRON_RETENTION_BATCH_SIZE": "100"})
        cls.size_after = cls.database_size()

    # -- helpers ---------------------------------------------------------------------------------
    @classmethod
    def try_send(cls, project_id, key, message):
        event = {"event_id": uuid.uuid4().hex, "message": message, "level": "error", "platform": "python"}
        answer = cls.stack.relay_post(f"/api/{project_id}/store/", json.dumps(event).encode(),
                                      {**cls.stack.auth_header(key), "Content-Type": "application/json"})
        return event["event_id"] if answer.status == 200 else None

    @classmethod
    def send(cls, project_id, key, message):
        event_id = cls.try_send(project_id, key, message)
        assert event_id, "the relay refused an event"
        return event_id

    @classmethod
    def wait_stored(cls, event_id):
        wait_for(lambda: cls.stack.sql(f"SELECT 1 FROM events WHERE event_id = '{event_id}'") == [["1"]], 20,
                 message=f"event {event_id} stored")

    @classmethod
    def issue_of(cls, event_id):
        return int(cls.stack.sql(f"SELECT issue_id FROM events WHERE event_id = '{event_id}'")[0][0])

    @classmethod
    def day(cls, offset):
        return cls.stack.sql(f"SELECT '{cls.today}'::date + {offset}")[0][0]

    @classmethod
    def make_issue(cls, project_id, short_id, title, offset):
        """An issue last seen `offset` days from today, with a hash, tags, a user, a count and an activity."""
        seen = f"'{cls.day(offset)} 12:00+00'::timestamptz"
        issue = int(cls.stack.sql(
            f"INSERT INTO issues (project_id, short_id, title, level, type, first_seen, last_seen, times_seen) "
            f"VALUES ({project_id}, {short_id}, '{title}', 'error', 'default', {seen}, {seen}, 1) RETURNING id")[0][0])
        cls.stack.sql(
            f"INSERT INTO group_hashes (project_id, hash, issue_id, config) "
            f"VALUES ({project_id}, md5('{title}'), {issue}, 'newstyle:2023-01-11');"
            f"INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, last_seen) "
            f"VALUES ({project_id}, {issue}, 'environment', 'production', 1, {seen}, {seen}), "
            f"({project_id}, {issue}, 'level', 'error', 1, {seen}, {seen});"
            f"INSERT INTO issue_users (project_id, issue_id, user_key, first_seen) "
            f"VALUES ({project_id}, {issue}, 'id:alice', {seen});"
            f"INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) "
            f"VALUES ({project_id}, {issue}, {seen}, 1);"
            f"INSERT INTO issue_activities (project_id, issue_id, kind, event_id, created_at) "
            f"VALUES ({project_id}, {issue}, 'new', gen_random_uuid(), {seen})")
        return issue

    @classmethod
    def bulk_events(cls, project_id, issue, offset, count):
        """`count` events on that day, each with about 1.3 kB of poorly compressible payload."""
        day = cls.day(offset)
        cls.stack.sql(f"SELECT rookery_ensure_events_partition('{day}')")
        cls.stack.sql(
            f"INSERT INTO events (project_id, event_id, day, issue_id, received_at, timestamp, platform, level, "
            f"title, environment, hashes, data) "
            f"SELECT {project_id}, gen_random_uuid(), '{day}', {issue}, "
            f"'{day} 12:00+00'::timestamptz + g * interval '1 second', "
            f"'{day} 12:00+00'::timestamptz + g * interval '1 second', 'python', 'error', 'bulk event', "
            f"'production', ARRAY[md5('{issue}')], jsonb_build_object('message', 'bulk event ' || g, "
            f"'extra', (SELECT string_agg(md5(g::text || '/' || k::text || random()::text), '') "
            f"FROM generate_series(1, 40) AS k)) "
            f"FROM generate_series(1, {count}) AS g")

    @classmethod
    def count(cls, what):
        return int(cls.stack.sql(f"SELECT count(*) FROM {what}")[0][0])

    @classmethod
    def database_size(cls):
        return int(cls.stack.sql("SELECT pg_database_size(current_database())")[0][0])

    @classmethod
    def run_retention(cls, extra_env=None):
        result = subprocess.run([binary("cron"), "run", "retention"], env=cls.stack.env(extra_env),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"rookery-cron run retention -> {result.returncode}:\n{result.stdout}" \
                                       f"{result.stderr}"
        return result.stdout + result.stderr

    def summary(self, output):
        match = re.search(r"retention done: .*", output)
        self.assertIsNotNone(match, output)
        return dict(re.findall(r"(\w+)=(\d+)", match.group(0)))

    def exists(self, relation):
        return self.stack.sql(f"SELECT to_regclass('{relation}') IS NOT NULL")[0][0] == "t"

    def issue_rows(self, issue):
        tables = ["issues WHERE id", "group_hashes WHERE issue_id", "issue_tag_values WHERE issue_id",
                  "issue_users WHERE issue_id", "issue_hourly_counts WHERE issue_id",
                  "issue_activities WHERE issue_id", "events WHERE issue_id"]
        return {table.split()[0]: self.count(f"{table} = {issue}") for table in tables}

    # -- the schedule ------------------------------------------------------------------------------
    def test_cron_runs_retention_right_after_start(self):
        self.assertIn("retention every 3600 s", self.scheduled_log)
        self.assertRegex(self.scheduled_log, r"retention done: longest retention 90 days")
        # The pass is counted on cron's /metrics, with the partitions it created ahead.
        metrics = self.scheduled_metrics
        self.assertGreaterEqual(self.stack.metric(metrics, "rookery_cron_retention_runs_total"), 1)
        self.assertIn("rookery_cron_retention_partitions_dropped_total", metrics)
        self.assertIn("rookery_cron_alerts_pending", metrics)

    # -- partitions and disk -----------------------------------------------------------------------
    def test_old_partitions_are_dropped_and_the_disk_given_back(self):
        for day in self.old_days:
            self.assertFalse(self.exists(f"events_{day.replace('-', '')}"), day)
        self.assertGreater(self.old_partitions_bytes, 4 * 1024 * 1024)
        fell = self.size_before - self.size_after
        self.assertGreaterEqual(fell, 0.9 * self.old_partitions_bytes,
                                f"database {self.size_before} -> {self.size_after} bytes; the dropped partitions "
                                f"held {self.old_partitions_bytes}")

    def test_todays_and_tomorrows_partitions_exist(self):
        for offset in (0, 1):
            self.assertTrue(self.exists("events_" + self.day(offset).replace("-", "")), offset)

    def test_the_log_says_what_was_removed(self):
        for day in self.old_days:
            self.assertIn(f"dropped events partition events_{day.replace('-', '')}", self.first)
        summary = self.summary(self.first)
        self.assertEqual(summary["dropped"], "2")
        self.assertEqual(int(summary["events_deleted"]), SHORT_OLD_EVENTS + 1)
        self.assertEqual(int(summary["issues_deleted"]), 3)
        self.assertEqual(int(summary["hourly_counts_deleted"]), 4)
        self.assertEqual(int(summary["dead_letters_deleted"]), 1)
        self.assertRegex(self.first, rf"project {self.project_b} \(7 days, before {self.day(-7)}\): deleted "
                                     rf"events={SHORT_OLD_EVENTS + 1} issues=1 hourly_counts=2")

    # -- what goes ---------------------------------------------------------------------------------
    def test_expired_issues_go_with_their_aggregates(self):
        for issue in self.old_issues_a + [self.old_issue_b]:
            with self.subTest(issue=issue):
                self.assertEqual(set(self.issue_rows(issue).values()), {0}, self.issue_rows(issue))
                self.assertEqual(self.stack.web_get(f"/api/0/issues/{issue}/",
                                                    self.stack.credentials["ROOKERY_API_TOKEN"]).status, 404)

    def test_short_retention_project_loses_its_old_events_only(self):
        self.assertEqual(self.count(f"events WHERE project_id = {self.project_b} AND day < '{self.day(-7)}'"), 0)
        self.assertEqual(self.count(f"events WHERE project_id = {self.project_b}"), len(self.recent_b))
        self.assertEqual(self.events_b_before, len(self.recent_b) + SHORT_OLD_EVENTS + 1)
        # The recent issue stays, minus its expired hour.
        rows = self.issue_rows(self.issue_recent_b)
        self.assertEqual(rows["issues"], 1)
        self.assertEqual(rows["events"], len(self.recent_b))
        self.assertEqual(self.count(f"issue_hourly_counts WHERE issue_id = {self.issue_recent_b} "
                                    f"AND hour < '{self.day(-7)}'"), 0)
        self.assertGreaterEqual(rows["issue_hourly_counts"], 1)

    def test_old_dead_letters_go(self):
        self.assertEqual(self.stack.sql("SELECT reason FROM dead_letters ORDER BY id"), [["recent"]])

    # -- what stays --------------------------------------------------------------------------------
    def test_recent_data_stays_and_the_api_serves_it(self):
        recent = ", ".join(f"'{event_id}'" for event_id in self.recent_a + self.recent_b)
        self.assertEqual(self.count(f"events WHERE event_id IN ({recent})"), len(self.recent_a) + len(self.recent_b))
        # Ten days old is within project A's 90 days.
        self.assertEqual(self.issue_rows(self.mid_issue_a)["events"], 50)
        self.assertEqual(self.issue_rows(self.mid_issue_a)["group_hashes"], 1)

        listed = {issue["title"] for issue in self.stack.api(f"/api/0/projects/{self.org}/{self.project}/issues/")}
        self.assertTrue({"retention keeps me", "retention keeps me too", "ten days old, kept"} <= listed, listed)
        detail = self.stack.api(f"/api/0/issues/{self.issue_recent_a}/")
        self.assertEqual(detail["count"], "2")
        latest = self.stack.api(f"/api/0/issues/{self.issue_recent_b}/events/latest/")
        self.assertIn(latest["eventID"].replace("-", ""), self.recent_b)
        self.assertEqual(self.stack.api(f"/api/0/issues/{self.mid_issue_a}/")["title"], "ten days old, kept")

    def test_new_events_are_still_stored_after_retention(self):
        event_id = self.send(self.project_a, self.stack.public_key, "retention after the pass")
        self.wait_stored(event_id)
        self.assertEqual(self.stack.api(f"/api/0/issues/{self.issue_of(event_id)}/")["count"], "1")

    # -- more passes -------------------------------------------------------------------------------
    def test_z1_a_second_run_removes_nothing(self):
        output = self.run_retention()
        summary = self.summary(output)
        for field in ("created", "dropped", "events_deleted", "issues_deleted", "hourly_counts_deleted",
                      "dead_letters_deleted"):
            self.assertEqual(summary[field], "0", (field, output))
        self.assertNotIn("dropped events partition", output)

    def test_z2_a_held_lock_makes_another_run_skip(self):
        self.stack.sql("INSERT INTO dead_letters (topic, partition, \"offset\", reason, payload, created_at) "
                       "VALUES ('rookery.raw-events', 0, 3, 'old again', 'z', now() - interval '100 days')")
        holder = subprocess.Popen(["psql", self.stack.database_url, "-qAt"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            holder.stdin.write(f"SELECT pg_advisory_lock({RETENTION_LOCK_KEY});\n\\echo locked\n")
            holder.stdin.flush()
            deadline = time.monotonic() + 10
            while holder.stdout.readline().strip() != "locked":
                self.assertLess(time.monotonic(), deadline, "psql never took the lock")
            output = self.run_retention()
            self.assertIn("retention skipped: another process holds the retention lock", output)
            self.assertEqual(self.count("dead_letters WHERE reason = 'old again'"), 1)
        finally:
            holder.stdin.close()
            holder.wait(timeout=10)
            holder.stdout.close()
        # psql has exited, but its server session (and with it the lock) ends a moment later.
        wait_for(lambda: self.stack.sql(f"SELECT pg_try_advisory_lock({RETENTION_LOCK_KEY}) AND "
                                        f"pg_advisory_unlock({RETENTION_LOCK_KEY})") == [["t"]], 10,
                 message="the lock released")
        output = self.run_retention()
        self.assertEqual(self.summary(output)["dead_letters_deleted"], "1", output)

    def test_z3_usage_and_failures_exit_non_zero(self):
        bad = subprocess.run([binary("cron"), "run", "everything"], env=self.stack.env(), capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("usage", bad.stderr)
        down = subprocess.run([binary("cron"), "run", "retention"], capture_output=True, text=True, timeout=30,
                              env=self.stack.env({"ROOKERY_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                                                  "ROOKERY_DATABASE_CONNECT_TIMEOUT_SECONDS": "2"}))
        self.assertEqual(down.returncode, 1)
        self.assertIn("retention failed", down.stdout + down.stderr)
