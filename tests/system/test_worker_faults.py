"""System test: workers killed with SIGKILL mid-batch, repeatedly; the group scaled from one
worker to three under load; two workers updating the same issues at once. Every event the relay
accepted must be stored exactly once and counted exactly once, in every aggregate: issue counts,
distinct users, tag values, hourly counts, and one "new" activity per issue."""

import json
import os
import signal
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from rookery_stack import Stack, wait_for  # noqa: E402


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

    def start_worker(self, name):
        self.stack._spawn(name, [self.stack.processes["worker"].args[0]],
                          self.stack.env({"ROOKERY_WORKER_BATCH_SIZE": "20"}))

    def assert_exactly_once(self, titles):
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
        self.assert_aggregates_exact()

    def assert_aggregates_exact(self):
        """Every aggregate agrees with the events actually stored."""
        def per_issue(query):
            return {row[0]: row[1] for row in self.stack.sql(query)}
        events = per_issue("SELECT issue_id, count(*) FROM events GROUP BY issue_id")
        self.assertEqual(per_issue("SELECT id, times_seen FROM issues"), events)
        self.assertEqual(per_issue("SELECT issue_id, sum(count) FROM issue_hourly_counts GROUP BY issue_id"), events)
        self.assertEqual(per_issue("SELECT issue_id, sum(times_seen) FROM issue_tag_values WHERE key = 'level' "
                                   "GROUP BY issue_id"), events)
        self.assertEqual(self.stack.sql("SELECT issue_id, value, times_seen FROM issue_tag_values "
                                        "WHERE key = 'environment' ORDER BY 1, 2"),
                         self.stack.sql("SELECT issue_id, environment, count(*) FROM events GROUP BY 1, 2 ORDER BY 1, 2"))
        self.assertEqual(per_issue("SELECT id, user_count FROM issues"),
                         per_issue("SELECT issue_id, count(DISTINCT data->'user'->>'id') FROM events GROUP BY 1"))
        self.assertEqual(per_issue("SELECT issue_id, count(*) FROM issue_users GROUP BY 1"),
                         per_issue("SELECT issue_id, count(DISTINCT data->'user'->>'id') FROM events GROUP BY 1"))
        self.assertEqual(self.stack.sql("SELECT count(*) FROM issue_activities WHERE kind = 'new'"),
                         self.stack.sql("SELECT count(*) FROM issues"))
        self.assertEqual(self.stack.sql("SELECT count(*) FROM issue_activities WHERE kind <> 'new'"), [["0"]])

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
        process = self.stack.processes.pop("worker-2")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main()
