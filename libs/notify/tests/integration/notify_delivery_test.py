"""rookery::notify against real servers: an aiosmtpd SMTP server and an http.server webhook receiver.

Drives the real senders through the rookery-notify-send tool (path in ROOKERY_NOTIFY_SEND; ctest
sets it). Everything listens on 127.0.0.1 on free ports and stops with the test. Exits 77 (ctest
SKIP_RETURN_CODE) when python3-aiosmtpd is missing; every other problem is a failure.
"""

import email
import email.policy
import hashlib
import hmac
import http.server
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
except ImportError:
    print("SKIP: python3-aiosmtpd is not installed", file=sys.stderr)
    sys.exit(77)

# The refused TLS handshake is expected; aiosmtpd would print its traceback, and warn about its own
# deprecated session attribute on every login.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
warnings.filterwarnings("ignore", category=DeprecationWarning, module="aiosmtpd")

TOOL = os.environ.get("ROOKERY_NOTIFY_SEND", "")
EXIT_OK, EXIT_PERMANENT, EXIT_TRANSIENT = 0, 69, 75
SMTP_USER, SMTP_PASSWORD = "alerts", "correct horse battery staple"
WEBHOOK_SECRET = "whsec_integration_test"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_tool(*args, env=None, timeout=60):
    """Runs the tool; returns (exit code, parsed JSON line or None, stdout, stderr, seconds)."""
    started = time.monotonic()
    proc = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    result = None
    if proc.stdout.strip():
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    return proc.returncode, result, proc.stdout, proc.stderr, elapsed


class MailHandler:
    """Keeps every accepted message; some recipients are refused as a real relay would."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address.startswith("reject@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "raw": envelope.original_content, "authenticated": session.authenticated})
        return "250 2.0.0 Message accepted for delivery"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    # handled=False makes aiosmtpd answer a failure with 535 itself (its default is to stay silent).
    return AuthResult(success=ok, handled=False)


class SmtpDeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.handler = MailHandler()
        cls.port = free_port()
        cls.controller = Controller(cls.handler, hostname="127.0.0.1", port=cls.port, authenticator=authenticate,
                                    auth_require_tls=False, ready_timeout=10)
        cls.controller.start()

    @classmethod
    def tearDownClass(cls):
        cls.controller.stop()

    def setUp(self):
        self.handler.messages.clear()

    def send(self, *extra, to=("dev@example.com",), url=None, env=None, starttls="none"):
        args = ["smtp", "--url", url or f"smtp://127.0.0.1:{self.port}", "--starttls", starttls,
                "--from", "alerts@rookery.example", "--from-name", "Rookery Alerts",
                "--subject", "[backend] Ошибка: деление на ноль 💥",
                "--text", "A new issue was seen.\nhttps://rookery.example/issues/42/\n",
                "--html", "<p>A new issue was seen: <a href=\"https://rookery.example/issues/42/\">open</a></p>",
                "--message-id", "alert-42.7@rookery.example", "--unsubscribe", "https://rookery.example/u/abc",
                "--connect-timeout-ms", "3000", "--timeout-ms", "10000"]
        for address in to:
            args += ["--to", address]
        return run_tool(*args, *extra, env=env)

    def test_message_arrives_with_both_parts(self):
        code, result, out, err, _ = self.send(to=("dev@example.com", "ops@example.com"))
        self.assertEqual(code, EXIT_OK, out + err)
        self.assertTrue(result["ok"])
        self.assertEqual(result["status"], 250)
        self.assertEqual(len(self.handler.messages), 1)
        stored = self.handler.messages[0]
        self.assertEqual(stored["from"], "alerts@rookery.example")
        self.assertEqual(stored["to"], ["dev@example.com", "ops@example.com"])

        raw = stored["raw"]
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""), "every line ends in CRLF")
        self.assertTrue(all(len(line) <= 998 for line in raw.split(b"\r\n")))
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(message.defects, [])
        self.assertEqual(message["Subject"], "[backend] Ошибка: деление на ноль 💥")
        self.assertEqual(message["Message-ID"], "<alert-42.7@rookery.example>")
        self.assertEqual(message["From"].addresses[0].display_name, "Rookery Alerts")
        self.assertEqual(message["List-Unsubscribe"], "<https://rookery.example/u/abc>")
        self.assertEqual(message["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        parts = list(message.iter_parts())
        self.assertEqual([part.get_content_type() for part in parts], ["text/plain", "text/html"])
        self.assertEqual([part.get_content_charset() for part in parts], ["utf-8", "utf-8"])
        self.assertIn("https://rookery.example/issues/42/", parts[0].get_content())
        self.assertIn("<a href=\"https://rookery.example/issues/42/\">open</a>", parts[1].get_content())

    def test_authenticated_send_and_refused_password(self):
        code, result, out, err, _ = self.send("--username", SMTP_USER, env={"ROOKERY_SMTP_PASSWORD": SMTP_PASSWORD})
        self.assertEqual(code, EXIT_OK, out + err)
        self.assertTrue(self.handler.messages[0]["authenticated"])

        wrong = "not-the-password-4711"
        code, result, out, err, _ = self.send("--username", SMTP_USER, env={"ROOKERY_SMTP_PASSWORD": wrong})
        self.assertEqual(code, EXIT_PERMANENT, out + err)
        self.assertEqual(result["kind"], "permanent")
        self.assertEqual(result["status"], 535)
        self.assertNotIn(wrong, out + err)
        self.assertEqual(len(self.handler.messages), 1)

    def test_rejected_recipient_is_permanent(self):
        code, result, out, err, _ = self.send(to=("dev@example.com", "reject@example.com"))
        self.assertEqual(code, EXIT_PERMANENT, out + err)
        self.assertEqual(result["kind"], "permanent")
        self.assertEqual(result["status"], 550)
        self.assertEqual(self.handler.messages, [], "no recipient gets a partly refused message")

    def test_temporary_refusal_is_transient(self):
        code, result, out, err, _ = self.send(to=("busy@example.com",))
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual(result["kind"], "transient")
        self.assertEqual(result["status"], 451)

    def test_required_starttls_without_it_is_permanent(self):
        code, result, out, err, _ = self.send(starttls="required")
        self.assertEqual(code, EXIT_PERMANENT, out + err)
        self.assertEqual(self.handler.messages, [])
        code, _, out, err, _ = self.send(starttls="opportunistic")
        self.assertEqual(code, EXIT_OK, out + err)

    def test_closed_port_is_transient_and_fast(self):
        code, result, out, err, elapsed = self.send(url=f"smtp://127.0.0.1:{free_port()}")
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual(result["kind"], "transient")
        self.assertEqual(result["status"], 0)
        self.assertLess(elapsed, 3.0 + 2.0)

    def test_silent_server_times_out_as_transient(self):
        # The kernel completes the handshake for a listening socket that never accepts, so this is
        # a relay that connects and then says nothing: only the total timeout can end it.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            code, result, out, err, elapsed = self.send("--timeout-ms", "1500", url=f"smtp://127.0.0.1:{port}")
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual(result["kind"], "transient")
        self.assertGreaterEqual(elapsed, 1.4)
        self.assertLess(elapsed, 6.0)


@unittest.skipIf(shutil.which("openssl") is None, "openssl is needed to make a test certificate")
class SmtpTlsTest(unittest.TestCase):
    """STARTTLS against a relay with a self-signed certificate: refused unless verification is off."""

    @classmethod
    def setUpClass(cls):
        import ssl
        cls.dir = tempfile.mkdtemp(prefix="rookery-notify-tls-")
        cert, key = os.path.join(cls.dir, "cert.pem"), os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        cls.handler = MailHandler()
        cls.port = free_port()
        cls.controller = Controller(cls.handler, hostname="127.0.0.1", port=cls.port, tls_context=context,
                                    require_starttls=True, ready_timeout=10)
        cls.controller.start()

    @classmethod
    def tearDownClass(cls):
        cls.controller.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.handler.messages.clear()

    def send(self, *extra):
        return run_tool("smtp", "--url", f"smtp://127.0.0.1:{self.port}", "--starttls", "required",
                        "--from", "alerts@rookery.example", "--to", "dev@example.com", "--subject", "tls",
                        "--text", "over TLS", "--message-id", "tls.1@rookery.example", "--timeout-ms", "10000", *extra)

    def test_unverifiable_certificate_is_refused_by_default(self):
        code, result, out, err, _ = self.send()
        self.assertEqual(code, EXIT_PERMANENT, out + err)
        self.assertEqual(self.handler.messages, [])

    def test_insecure_mode_delivers_over_starttls(self):
        code, _, out, err, _ = self.send("--insecure")
        self.assertEqual(code, EXIT_OK, out + err)
        self.assertEqual(len(self.handler.messages), 1)


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers by path and records each request with whether its signature verified."""

    requests = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        timestamp = self.headers.get("X-Rookery-Timestamp", "")
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        signature = self.headers.get("X-Rookery-Signature", "")
        Receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                  "signature_ok": hmac.compare_digest(expected, signature)})
        if self.path == "/slow":
            time.sleep(3)
        status, extra, payload = {
            "/ok": (200, {}, b'{"received":true}'),
            "/fail": (500, {}, b"internal error"),
            "/bad": (400, {}, b'{"error":"unknown channel"}'),
            "/throttle": (429, {"Retry-After": "7"}, b"slow down"),
            "/redirect": (301, {"Location": "/ok"}, b""),
            "/big": (200, {}, b"x" * (1024 * 1024)),
            "/slow": (200, {}, b"late"),
        }.get(self.path, (404, {}, b"no such hook"))
        try:
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender stopped reading (the /big cap, the /slow timeout): as intended


class WebhookDeliveryTest(unittest.TestCase):
    BODY = json.dumps({"version": 1, "type": "issue.alert", "issue": {"title": "TypeError: ünïcödé"}},
                      ensure_ascii=False)

    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        cls.server.daemon_threads = True
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        Receiver.requests.clear()

    def post(self, path, *extra, base=None):
        return run_tool("webhook", "--url", (base or self.base) + path, "--body", self.BODY, "--delivery-id",
                        "alert-42.7", "--connect-timeout-ms", "3000", "--timeout-ms", "10000", *extra,
                        env={"ROOKERY_WEBHOOK_SECRET": WEBHOOK_SECRET})

    def test_success_is_signed_and_labelled(self):
        code, result, out, err, _ = self.post("/ok")
        self.assertEqual(code, EXIT_OK, out + err)
        self.assertEqual(result["status"], 200)
        self.assertEqual(result["body"], '{"received":true}')
        self.assertEqual(len(Receiver.requests), 1)
        request = Receiver.requests[0]
        self.assertTrue(request["signature_ok"])
        self.assertEqual(request["body"], self.BODY.encode())
        headers = request["headers"]
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertRegex(headers["User-Agent"], r"^Rookery/\d+\.\d+\.\d+$")
        self.assertEqual(headers["X-Rookery-Delivery"], "alert-42.7")
        self.assertLess(abs(int(headers["X-Rookery-Timestamp"]) - time.time()), 60)
        self.assertNotIn(WEBHOOK_SECRET, out + err)

    def test_server_error_is_transient(self):
        code, result, out, err, _ = self.post("/fail")
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual((result["kind"], result["status"]), ("transient", 500))
        self.assertTrue(Receiver.requests[0]["signature_ok"])

    def test_client_error_is_permanent(self):
        code, result, out, err, _ = self.post("/bad")
        self.assertEqual(code, EXIT_PERMANENT, out + err)
        self.assertEqual((result["kind"], result["status"]), ("permanent", 400))
        self.assertIn("unknown channel", result["detail"])

    def test_throttling_is_transient_with_retry_after(self):
        code, result, out, err, _ = self.post("/throttle")
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual((result["status"], result["retry_after"]), (429, 7))

    def test_redirect_is_not_followed(self):
        code, result, out, err, _ = self.post("/redirect")
        self.assertEqual(code, EXIT_PERMANENT, out + err)
        self.assertEqual(result["status"], 301)
        self.assertEqual([r["path"] for r in Receiver.requests], ["/redirect"])

    def test_response_body_is_capped(self):
        code, result, out, err, _ = self.post("/big", "--max-response-bytes", "65536")
        self.assertEqual(code, EXIT_OK, out + err)
        self.assertTrue(result["body_truncated"])
        self.assertEqual(len(result["body"]), 65536)

    def test_slow_receiver_times_out_as_transient(self):
        code, result, out, err, elapsed = self.post("/slow", "--timeout-ms", "1000")
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual(result["kind"], "transient")
        self.assertLess(elapsed, 2.9)

    def test_closed_port_is_transient(self):
        code, result, out, err, _ = self.post("/ok", base=f"http://127.0.0.1:{free_port()}")
        self.assertEqual(code, EXIT_TRANSIENT, out + err)
        self.assertEqual((result["kind"], result["status"]), ("transient", 0))

    def test_other_schemes_are_refused(self):
        code, result, out, err, _ = run_tool("webhook", "--url", "file:///etc/passwd", "--body", "{}")
        self.assertEqual(code, EXIT_PERMANENT, out + err)


if __name__ == "__main__":
    if not TOOL or not os.access(TOOL, os.X_OK):
        sys.exit("ROOKERY_NOTIFY_SEND must name the built rookery-notify-send")
    unittest.main(verbosity=2)
