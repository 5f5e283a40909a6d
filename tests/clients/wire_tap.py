"""A byte-for-byte TCP tap in front of the relay, recording what real clients put on the wire.

The client talks to the tap's port; every byte is forwarded unchanged to the relay and every answer
unchanged back, so the relay sees exactly what the client sent (headers, their order and case,
chunked bodies, `Expect: 100-continue`). Afterwards `requests()` parses the recorded client bytes into
HTTP requests and `responses()` the relay's answers, so a test can assert the wire shape: endpoint,
auth, Content-Encoding, Content-Type.

As a tool: `python3 wire_tap.py <relay port>` prints the tap port and, on Ctrl-C, every request.
"""

import socket
import threading
import urllib.parse


class HttpMessage:
    def __init__(self, start_line, headers, body):
        self.start_line = start_line
        self.headers = headers  # [(name, value)] as sent: order and case kept
        self.body = body  # de-chunked, still content-encoded

    def header(self, name, default=None):
        """The value of the first header called `name` (case-insensitive), or `default` when absent."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), default)

    @property
    def method(self):
        return self.start_line.split(" ", 1)[0]

    @property
    def target(self):
        return self.start_line.split(" ")[1]

    @property
    def path(self):
        return urllib.parse.urlsplit(self.target).path

    @property
    def query(self):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.target).query))

    @property
    def status(self):
        return int(self.start_line.split(" ")[1])

    def summary(self):
        shown = [f"{key}: {value}" for key, value in self.headers
                 if key.lower() in ("content-type", "content-encoding", "transfer-encoding", "content-length",
                                    "x-sentry-auth", "authorization", "user-agent", "origin", "expect")]
        return f"{self.start_line} [{'; '.join(shown)}] body={len(self.body)} bytes"

    def __repr__(self):
        return f"<{self.summary()}>"


def _parse_messages(data):
    """Parses consecutive HTTP/1.x messages; stops at the first incomplete one."""
    messages = []
    offset = 0
    while True:
        end = data.find(b"\r\n\r\n", offset)
        if end < 0:
            return messages
        lines = data[offset:end].decode("latin-1").split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        message = HttpMessage(lines[0], headers, b"")
        pos = end + 4
        if message.start_line.startswith("HTTP/") and 100 <= message.status < 200:
            offset = pos  # 100 Continue: no body
            continue
        if (message.header("Transfer-Encoding") or "").lower() == "chunked":
            body = bytearray()
            while True:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    return messages
                size = int(data[pos:line_end].split(b";")[0], 16)
                pos = line_end + 2
                if size == 0:
                    trailer_end = data.find(b"\r\n", pos)
                    if trailer_end < 0:
                        return messages
                    pos = trailer_end + 2
                    break
                if len(data) < pos + size + 2:
                    return messages
                body += data[pos:pos + size]
                pos += size + 2
            message.body = bytes(body)
        else:
            length = int(message.header("Content-Length") or 0)
            if len(data) < pos + length:
                return messages
            message.body = bytes(data[pos:pos + length])
            pos += length
        messages.append(message)
        offset = pos


class WireTap:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = []  # [(client bytes, relay bytes)] in accept order
        self.open_sockets = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def dsn(self, dsn):
        """`dsn` with its host and port replaced by the tap's."""
        parts = urllib.parse.urlsplit(dsn)
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{self.port}"))

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            sent, answered = bytearray(), bytearray()
            with self.lock:
                self.connections.append((sent, answered))
                self.open_sockets.update((client, upstream))
            pumps_left = [2]
            for source, sink, record in ((client, upstream, sent), (upstream, client, answered)):
                threading.Thread(target=self._pump, args=(source, sink, record, (client, upstream), pumps_left),
                                 daemon=True).start()

    def _pump(self, source, sink, record, pair, pumps_left):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                with self.lock:
                    record += chunk
                sink.sendall(chunk)
        except OSError:
            pass
        try:
            sink.shutdown(socket.SHUT_WR)  # pass the half-close on
        except OSError:
            pass
        with self.lock:
            pumps_left[0] -= 1
            last = pumps_left[0] == 0
            if last:
                self.open_sockets.difference_update(pair)
        if last:
            for sock in pair:
                sock.close()

    def requests(self):
        with self.lock:
            return [message for sent, _ in self.connections for message in _parse_messages(bytes(sent))]

    def exchanges(self):
        """[(request, response or None)] pairing each connection's requests with its answers in order."""
        with self.lock:
            pairs = []
            for sent, answered in self.connections:
                requests = _parse_messages(bytes(sent))
                responses = _parse_messages(bytes(answered))
                pairs += [(request, responses[i] if i < len(responses) else None)
                          for i, request in enumerate(requests)]
            return pairs

    def close(self):
        """Stops accepting and cuts the connections still open (their pumps then close them)."""
        self.listener.close()
        with self.lock:
            live = list(self.open_sockets)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


if __name__ == "__main__":
    import sys
    import time

    tap = WireTap(int(sys.argv[1]))
    print(f"tap on 127.0.0.1:{tap.port} -> relay 127.0.0.1:{sys.argv[1]}", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        for request, response in tap.exchanges():
            print(request.summary(), "->", response.start_line if response else "(no answer)")
