"""The relay under hostile or unlucky clients: slow senders, idle connections, too many
connections or requests from one address, and a shutdown with a request in flight."""

import json
import re
import signal
import socket
import time
import unittest

from rookery_stack import StackTestCase, http_request, wait_for


def read_until_closed(sock, timeout):
    """Returns seconds until the peer closed the connection (None if it stayed open)."""
    sock.settimeout(0.2)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


class RelayHardeningTest(StackTestCase):
    RELAY_ENV = {
        "ROOKERY_RELAY_READ_TIMEOUT_MS": "1500",
        "ROOKERY_RELAY_IDLE_TIMEOUT_MS": "2000",
        "ROOKERY_RELAY_MAX_CONNECTIONS_PER_IP": "16",
        # Low enough that 150 requests trip it even on a slow, loaded machine.
        "ROOKERY_RELAY_MAX_REQUESTS_PER_SECOND_PER_IP": "20",
    }

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.stack.relay_port), timeout=5)

    def wait_for_rate_budget(self):
        time.sleep(1.2)  # a full second's worth of request tokens again

    def connect_past_the_cap(self):
        """Holds the 16 connections an address may have, opens one more and returns how long the
        relay took to close it (None if it kept it), then closes them all."""
        self.wait_for_rate_budget()
        held = [self.connect() for _ in range(16)]
        try:
            time.sleep(0.2)
            extra = self.connect()
            closed_after = read_until_closed(extra, 2)
            extra.close()
            return closed_after
        finally:
            for sock in held:
                sock.close()

    def test_slowloris_is_closed_by_the_read_deadline(self):
        sock = self.connect()
        sock.sendall(b"POST /api/1/store/ HTTP/1.1\r\nHost: x\r\n")
        # Keep trickling header bytes: the deadline covers the whole request, not each byte.
        started = time.monotonic()
        closed = None
        for _ in range(20):
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - started
                break
            gap = read_until_closed(sock, 0.3)
            if gap is not None:
                closed = time.monotonic() - started
                break
        sock.close()
        self.assertIsNotNone(closed, "a slow sender kept its connection for 6 s")
        self.assertLess(closed, 4.0)
        self.assertEqual(self.stack.relay_get("/healthz").status, 200)

    def test_a_trickled_header_gets_the_read_timeout_not_the_idle_one(self):
        # Idle (2 s) is longer than read (1.5 s) here: a header trickled byte by byte must be cut at
        # the read deadline, counted from its first byte.
        sock = self.connect()
        sock.sendall(b"P")
        started = time.monotonic()
        closed = None
        for byte in b"OST /api/1/store/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 40:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - started
                break
            if read_until_closed(sock, 0.1) is not None:
                closed = time.monotonic() - started
                break
        sock.close()
        self.assertIsNotNone(closed)
        self.assertLess(closed, 1.95)  # the read timeout, not the idle timeout

    def refused_per_address(self):
        found = re.search(r'rookery_relay_connections_refused_total\{reason="max_connections_per_ip"\} (\d+)',
                          self.stack.relay_get("/metrics").body.decode())
        return int(found.group(1)) if found else 0

    def test_closed_connections_stop_counting_against_the_cap_at_once(self):
        self.wait_for_rate_budget()
        refused_before = self.refused_per_address()
        # 40 sequential requests on fresh connections, each closed before the next: a cap of 16
        # must never see more than one of them.
        for i in range(40):
            result = self.stack.relay_post(f"/api/{self.stack.project_id}/store/",
                                           json.dumps({"message": f"sequential {i}"}).encode(),
                                           self.stack.auth_header())
            self.assertEqual(result.status, 200, f"request {i}")
            if i % 15 == 14:
                self.wait_for_rate_budget()
        self.assertEqual(self.refused_per_address(), refused_before)

    def test_answers_the_server_gives_itself_are_counted(self):
        self.connect_past_the_cap()
        self.wait_for_rate_budget()
        sock = self.connect()
        sock.sendall(b"GARBAGE\r\n\r\n")
        read_until_closed(sock, 2)
        sock.close()
        text = wait_for(lambda: self.stack.relay_get("/metrics").body.decode(), 5)
        self.assertRegex(text, r'rookery_relay_connections_refused_total\{reason="max_connections_per_ip"\} [1-9]')
        self.assertRegex(text, r'rookery_relay_requests_total\{route="other",status="400"\} [1-9]')
        self.assertRegex(text, r'rookery_relay_events_rejected_total\{reason="malformed_http"\} [1-9]')

    def test_idle_keep_alive_connections_are_closed(self):
        self.wait_for_rate_budget()
        sock = self.connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", sock.recv(65536))
        closed_after = read_until_closed(sock, 5)
        sock.close()
        self.assertIsNotNone(closed_after)
        self.assertTrue(1.5 <= closed_after <= 3.5, closed_after)

    def test_connections_per_address_are_capped(self):
        self.assertIsNotNone(self.connect_past_the_cap(), "the 17th connection was kept")
        wait_for(lambda: self.stack.relay_get("/healthz").status == 200, 5, message="a connection after the cap")

    def test_requests_per_address_are_capped(self):
        self.wait_for_rate_budget()
        url = f"http://127.0.0.1:{self.stack.relay_port}/healthz"
        statuses = [http_request(url) for _ in range(150)]
        limited = [r for r in statuses if r.status == 429]
        self.assertTrue(limited, "150 requests at once were all served with a cap of 20/s")
        self.assertEqual(limited[0].headers.get("Retry-After"), "1")
        self.assertEqual(limited[0].headers.get("Access-Control-Allow-Origin"), "*")
        self.assertGreaterEqual(sum(1 for r in statuses if r.status == 200), 20)  # the burst
        self.wait_for_rate_budget()
        self.assertEqual(http_request(url).status, 200)
        text = self.stack.relay_get("/metrics").body.decode()
        self.assertRegex(text, r'rookery_relay_events_rejected_total\{reason="ip_rate_limited"\} [1-9]')
        self.assertRegex(text, r'rookery_relay_requests_total\{route="healthz",status="429"\} [1-9]')

    def test_z_sigterm_drains_a_request_in_flight(self):
        self.wait_for_rate_budget()
        body = json.dumps({"message": "sent across the shutdown"}).encode()
        head = (f"POST /api/{self.stack.project_id}/store/ HTTP/1.1\r\nHost: x\r\n"
                f"X-Sentry-Auth: Sentry sentry_key={self.stack.public_key}, sentry_version=7\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        sock = self.connect()
        sock.sendall(head + body[:10])
        # Let the relay accept the connection and parse the headers: a connection still in the
        # kernel's accept backlog when the listener closes is reset, by any server.
        time.sleep(0.3)
        relay = self.stack.processes.pop("relay")
        relay.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # A new connection is refused while the old one is drained.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.stack.relay_port), timeout=1).recv(1)
        sock.sendall(body[10:])
        answer = b""
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        self.assertIn(b"HTTP/1.1 200 OK", answer)
        self.assertIn(b"Connection: close", answer)
        self.assertEqual(relay.wait(timeout=15), 0)
        # The event accepted during the drain reached Kafka and the database.
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM events WHERE title = 'sent across the shutdown'")
                 == [["1"]], 15, message="the drained event stored")


if __name__ == "__main__":
    unittest.main()
