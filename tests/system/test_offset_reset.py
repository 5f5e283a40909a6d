"""System test: the documented offset-out-of-range policy. When the broker has dropped messages a
stopped worker group had not read yet (retention; here the dev broker's 5 MB per partition), the
group's committed offset points before the log's start. The worker then resets to the earliest
offset still there, counts the reset as loss on /metrics, logs it as an error, and carries on:
never a crash loop, and everything still in the log is processed."""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from rookery_stack import Stack, wait_for  # noqa: E402

KEY = "one-partition"  # every message below lands on the same partition
BIG = "x" * 900_000    # under the producer's 1 MB message limit


class OffsetResetTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack().start()

    def tearDown(self):
        codes = self.stack.stop()
        self.assertEqual(codes.get("worker"), 0)

    def dead_letters(self):
        return int(self.stack.sql("SELECT count(*) FROM dead_letters")[0][0])

    def test_lost_messages_reset_the_offset_are_counted_and_the_worker_carries_on(self):
        # The group commits an offset on the partition.
        self.stack.kafka_produce(KEY, "first, read before the gap")
        wait_for(lambda: self.dead_letters() == 1, 30, message="the first message handled")
        self.assertEqual(self.stack.stop_service("worker"), 0)

        # While the group is away, more than the partition keeps arrives: its head is dropped,
        # taking the group's position with it.
        for _ in range(8):
            self.stack.kafka_produce(KEY, BIG)
        self.stack.kafka_produce(KEY, "last, still in the log")

        self.stack.start_service("worker")
        wait_for(lambda: "offset reset" in self.stack.log_text("worker"), 60, message="the reset logged")
        # What survived in the log is still read, the last message included.
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM dead_letters WHERE payload = "
                                        "convert_to('last, still in the log', 'UTF8')") == [["1"]], 60,
                 message="the last message handled")
        metrics = self.stack.worker_metrics().body.decode()
        self.assertGreaterEqual(self.stack.metric(metrics, "rookery_worker_offset_resets"), 1)
        self.assertRegex(self.stack.log_text("worker"), re.compile(r"lost", re.IGNORECASE))
        # Still one process, still consuming: a new event goes all the way through.
        time.sleep(1)
        self.assertIsNone(self.stack.processes["worker"].poll())
        answer = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", b'{"message": "after the gap"}',
                                       self.stack.auth_header())
        self.assertEqual(answer.status, 200)
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM events WHERE title = 'after the gap'") == [["1"]], 30,
                 message="an event after the gap stored")


if __name__ == "__main__":
    unittest.main()
