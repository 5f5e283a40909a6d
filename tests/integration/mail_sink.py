"""A real SMTP server for the alert tests (aiosmtpd, from Debian's python3-aiosmtpd), and a small
HTTP receiver for webhooks. Both keep what they received for the test to inspect."""

import asyncio
import email
import email.policy
import http.server
import json
import threading
import time

from aiosmtpd.controller import Controller


class Mail:
    def __init__(self, rcpt_tos, content):
        self.to = list(rcpt_tos)
        self.message = email.message_from_bytes(content, policy=email.policy.default)
        self.subject = str(self.message["Subject"])

    def part(self, content_type):
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        return None

    @property
    def text(self):
        return self.part("text/plain") or ""

    @property
    def html(self):
        return self.part("text/html") or ""


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        sink.data_started.set()
        if sink.reply_delay:
            await asyncio.sleep(sink.reply_delay)
            # Like an MTA that takes responsibility only once it has answered: a client that went
            # away before the answer has not handed the message over.
            if server.transport is None or server.transport.is_closing():
                with sink.lock:
                    sink.abandoned += 1
                return "451 client went away"
        with sink.lock:
            # Refusals are aimed at one recipient, so other tests' mail in flight cannot use them up.
            for address in envelope.rcpt_tos:
                if sink.refusals.get(address, 0) > 0:
                    sink.refusals[address] -= 1
                    return "451 4.3.0 try again later"
        with sink.lock:
            sink.mails.append(Mail(envelope.rcpt_tos, envelope.content))
        return "250 OK"


class MailSink:
    """Start with `start()`; `stop()` closes the port (a mail server outage); `start()` again
    listens on the same port."""

    def __init__(self, port):
        self.port = port
        self.mails = []
        self.lock = threading.Lock()
        self.reply_delay = 0
        self.refusals = {}  # recipient -> how many more times to answer 451
        self.abandoned = 0
        self.data_started = threading.Event()
        self.controller = None

    def start(self):
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def to(self, address):
        with self.lock:
            return [m for m in self.mails if address in m.to]

    def wait_for(self, address, count=1, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.to(address)
            if len(mails) >= count:
                return mails
            time.sleep(0.1)
        raise AssertionError(f"{count} mail(s) to {address} expected within {timeout}s, got {len(self.to(address))}")


class WebhookReceiver:
    """Records every POST: (path, headers, body)."""

    def __init__(self, port):
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json_posts(self, path):
        return [(headers, body, json.loads(body)) for p, headers, body in self.requests if p == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
