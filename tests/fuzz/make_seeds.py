#!/usr/bin/python3
"""Writes the seed corpus, tests/fuzz/corpus/<target>/seed-*, from the shapes real clients send
(../shared/reference/sentry-protocol.md §2, §3, §4.5, §8) and the edge cases around them.

Run it with Debian's python3 after changing a seed; it is deterministic and only rewrites seed-*
and the crash-* inputs it defines, so inputs the fuzzer found (found-*) stay. Brotli and zstd come from the system libraries
the relay links (libbrotlienc, libzstd) through ctypes, as Debian has no Python binding for them.
"""
import base64
import ctypes
import gzip
import json
import pathlib
import zlib

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
KEY = "e12d836b15bb49d7bbf99e64295d995b"
SECRET = "6f1b6bd4c5b04fbc8cdb2b47c7d7e6a1"
EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"
DASHED_ID = "9ec79c33-ec99-42ab-8353-589fcb2e04dc"

_brotli = ctypes.CDLL("libbrotlienc.so.1")
_zstd = ctypes.CDLL("libzstd.so.1")
_zstd.ZSTD_compressBound.restype = ctypes.c_size_t
_zstd.ZSTD_compress.restype = ctypes.c_size_t


def brotli(data: bytes) -> bytes:
    out = ctypes.create_string_buffer(len(data) + 1024)
    size = ctypes.c_size_t(len(out))
    # quality 11, window 22 (BROTLI_DEFAULT_WINDOW), generic mode
    ok = _brotli.BrotliEncoderCompress(11, 22, 0, ctypes.c_size_t(len(data)), data, ctypes.byref(size), out)
    assert ok, "BrotliEncoderCompress failed"
    return out.raw[: size.value]


def zstd(data: bytes, level: int = 3) -> bytes:
    bound = _zstd.ZSTD_compressBound(ctypes.c_size_t(len(data)))
    out = ctypes.create_string_buffer(bound)
    size = _zstd.ZSTD_compress(out, ctypes.c_size_t(bound), data, ctypes.c_size_t(len(data)), level)
    assert size < bound + 1, "ZSTD_compress failed"
    return out.raw[:size]


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def js(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def write(target: str, name: str, data: bytes) -> None:
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"seed-{name}").write_bytes(data)


# --- events as the clients of §8 shape them -------------------------------------------------

PYTHON_EVENT = js({
    "event_id": EVENT_ID, "timestamp": "2024-05-01T12:00:00.123456Z", "level": "error", "platform": "python",
    "sdk": {"name": "sentry.python", "version": "1.9.10"}, "release": "app@1.0.0", "environment": "production",
    "exception": {"values": [{"type": "ZeroDivisionError", "value": "division by zero", "mechanism": {
        "type": "excepthook", "handled": False}, "stacktrace": {"frames": [
            {"filename": "app.py", "function": "<module>", "lineno": 3, "in_app": True,
             "context_line": "1 / 0", "vars": {"x": "'1'"}}]}}]},
    "breadcrumbs": {"values": []}, "contexts": {"runtime": {"name": "CPython", "version": "3.11.2"}},
    "_meta": {"exception": {"values": {"0": {"stacktrace": {"frames": {"0": {"vars": {"": {"len": 9}}}}}}}}},
})
RAVEN_PYTHON_EVENT = (b'{"project":"2","level":40,"message":"boom %s","sentry.interfaces.Message":{"message":"boom %s",'
                      b'"params":["x"],"formatted":"boom x"},"extra":{"ratio":NaN,"big":Infinity,"small":-Infinity},'
                      b'"time_spent":null,"event_id":"' + EVENT_ID.encode() + b'","timestamp":"2024-05-01T12:00:00Z"}')
RAVEN_NODE_EVENT = js({
    "event_id": EVENT_ID, "message": "TypeError: x is undefined", "platform": "node", "timestamp": "2024-05-01T12:00:00",
    "exception": [{"type": "TypeError", "value": "x is undefined", "stacktrace": {"frames": [
        {"filename": "/srv/app.js", "function": "handler", "lineno": 10, "colno": 5, "in_app": True}]}}],
    "breadcrumbs": {"values": [{"timestamp": 1714564800, "message": "GET /"}]},
})
RAVEN_JS_EVENT = js({
    "project": "3", "logger": "javascript", "platform": "javascript",
    "request": {"url": "http://localhost:8080/", "headers": {"User-Agent": "Mozilla/5.0", "Referer": "http://x/"}},
    "exception": {"values": [{"type": "Error", "value": "oops", "stacktrace": {"frames": []}}]},
    "event_id": EVENT_ID, "extra": {"session:duration": 12},
})
BROWSER_EVENT = js({
    "exception": {"values": [{"type": "Error", "value": "Uncaught boom", "mechanism": {"type": "onerror"}}]},
    "level": "error", "platform": "javascript", "event_id": EVENT_ID, "timestamp": 1714564800.123,
    "environment": "production", "sdk": {"name": "sentry.javascript.browser", "version": "11.12.0"},
    "request": {"url": "http://localhost/", "headers": {"User-Agent": "Mozilla/5.0"}},
    "user": {"ip_address": "{{auto}}"},
})
RUBY_EVENT = js({
    "event_id": EVENT_ID, "level": "error", "platform": "ruby", "type": "event", "timestamp": "2024-05-01T12:00:00Z",
    "sdk": {"name": "sentry.ruby", "version": "5.10.0"}, "message": "", "exception": {"values": [
        {"type": "RuntimeError", "value": "boom", "module": "", "thread_id": 60}]},
})
CLI_EVENT = js({
    "event_id": EVENT_ID, "platform": "native", "logentry": {"formatted": "hello from sentry-cli"},
    "user": {"ip_address": "{{auto}}"}, "sdk": {"name": "sentry-cli", "version": "3.8.0"},
})

# --- envelopes (§4.1, §4.5, §8) ----------------------------------------------------------------


def item(type_: str, payload: bytes, length: bool = True, **extra) -> bytes:
    header = {"type": type_, **extra}
    if length:
        header["length"] = len(payload)
    return js(header) + b"\n" + payload


ENVELOPES = {
    # §4.5, verbatim from the develop docs: a BOM and CRLF inside a length-delimited attachment.
    "docs-attachment-event": b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42"}\n'
                             b'{"type":"attachment","length":10,"content_type":"text/plain","filename":"hello.txt"}\n'
                             b'\xef\xbb\xbfHello\r\n\n'
                             b'{"type":"event","length":41,"content_type":"application/json","filename":"application.log"}\n'
                             b'{"message":"hello world","level":"error"}\n',
    "docs-session-implicit-length": b'{}\n{"type":"session"}\n'
                                    b'{"started": "2020-02-07T14:16:00Z","attrs":{"release":"sentry-test@1.0.0"}}',
    # sentry-python 1.9: every item has a length, each payload ends with \n.
    "python-event": js({"event_id": EVENT_ID, "sent_at": "2024-05-01T12:00:01.000000Z"}) + b"\n"
                    + item("event", PYTHON_EVENT, content_type="application/json") + b"\n",
    "python-transaction": js({"event_id": EVENT_ID, "sent_at": "2024-05-01T12:00:01Z",
                              "trace": {"trace_id": EVENT_ID, "public_key": KEY}}) + b"\n"
                          + item("transaction", js({"type": "transaction", "transaction": "/", "spans": []})) + b"\n",
    "python-sessions": b"{}\n" + item("sessions", js({"aggregates": [{"started": "2024-05-01T12:00:00Z", "exited": 3}],
                                                      "attrs": {"release": "app@1.0.0"}})) + b"\n",
    "python-client-report": b"{}\n" + item("client_report", js({"timestamp": 1714564800, "discarded_events": [
        {"reason": "queue_overflow", "category": "error", "quantity": 2}]})) + b"\n",
    "python-event-attachment": js({"event_id": EVENT_ID}) + b"\n" + item("event", PYTHON_EVENT) + b"\n"
                               + item("attachment", b"line one\nline two\n", filename="log.txt") + b"\n",
    # @sentry/browser: no length (except attachments), no trailing newline, sdk in the header.
    "browser-event": js({"event_id": EVENT_ID, "sent_at": "2024-05-01T12:00:01.000Z",
                         "sdk": {"name": "sentry.javascript.browser", "version": "11.12.0"}}) + b"\n"
                     + item("event", BROWSER_EVENT, length=False),
    "browser-session-report": js({"sent_at": "2024-05-01T12:00:01.000Z"}) + b"\n"
                              + item("session", js({"sid": EVENT_ID, "init": True, "status": "ok"}), length=False)
                              + b"\n" + item("client_report", b'{"discarded_events":[]}', length=False),
    "browser-log-container": js({"sent_at": "2024-05-01T12:00:01.000Z"}) + b"\n"
                             + item("log", js({"items": [{"body": "hi", "level": "info"}]}), length=False,
                                    item_count=1, content_type="application/vnd.sentry.items.log+json"),
    "browser-tunnel-dsn": js({"event_id": EVENT_ID, "dsn": f"https://{KEY}@o1.ingest.sentry.io/42"}) + b"\n"
                          + item("event", BROWSER_EVENT, length=False),
    # sentry-ruby 5: dsn in the header, items without length joined by \n, no trailing newline.
    "ruby-event": js({"event_id": EVENT_ID, "dsn": f"http://{KEY}:{SECRET}@localhost:3000/1",
                      "sdk": {"name": "sentry.ruby", "version": "5.10.0"}, "sent_at": "2024-05-01T12:00:01Z"})
                  + b"\n" + item("event", RUBY_EVENT, length=False, content_type="application/json"),
    # sentry-cli 3.8: hyphenated UUID in the header, 32 hex in the payload.
    "cli-event": js({"event_id": DASHED_ID}) + b"\n" + item("event", CLI_EVENT, length=False) + b"\n",
    "security-user-report": js({"event_id": EVENT_ID}) + b"\n"
                            + item("security", js({"csp-report": {"document-uri": "http://x/"}})) + b"\n"
                            + item("user_report", js({"event_id": EVENT_ID, "name": "A", "comments": "broke"})),
    "two-events": b"{}\n" + item("event", b'{"event_id":"' + DASHED_ID.encode() + b'"}') + b"\n"
                  + item("event", b'{"message":"second"}', length=False),
    "unknown-types": b"{}\n" + item("replay_recording", b"\x00\x01binary\xff") + b"\n"
                     + item("statsd", b"a:1|c", length=False) + b"\n" + item("", b"", length=False),
    # Edge cases around the grammar (§4.1) and the relay's choices (blank tail lines are tolerated).
    "header-only": b"{}",
    "header-newline": b"{}\n",
    "blank-tail": b'{"event_id":null}\n' + item("event", b"{}") + b"\n\n \r\n\t",
    "crlf": b"{}\r\n" + item("event", b"{}") + b"\r\n",
    "leading-whitespace": b" \n\t{}\n  " + item("event", b"{}", length=False),
    "no-newline-after-header": b"{}x",
    "header-not-object": b"[]\n" + item("event", b"{}"),
    "bad-event-id": b'{"event_id":"not-a-uuid"}\n' + item("event", b"{}"),
    "event-id-number": b'{"event_id":42}\n',
    "payload-event-id-bad": b"{}\n" + item("event", b'{"event_id":"xyz"}'),
    "payload-not-object": b"{}\n" + item("event", b"[1,2]"),
    "payload-nan": b"{}\n" + item("event", b'{"x":NaN,"y":-Infinity}'),
    "length-too-long": b"{}\n" + b'{"type":"event","length":100}\n{}',
    "length-zero": b"{}\n" + b'{"type":"attachment","length":0}\n\n' + item("event", b"{}"),
    "length-float": b"{}\n" + b'{"type":"event","length":2.0}\n{}',
    "length-negative": b"{}\n" + b'{"type":"event","length":-1}\n{}',
    "length-huge": b"{}\n" + b'{"type":"event","length":18446744073709551615}\n{}',
    "length-string": b"{}\n" + b'{"type":"event","length":"2"}\n{}',
    "length-no-newline-after": b"{}\n" + b'{"type":"event","length":2}\n{}x',
    "missing-type": b"{}\n" + b'{"length":2}\n{}',
    "type-not-string": b"{}\n" + b'{"type":1}\n{}',
    "duplicate-keys": b'{"event_id":"' + EVENT_ID.encode() + b'","event_id":null}\n'
                      + b'{"type":"event","type":"attachment","length":2,"length":3}\n{}\n',
    "event-at-limit": b"{}\n" + item("event", b'{"p":"' + b"a" * 2040 + b'"}'),
    "event-over-limit": b"{}\n" + item("event", b'{"p":"' + b"a" * 2041 + b'"}'),
    "attachment-over-limit": b"{}\n" + item("attachment", b"x" * 513),
    "attachments-over-total": b"{}\n" + item("attachment", b"x" * 512) + b"\n" + item("attachment", b"y" * 512)
                              + b"\n" + item("attachment", b"z"),
    "deep-nesting": b"{}\n" + item("event", b'{"a":' + b"[" * 300 + b"]" * 300 + b"}"),
    "bom-header": b"\xef\xbb\xbf{}\n" + item("event", b"{}"),
    "invalid-utf8": b'{"x":"\xff\xfe"}\n' + item("event", b'{"m":"\xc3\x28"}'),
    "unicode-escapes": b'{"dsn":"\\ud800\\u0000"}\n' + item("event", b'{"m":"\\udc00\\u00e9"}'),
    "nul-in-payload": b"{}\n" + item("attachment", b"a\x00b") + b"\n" + item("event", b"{}\x00junk", length=False),
}

# --- auth (§2): X-Sentry-Auth, Authorization, query string, envelope dsn; one per line ---------

AUTH = {
    "python": (f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry.python/1.9.10", "", "",
               f"https://{KEY}@o1.ingest.sentry.io/42"),
    "raven-python": (f"Sentry sentry_timestamp=1714564800.123, sentry_client=raven-python/6.10.0, "
                     f"sentry_version=6, sentry_key={KEY}, sentry_secret={SECRET}", "", "", ""),
    "raven-node": (f"Sentry sentry_version=5, sentry_timestamp=1714564800123, sentry_client=raven-node/2.6.4, "
                   f"sentry_key={KEY}, sentry_secret={SECRET}", "", "", f"https://{KEY}:{SECRET}@sentry.io/42"),
    "sentry-raven": (f"Sentry sentry_version=5, sentry_client=raven-ruby/3.1.2, sentry_timestamp=1714564800, "
                     f"sentry_key={KEY}", "", "", ""),
    "sentry-ruby": (f"Sentry sentry_version=7, sentry_client=sentry-ruby/5.10.0, sentry_timestamp=1714564800, "
                    f"sentry_key={KEY}, sentry_secret={SECRET}", "", "", f"http://{KEY}:{SECRET}@localhost:3000/1"),
    "sentry-cli": (f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry-cli/x86_64", "", "", ""),
    "raven-js-query": ("", "", f"sentry_version=7&sentry_client=raven-js%2F3.27.2&sentry_key={KEY}",
                       f"https://{KEY}@host/sentry/3"),
    "browser-query": ("", "", f"sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.browser%2F11.12.0",
                      ""),
    "node-query": ("", "", f"sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.node%2F11.12.0", ""),
    "authorization": ("", f"sentry sentry_key={KEY},sentry_version=7,sentry_client=custom/1.0", "", ""),
    "key-flags": (f"Sentry sentry_key={KEY}.no-cache, sentry_version=2.0", "", "", f"https://{KEY}.x@h/1/"),
    "version-too-new": (f"Sentry sentry_key={KEY}, sentry_version=8", "", "", ""),
    "version-bad": (f"Sentry sentry_key={KEY}, sentry_version=seven", "", f"sentry_key={KEY}&sentry_version=", ""),
    "version-overflow": (f"Sentry sentry_key={KEY}, sentry_version=99999999999999999999", "", "", ""),
    "missing-key": ("Sentry sentry_version=7, sentry_client=x", "", "sentry_version=7", "https://@h/1"),
    "short-key": (f"Sentry sentry_key={KEY[:31]}", "", f"sentry_key={KEY}0", f"https://{KEY[:31]}@h/1"),
    "multiple": (f"Sentry sentry_key={KEY}", f"Sentry sentry_key={KEY}", f"sentry_key={KEY}", ""),
    "not-sentry": ("Bearer abc", "Basic dXNlcjpwYXNz", "foo=bar&sentry_version=7", "not a dsn"),
    "malformed-fields": (f"Sentry  , sentry_key = {KEY} ,,novalue, =x, sentry_secret=a=b", "", "", ""),
    "percent-encoded": ("", "", "sentry_key=%65" + KEY[1:] + "&sentry_client=a%2Fb+c%zz%4&sentry_version=%37", ""),
    "dsn-edge": ("", "", "", f"https://{KEY}@h:9000/a/b/0"),
    "dsn-overflow": ("", "", "", f"https://{KEY}@h/99999999999999999999"),
    "dsn-negative": ("", "", "", f"https://{KEY}@h/-5"),
    "dsn-slash-before-at": ("", "", "", f"https://h/{KEY}@x/1"),
    "dsn-no-path": ("", "", "", f"https://{KEY}@host"),
    "empty": ("", "", "", ""),
}

# --- decompress: byte 0 picks the encoding, byte 1 the cap (see decompress_fuzzer.cpp) --------

ENC = {"": 0, "identity": 1, "utf-8": 2, "gzip": 3, "x-gzip": 4, "GZip": 5, "deflate": 6, "br": 7, "zstd": 8,
       "compress": 9}
CAP = {1 << 20: 0, 0: 1, 1: 2, 100: 3, 65535: 4, 65536: 5, 65537: 6, 200000: 7}


def dec(encoding: str, cap: int, body: bytes) -> bytes:
    return bytes([ENC[encoding], CAP[cap]]) + body


SMALL = b'{"message":"hello world","level":"error"}'
ZEROS_64K = b"\0" * 65536
GZ_EVENT = gz(PYTHON_EVENT)
DECOMPRESS = {
    "identity": dec("", 1 << 20, SMALL),
    "identity-over-cap": dec("identity", 100, PYTHON_EVENT),
    "utf8": dec("utf-8", 1 << 20, SMALL),
    "gzip": dec("gzip", 1 << 20, GZ_EVENT),
    "x-gzip": dec("x-gzip", 1 << 20, gz(SMALL)),
    "gzip-case": dec("GZip", 1 << 20, gz(b"")),
    "gzip-truncated": dec("gzip", 1 << 20, GZ_EVENT[: len(GZ_EVENT) // 2]),
    "gzip-bad-crc": dec("gzip", 1 << 20, GZ_EVENT[:-8] + b"\0\0\0\0" + GZ_EVENT[-4:]),
    "gzip-trailing": dec("gzip", 1 << 20, gz(SMALL) + gz(SMALL)),
    "gzip-64k-at-cap": dec("gzip", 65536, gz(ZEROS_64K)),
    "gzip-64k-over-cap": dec("gzip", 65535, gz(ZEROS_64K)),
    "gzip-bomb": dec("gzip", 1 << 20, gz(b"\0" * ((1 << 20) + 1))),
    "deflate-zlib": dec("deflate", 1 << 20, zlib.compress(RAVEN_PYTHON_EVENT)),
    "deflate-raw": dec("deflate", 1 << 20, raw_deflate(SMALL)),
    "deflate-bomb": dec("deflate", 200000, zlib.compress(b"a" * 300000, 9)),
    "deflate-garbage": dec("deflate", 1 << 20, b"\x78\x9c not deflate at all"),
    "br": dec("br", 1 << 20, brotli(PYTHON_EVENT)),
    "br-empty": dec("br", 1 << 20, brotli(b"")),
    "br-truncated": dec("br", 1 << 20, brotli(PYTHON_EVENT)[:20]),
    "br-64k-over-cap": dec("br", 65535, brotli(ZEROS_64K)),
    "zstd": dec("zstd", 1 << 20, zstd(PYTHON_EVENT)),
    "zstd-two-frames": dec("zstd", 1 << 20, zstd(SMALL) + zstd(b"{}")),
    "zstd-truncated": dec("zstd", 1 << 20, zstd(PYTHON_EVENT)[:-3]),
    "zstd-skippable": dec("zstd", 1 << 20, b"\x50\x2a\x4d\x18\x04\x00\x00\x00abcd" + zstd(SMALL)),
    "zstd-64k-at-cap": dec("zstd", 65536, zstd(ZEROS_64K)),
    "zstd-bomb": dec("zstd", 200000, zstd(b"\0" * 300000, 19)),
    "zstd-empty": dec("zstd", 1 << 20, b""),
    "unsupported": dec("compress", 1 << 20, SMALL),
    # Legacy store bodies (§3.2) arrive without Content-Encoding.
    "legacy-b64-zlib": dec("", 1 << 20, base64.b64encode(zlib.compress(RAVEN_NODE_EVENT))),
    "legacy-b64-json": dec("", 1 << 20, base64.b64encode(SMALL)),
    "legacy-b64-gzip": dec("", 1 << 20, base64.b64encode(gz(SMALL))),
    "legacy-b64-lines": dec("", 1 << 20, base64.encodebytes(zlib.compress(RUBY_EVENT))),
    "legacy-b64-urlsafe": dec("", 1 << 20, base64.urlsafe_b64encode(zlib.compress(b"{\"a\":\"\xff\xfe?>\"}"))),
    "legacy-b64-over-cap": dec("", 100, base64.b64encode(b'{"m":"' + b"x" * 100 + b'"}')[:100]),
    "legacy-b64-dangling": dec("", 1 << 20, b"eyJhIjoxfQ==e"),
    "legacy-b64-one-char": dec("", 1 << 20, b"e"),
    "legacy-whitespace": dec("", 1 << 20, b" \r\n\t"),
}

# --- store bodies (§3.2, §6, §8) ----------------------------------------------------------------

STORE = {
    "python": PYTHON_EVENT,
    "raven-python-nan": RAVEN_PYTHON_EVENT,
    "raven-node": RAVEN_NODE_EVENT,
    "raven-js": RAVEN_JS_EVENT,
    "raven-node-b64-zlib": base64.b64encode(zlib.compress(RAVEN_NODE_EVENT)),
    "raven-python-b64": base64.b64encode(RAVEN_PYTHON_EVENT),
    "sentry-raven-b64-lines": base64.encodebytes(zlib.compress(RUBY_EVENT)),
    "b64-gzip": base64.b64encode(gz(SMALL)),
    "dashed-id": b'{"event_id":"' + DASHED_ID.upper().encode() + b'"}',
    "no-id": b'{"message":"x"}',
    "null-id": b'{"event_id":null}',
    "number-id": b'{"event_id":1}',
    "short-id": b'{"event_id":"' + EVENT_ID[:31].encode() + b'"}',
    "misplaced-dash-id": b'{"event_id":"9ec79c33e-c9942ab8353589fcb2e04dc00"}',
    "empty": b"",
    "whitespace": b" \n\t\r",
    "array": b"[]",
    "null": b"null",
    "empty-object": b"{}",
    "trailing-garbage": b"{}x",
    "two-objects": b"{} {}",
    "nul-inside": b"{}\x00{",
    "deep-nesting": b'{"a":' + b"[" * 300 + b"]" * 300 + b"}",
    "surrogates": b'{"m":"\\ud800\\udc00\\ud800"}',
    "invalid-utf8": b'{"m":"\xc3\x28\xff"}',
    "numbers": b'{"a":1e400,"b":-0,"c":18446744073709551616,"d":1.7976931348623157e308}',
}


# --- crashes: regression inputs for bugs fuzzing turned up (docs/fuzzing.md); kept after the fix ---

# rapidjson's Reader recurses once per nesting level and the relay passes it untrusted bodies of up
# to 1 MiB (store, event items) or 100 MiB (envelopes): about 150k levels overflow an 8 MiB stack.
# The store body is base64(zlib(...)), as raven-node sends it, so that it takes 1.3 KB here and is
# inflated by DecodeLegacyStoreBody, as in the relay. The envelope target does not decode, so its
# input is the nesting itself, twice the depth that crashes a RelWithDebInfo build.
CRASHES = {
    ("store_body", "stack-overflow-deep-nesting-b64-zlib"):
        base64.b64encode(zlib.compress(b'{"a":' + b"[" * 1_000_000, 9)),
    ("envelope", "stack-overflow-deep-nesting-header"): b"[" * 300_000,
}


def main() -> None:
    for name, body in ENVELOPES.items():
        write("envelope", name, body)
    for name, fields in AUTH.items():
        write("auth", name, "\n".join(fields).encode())
    for name, body in DECOMPRESS.items():
        write("decompress", name, body)
    for name, body in STORE.items():
        write("store_body", name, body)
    for (target, name), body in CRASHES.items():
        (CORPUS / target / f"crash-{name}").write_bytes(body)


if __name__ == "__main__":
    main()
