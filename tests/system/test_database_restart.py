"""System test: PostgreSQL restarts under load. The relay keeps accepting from its key cache, the
worker retries with backoff, and every accepted event is stored and counted exactly once."""

import json
import os
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from rookery_stack import PrivatePostgres, Stack, wait_for  # noqa: E402


class DatabaseRestartTest(unittest.TestCase):
    def setUp(self):
        self.postgres = PrivatePostgres()
        self.stack = Stack(admin_url=self.postgres.admin_url).start()

    def tearDown(self):
        try:
            self.stack.stop()
        finally:
            self.postgres.destroy()

    def test_restart_under_load(self):
        accepted, refused = [], []

        def load():
            for i in range(400):
                event = {"event_id": uuid.uuid4().hex, "message": f"restart title {'abcd'[i % 4]}"}
                result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/", json.dumps(event).encode(),
                                               self.stack.auth_header())
                (accepted if result.status == 200 else refused).append((event["event_id"], result.status))
                time.sleep(0.005)

        sender = threading.Thread(target=load)
        sender.start()
        time.sleep(1)
        self.postgres.stop()
        time.sleep(3)  # the database stays down for a while under load
        self.postgres.start()
        sender.join()

        # The relay never needed the database: every request was accepted.
        self.assertEqual(refused, [])
        wait_for(lambda: int(self.stack.sql("SELECT count(*) FROM events")[0][0]) >= len(accepted), 60,
                 interval=0.5, message="every accepted event stored")
        time.sleep(2)
        self.assertEqual(int(self.stack.sql("SELECT count(*) FROM events")[0][0]), len(accepted))
        self.assertEqual(sum(int(row[0]) for row in self.stack.sql("SELECT times_seen FROM issues")), len(accepted))
        # The outage met the writer or, since it reads project settings on its own connection, the
        # processing thread; either retries with backoff.
        self.assertRegex(self.stack.log_text("worker"), r"(database write|reading project settings) failed")


if __name__ == "__main__":
    unittest.main()
