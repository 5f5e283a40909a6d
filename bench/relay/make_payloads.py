#!/usr/bin/env python3
"""Writes the request mix for bench/relay and bench/e2e: gzip store bodies as sentry-python sends
them and envelopes as the JS SDKs send them (query-string auth, some gzip), events of 2-8 KB with
stack traces, spread over many DSN keys.
Usage: make_payloads.py <out dir> <keys file> <count> [groups]
<keys file> has one "<project id> <public key>" per line. With [groups] (bench/e2e: 200), every
event belongs to one of that many groups with a fixed stack each, every group to one project, so
that grouping yields exactly that many issues; the size then varies with breadcrumbs, which
grouping ignores, and the bodies carry no event_id, so that each replay is a new event. Without
it, stacks vary with the size, as before."""

import gzip
import json
import os
import random
import sys
import uuid

TYPES = ["ValueError", "KeyError", "TimeoutError"]


def frame(n, group=None):
    function = f"handler_{n % 23}" if group is None else f"group_{group}_step_{n}"
    return {"filename": f"app/module_{n % 17}.py", "module": f"app.module_{n % 17}",
            "function": function, "lineno": 10 + n, "in_app": n % 3 != 0,
            "context_line": f"    result = compute_{n}(payload, retries={n % 5})",
            "pre_context": ["    # load", "    payload = load()"], "post_context": ["    return result"]}


def event(target_bytes, group=None, rng=random):
    """One event of about target_bytes; with a group, its exception and stack are the group's."""
    base = {"event_id": uuid.uuid4().hex, "platform": "python", "level": "error", "environment": "production",
            "release": "bench@1.0.0", "timestamp": 1700000000.5,
            "tags": {"region": rng.choice(["eu", "us"])}, "user": {"id": str(rng.randint(1, 5000))}}
    if group is None:
        frames = []
        while len(json.dumps(frames)) < target_bytes - 600:
            frames.append(frame(len(frames)))
        base["exception"] = {"values": [{"type": rng.choice(TYPES), "value": f"failure {rng.randint(1, 200)}",
                                         "stacktrace": {"frames": frames}}]}
        return base
    frames = [frame(n, group) for n in range(4 + group % 7)]
    base["exception"] = {"values": [{"type": TYPES[group % 3], "value": f"failure in group {group}",
                                     "stacktrace": {"frames": frames}}]}
    crumbs = []
    while len(json.dumps(base)) + len(json.dumps(crumbs)) < target_bytes - 100:
        n = len(crumbs)
        crumbs.append({"category": "query", "level": "info", "timestamp": 1700000000.0 + n,
                       "message": f"SELECT * FROM table_{n % 13} WHERE id = {rng.randint(1, 10**6)}"})
    base["breadcrumbs"] = {"values": crumbs}
    return base


def request(payload, project_id, key, envelope, compress):
    """(path, headers, body) of one request carrying payload, as an SDK would send it."""
    if not envelope:
        return (f"/api/{project_id}/store/",
                {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=sentry.python/1.9.10",
                 "Content-Type": "application/json", "Content-Encoding": "gzip"},
                gzip.compress(json.dumps(payload).encode()))
    header = {"event_id": payload["event_id"]} if "event_id" in payload else {}
    raw = (json.dumps({**header, "sent_at": "2023-11-14T22:13:20Z"}) + "\n" +
           json.dumps({"type": "event"}) + "\n" + json.dumps(payload) + "\n").encode()
    path = (f"/api/{project_id}/envelope/?sentry_version=7&sentry_key={key}"
            "&sentry_client=sentry.javascript.node%2F11.12.0")
    if compress:
        return path, {"Content-Encoding": "gzip"}, gzip.compress(raw)
    return path, {}, raw


def main():
    out_dir, keys_file, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    groups = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    keys = [line.split() for line in open(keys_file) if line.strip()]  # "<project id> <public key>"
    random.seed(7)
    os.makedirs(out_dir, exist_ok=True)
    projects = sorted({project_id for project_id, _ in keys}, key=int)
    manifest = []
    for i in range(count):
        group = random.randrange(groups) if groups else None
        if group is None:
            project_id, key = random.choice(keys)
        else:
            project_id = projects[group % len(projects)]
            project_id, key = random.choice([k for k in keys if k[0] == project_id])
        payload = event(random.randint(2048, 8192), group)
        if groups:
            # wrk replays the mix many times over: without an id the relay gives each replay one of
            # its own (as Sentry does), so every request is a new event for the worker to store.
            del payload["event_id"]
        path, headers, body = request(payload, project_id, key, envelope=i % 2 == 1, compress=i % 4 == 1)
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


if __name__ == "__main__":
    main()
