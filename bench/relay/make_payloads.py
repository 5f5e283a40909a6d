#!/usr/bin/env python3
"""Writes the request mix for bench/relay: gzip store bodies as sentry-python sends them and
envelopes as the JS SDKs send them (query-string auth, some gzip), events of 2-8 KB with stack
traces, spread over many DSN keys. Usage: make_payloads.py <out dir> <keys file> <count>"""

import gzip
import json
import os
import random
import sys
import uuid

out_dir, keys_file, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
keys = [line.split() for line in open(keys_file) if line.strip()]  # "<project id> <public key>"
random.seed(7)
os.makedirs(out_dir, exist_ok=True)


def event(target_bytes):
    frames = []
    while len(json.dumps(frames)) < target_bytes - 600:
        n = len(frames)
        frames.append({"filename": f"app/module_{n % 17}.py", "module": f"app.module_{n % 17}",
                       "function": f"handler_{n % 23}", "lineno": 10 + n, "in_app": n % 3 != 0,
                       "context_line": f"    result = compute_{n}(payload, retries={n % 5})",
                       "pre_context": ["    # load", "    payload = load()"], "post_context": ["    return result"]})
    return {"event_id": uuid.uuid4().hex, "platform": "python", "level": "error", "environment": "production",
            "release": "bench@1.0.0", "timestamp": 1700000000.5,
            "exception": {"values": [{"type": random.choice(["ValueError", "KeyError", "TimeoutError"]),
                                      "value": f"failure {random.randint(1, 200)}",
                                      "stacktrace": {"frames": frames}}]},
            "tags": {"region": random.choice(["eu", "us"])}, "user": {"id": str(random.randint(1, 5000))}}


manifest = []
for i in range(count):
    project_id, key = random.choice(keys)
    payload = event(random.randint(2048, 8192))
    if i % 2 == 0:
        body = gzip.compress(json.dumps(payload).encode())
        path = f"/api/{project_id}/store/"
        headers = {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=sentry.python/1.9.10",
                   "Content-Type": "application/json", "Content-Encoding": "gzip"}
    else:
        raw = (json.dumps({"event_id": payload["event_id"], "sent_at": "2023-11-14T22:13:20Z"}) + "\n" +
               json.dumps({"type": "event"}) + "\n" + json.dumps(payload) + "\n").encode()
        path = (f"/api/{project_id}/envelope/?sentry_version=7&sentry_key={key}"
                "&sentry_client=sentry.javascript.node%2F11.12.0")
        headers = {}
        if i % 4 == 1:
            body = gzip.compress(raw)
            headers["Content-Encoding"] = "gzip"
        else:
            body = raw
    name = f"{i:05d}.body"
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(body)
    manifest.append({"path": path, "headers": headers, "body": name})

# One request per line for the Lua script: path, then header name/value pairs, then the body file.
with open(os.path.join(out_dir, "manifest.txt"), "w") as f:
    for entry in manifest:
        fields = [entry["path"]]
        for name, value in entry["headers"].items():
            fields += [name, value]
        fields.append(entry["body"])
        f.write("\t".join(fields) + "\n")
