"""System test: workers killed with SIGKILL mid-batch, repeatedly; the group scaled from one
worker to three under load; two workers updating the same issues at once; two consumer groups storing
the same events at once (a replay racing its original). Every event the relay
accepted must be stored exactly once and counted exactly once, in every aggregate: issue counts,
distinct users, tag values, hourly counts, and one "new" activity per issue."""

import datetime
import json
import os
import re
import signal
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from rookery_stack import Stack, binary, wait_for  # noqa: E402


class WorkerFaultsTest(unittest.TestCase):
    def setUp(self):
        # Small batches so a kill lands mid-batch more often than between batches.
        self.stack = Stack().start()
        self.accepted = []
        self.refused = 0

    def tearDown(self):
        codes = self.stack.stop()
        self.assertEqual(codes.get("relay"), 0)

    USERS = ["ada", "grace", "linus", "barbara", "ken"]
    ENVIRONMENTS = ["production", "staging"]

    def send_load(self, count, titles):
        """Sends `count` events over `titles` (with users and environments that rotate at other
        rates, so every issue sees several of each), recording the accepted event ids."""
        for i in range(count):
            event = {"event_id": uuid.uuid4().hex, "message": titles[i % len(titles)],
                     "environment": self.ENVIRONMENTS[i % 2 if len(titles) % 2 else (i // len(titles)) % 2],
                     "user": {"id": self.USERS[(i // len(titles)) % len(self.USERS)]}}
            result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", json.dumps(event).encode(),
                                           self.stack.auth_header())
            if result.status == 200:
                self.accepted.append(event["event_id"])
            else:
                self.refused += 1

    def start_worker(self, name, extra_env=None):
        self.stack._spawn(name, [binary("worker")],
                          self.stack.env({"ROOKERY_WORKER_BATCH_SIZE": "20", **(extra_env or {})}))
        # Stack.stop() knows only its own services: a test failing before it stops this worker must
        # not leave it running.
        self.addCleanup(self.kill_if_running, name)

    def kill_if_running(self, name):
        process = self.stack.processes.pop(name, None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def assert_exactly_once(self, titles, regressions=0):
        expected = len(self.accepted)

        def stored():
            return int(self.stack.sql("SELECT count(*) FROM events")[0][0])
        wait_for(lambda: stored() >= expected, 90, interval=0.5, message=f"{expected} stored events")
        time.sleep(2)  # anything still in flight would now show up as a double
        self.assertEqual(stored(), expected)
        stored_ids = {row[0] for row in self.stack.sql("SELECT replace(event_id::text, '-', '') FROM events")}
        self.assertEqual(stored_ids, set(self.accepted))
        counts = dict(self.stack.sql("SELECT title, times_seen FROM issues"))
        self.assertEqual(sum(int(c) for c in counts.values()), expected)
        self.assertEqual(set(counts), set(titles))
        self.assert_aggregates_exact(regressions)

    def assert_aggregates_exact(self, regressions=0):
        """Every aggregate agrees with the events actually stored."""
        def per_issue(query):
            return {row[0]: row[1] for row in self.stack.sql(query)}
        # Full batches leave their tag counts to a timed fold, due within a second of the last batch.
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM issue_tag_deltas") == [["0"]], 20,
                 message="pending tag deltas folded")
        events = per_issue("SELECT issue_id, count(*) FROM events GROUP BY issue_id")
        self.assertEqual(per_issue("SELECT id, times_seen FROM issues"), events)
        self.assertEqual(per_issue("SELECT issue_id, sum(count) FROM issue_hourly_counts GROUP BY issue_id"), events)
        self.assertEqual(per_issue("SELECT issue_id, sum(times_seen) FROM issue_tag_values WHERE key = 'level' "
                                   "GROUP BY issue_id"), events)
        self.assertEqual(self.stack.sql("SELECT issue_id, value, times_seen FROM issue_tag_values "
                                        "WHERE key = 'environment' ORDER BY 1, 2"),
                         self.stack.sql("SELECT issue_id, environment, count(*) FROM events GROUP BY 1, 2 ORDER BY 1, 2"))
        users = {}
        for issue_id, event in self.stack.stored_events():
            users.setdefault(issue_id, set())
            if (event.get("user") or {}).get("id") is not None:
                users[issue_id].add(event["user"]["id"])
        distinct_users = {issue_id: str(len(ids)) for issue_id, ids in users.items()}
        self.assertEqual(per_issue("SELECT id, user_count FROM issues"), distinct_users)
        self.assertEqual({issue_id: count for issue_id, count in distinct_users.items() if count != "0"},
                         per_issue("SELECT issue_id, count(*) FROM issue_users GROUP BY 1"))
        self.assertEqual(self.stack.sql("SELECT count(*) FROM issue_activities WHERE kind = 'new'"),
                         self.stack.sql("SELECT count(*) FROM issues"))
        self.assertEqual(self.stack.sql("SELECT count(*) FROM issue_activities WHERE kind <> 'new'"),
                         [[str(regressions)]])

    def test_sigkill_mid_batch_repeatedly_loses_and_doubles_nothing(self):
        titles = [f"fault title {letter}" for letter in "abcdefg"]  # no digits: Sentry parameterizes them
        sender = threading.Thread(target=self.send_load, args=(600, titles))
        sender.start()
        for round_number in range(4):
            time.sleep(1.5)
            worker = self.stack.processes.pop("worker")
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            self.stack.start_service("worker", {"ROOKERY_WORKER_BATCH_SIZE": "20"})
        sender.join()
        self.assertEqual(self.refused, 0)
        self.assert_exactly_once(titles)

    def test_scaling_one_to_three_workers_under_load(self):
        titles = [f"scale title {letter}" for letter in "abcde"]
        sender = threading.Thread(target=self.send_load, args=(600, titles))
        sender.start()
        time.sleep(1)
        self.start_worker("worker-2")
        time.sleep(1)
        self.start_worker("worker-3")
        sender.join()
        self.assertEqual(self.refused, 0)
        self.assert_exactly_once(titles)
        # More than one member did the work after the rebalance.
        busy = [name for name in ("worker", "worker-2", "worker-3") if "batch committed" in self.stack.log_text(name)]
        self.assertGreaterEqual(len(busy), 2, f"only {busy} committed batches")
        for name in ("worker-2", "worker-3"):
            process = self.stack.processes.pop(name)
            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(timeout=30), 0)

    def test_two_workers_update_the_same_issues_concurrently(self):
        # Both members from the start, small batches: their transactions keep meeting on the same
        # three issues' rows (and their users, tags and hours), the case that loses updates or
        # deadlocks when locks are taken carelessly.
        self.start_worker("worker-2")
        titles = [f"contended title {letter}" for letter in "xyz"]
        senders = [threading.Thread(target=self.send_load, args=(300, titles)) for _ in range(3)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        self.assertEqual(self.refused, 0)
        self.assert_exactly_once(titles)
        busy = [name for name in ("worker", "worker-2") if "batch committed" in self.stack.log_text(name)]
        self.assertEqual(len(busy), 2, f"only {busy} committed batches")
        for name in ("worker", "worker-2"):
            self.assertNotIn("dead-letter", self.stack.log_text(name))
            # A deadlock would be retried and the counts above would still come out exact: the
            # lock order is what keeps it from happening at all.
            self.assertNotIn("deadlock", self.stack.log_text(name))
            self.assertNotIn("database write failed", self.stack.log_text(name))
        process = self.stack.processes.pop("worker-2")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=30), 0)

    def test_killed_between_the_database_commit_and_the_offset_commit(self):
        # The crash at-least-once delivery is for: a batch is durable in PostgreSQL, but Kafka never
        # hears of it, so the group delivers it again. The test hook makes the worker SIGKILL itself
        # at exactly that point, after its third batch; its successor must store nothing twice and
        # count nothing twice.
        self.assertEqual(self.stack.stop_service("worker"), 0)
        titles = [f"crash title {letter}" for letter in "mn"]
        self.send_load(200, titles)
        self.stack.start_service("worker", {"ROOKERY_WORKER_BATCH_SIZE": "20",
                                            "ROOKERY_WORKER_TEST_KILL_AFTER_DB_COMMIT": "3"})
        self.assertEqual(self.stack.processes["worker"].wait(timeout=60), -signal.SIGKILL)
        killed = re.search(r"test hook: killing the worker after the database commit of a batch of (\d+) events",
                           self.stack.log_text("worker"))
        self.assertIsNotNone(killed, self.stack.log_text("worker"))
        in_doubt = int(killed.group(1))
        self.assertGreater(in_doubt, 0)
        log_before = len(self.stack.log_text("worker"))
        self.stack.start_service("worker", {"ROOKERY_WORKER_BATCH_SIZE": "20"})
        self.assertEqual(self.refused, 0)
        self.assert_exactly_once(titles)
        # The killed batch came back whole, and every one of its events was found stored.
        duplicates = sum(int(match.group(1)) for match in re.finditer(
            r"batch committed: messages=\d+ inserted=\d+ duplicates=(\d+)", self.stack.log_text("worker")[log_before:]))
        self.assertEqual(duplicates, in_doubt)

    def test_a_replay_racing_its_original_is_stored_once(self):
        # A member of another group reads every message too: each event reaches the database twice
        # at about the same time, the case of a replay racing its original (after a rebalance, or
        # an operator resetting offsets). Whichever COPY comes second waits for the first and must
        # neither store the event again, nor count it, nor dead-letter it.
        # The backlog is produced first and both start on it together, so they meet on the same
        # events batch after batch.
        self.assertEqual(self.stack.stop_service("worker"), 0)
        titles = [f"raced title {letter}" for letter in "pq"]
        self.send_load(400, titles)
        self.stack.start_service("worker", {"ROOKERY_WORKER_BATCH_SIZE": "20"})
        self.start_worker("worker-2", {"ROOKERY_WORKER_GROUP": "rookery-rival"})
        self.assertEqual(self.refused, 0)
        self.assert_exactly_once(titles)
        # Both groups consume everything: together they meet every event twice, and store it once.
        def totals():
            inserted = duplicates = 0
            for name in ("worker", "worker-2"):
                for match in re.finditer(r"batch committed: messages=\d+ inserted=(\d+) duplicates=(\d+)",
                                         self.stack.log_text(name)):
                    inserted += int(match.group(1))
                    duplicates += int(match.group(2))
            return inserted, duplicates
        wait_for(lambda: sum(totals()) >= 2 * len(self.accepted), 60, interval=0.5,
                 message="both groups through every event")
        self.assertEqual(totals(), (len(self.accepted), len(self.accepted)))
        for name in ("worker", "worker-2"):
            self.assertNotIn("dead-letter", self.stack.log_text(name))
        process = self.stack.processes.pop("worker-2")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=30), 0)

    def test_two_workers_regress_a_resolved_issue_once(self):
        # Both members take events of one resolved issue at once: only the first to lock it sees it
        # resolved (one regression), the other must see the status it left (no second one), and
        # every event is counted.
        self.start_worker("worker-2")
        titles = ["regressing title"]
        self.send_load(1, titles)
        wait_for(lambda: self.stack.sql("SELECT times_seen FROM issues") == [["1"]], 30, message="the issue")
        time.sleep(1)  # resolved after the first event's receive time, as the web app would
        self.stack.sql("UPDATE issues SET status = 'resolved', resolved_at = now(), status_changed_at = now()")
        senders = [threading.Thread(target=self.send_load, args=(150, titles)) for _ in range(3)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        self.assertEqual(self.refused, 0)
        self.assert_exactly_once(titles, regressions=1)
        self.assertEqual(self.stack.sql("SELECT kind, count(*) FROM issue_activities GROUP BY kind ORDER BY kind"),
                         [["new", "1"], ["regression", "1"]])
        self.assertEqual(self.stack.sql("SELECT status, resolved_at IS NULL FROM issues"), [["unresolved", "t"]])
        busy = [name for name in ("worker", "worker-2") if "batch committed" in self.stack.log_text(name)]
        self.assertEqual(len(busy), 2, f"only {busy} committed batches")
        process = self.stack.processes.pop("worker-2")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=30), 0)

    def test_an_event_stored_by_a_concurrent_transaction_is_counted_once(self):
        # The narrow race of a replay with its original, held open: another session has inserted
        # the event and not committed yet when the worker's batch brings it. The worker's look-up
        # cannot see that row, so its COPY waits for the other transaction and then fails with a
        # unique violation; the batch must be written again and find the event stored.
        def store(event):
            result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", json.dumps(event).encode(),
                                           self.stack.auth_header())
            self.assertEqual(result.status, 200)
        store({"event_id": uuid.uuid4().hex, "message": "held title"})
        wait_for(lambda: self.stack.sql("SELECT id FROM issues WHERE title = 'held title'"), 30, message="the issue")
        issue_id = self.stack.sql("SELECT id FROM issues WHERE title = 'held title'")[0][0]
        event_id = uuid.uuid4().hex
        now = datetime.datetime.now(datetime.timezone.utc)
        with self.stack.open_transaction(
                "INSERT INTO events (project_id, event_id, day, issue_id, received_at, timestamp, platform, level, "
                f"title, hashes, data) VALUES ({self.stack.project_id}, '{event_id}', '{now.date().isoformat()}', "
                f"{issue_id}, now(), now(), 'other', 'error', 'held title', '{{}}', '{{}}');",
                message="the holder's insert"):
            store({"event_id": event_id, "message": "held title", "timestamp": now.isoformat()})
            wait_for(lambda: self.stack.sql("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                            "AND datname = current_database()"), 30, message="the worker's COPY waiting")
        wait_for(lambda: "stored concurrently" in self.stack.log_text("worker"), 30, message="the retry")
        wait_for(lambda: "duplicates=1" in self.stack.log_text("worker"), 30, message="the event counted a duplicate")
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM events WHERE event_id = '{event_id}'"), [["1"]])
        self.assertEqual(self.stack.sql(f"SELECT times_seen FROM issues WHERE id = {issue_id}"), [["1"]])
        self.assertEqual(self.stack.sql("SELECT count(*) FROM dead_letters"), [["0"]])

    def test_an_issue_merged_while_a_batch_waits_for_it_loses_nothing(self):
        # The aggregates have no foreign keys to issues (migration 0013): the batch itself must
        # hold its issues before it touches their aggregate rows, wait for a merge holding one,
        # and, finding the issue gone, be written again into the issue its hash now leads to,
        # leaving nothing behind for the deleted one (and not deadlocking with the merge).
        def store(message, user):
            event = {"event_id": uuid.uuid4().hex, "message": message, "user": {"id": user}}
            result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", json.dumps(event).encode(),
                                           self.stack.auth_header())
            self.assertEqual(result.status, 200)
            return event["event_id"]
        store("merged away", "ada")
        store("merge parent", "grace")
        wait_for(lambda: len(self.stack.sql("SELECT id FROM issues")) == 2, 30, message="two issues")
        child = self.stack.sql("SELECT id FROM issues WHERE title = 'merged away'")[0][0]
        parent = self.stack.sql("SELECT id FROM issues WHERE title = 'merge parent'")[0][0]
        with self.stack.open_transaction(f"SELECT 1 FROM issues WHERE id = {child} FOR UPDATE;",
                                         message="the holder's lock") as run:
            late = store("merged away", "linus")
            wait_for(lambda: self.stack.sql("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                            "AND datname = current_database()"), 30,
                     message="the worker waiting for the child")
            # What the API's merge does to the child, as the waiting batch will find it.
            run(f"UPDATE group_hashes SET issue_id = {parent} WHERE issue_id = {child};"
                f"UPDATE events SET issue_id = {parent} WHERE issue_id = {child};"
                f"UPDATE issues SET times_seen = times_seen + 1, user_count = user_count + 1 WHERE id = {parent};"
                f"INSERT INTO issue_users SELECT project_id, {parent}, user_key, first_seen FROM issue_users "
                f"WHERE issue_id = {child};"
                f"INSERT INTO issue_hourly_counts SELECT project_id, {parent}, hour, count FROM issue_hourly_counts "
                f"WHERE issue_id = {child} ON CONFLICT (project_id, issue_id, hour) DO UPDATE "
                f"SET count = issue_hourly_counts.count + excluded.count;"
                f"DELETE FROM issues WHERE id = {child};")
        wait_for(lambda: "merged or deleted" in self.stack.log_text("worker"), 30, message="the batch noticing the merge")
        wait_for(lambda: self.stack.sql(f"SELECT issue_id FROM events WHERE event_id = '{late}'") == [[parent]], 30,
                 message="the late event stored into the parent")
        self.assertEqual(self.stack.sql(f"SELECT times_seen, user_count FROM issues WHERE id = {parent}"), [["3", "3"]])
        for table in ["issue_users", "issue_hourly_counts", "issue_tag_values", "issue_tag_deltas", "events"]:
            self.assertEqual(self.stack.sql(f"SELECT count(*) FROM {table} WHERE issue_id = {child}"), [["0"]], table)
        self.assertEqual(self.stack.sql(f"SELECT sum(count) FROM issue_hourly_counts WHERE issue_id = {parent}"),
                         [["3"]])
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM issue_users WHERE issue_id = {parent}"), [["3"]])
        self.assertEqual(self.stack.sql("SELECT count(*) FROM dead_letters"), [["0"]])


if __name__ == "__main__":
    unittest.main()
