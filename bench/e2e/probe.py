#!/usr/bin/env python3
"""Ingest-to-visible latency for bench/e2e: sends events with known ids to the relay at a fixed
rate (gzip store bodies of 2-8 KB, as sentry-python sends them) and polls the web API,
GET /api/0/projects/{org}/{project}/events/{event_id}/, until each answers 200. The latency of an
event runs from just before its request is sent to the first poll that finds it; polls of all
pending events go round every few milliseconds, so the figure is late by at most one round (the
round's length is printed). Prints one JSON object.
Usage: probe.py <relay url> <project id> <public key> <web url> <org> <project> <api token>
                <events per second> <seconds> [warm-up seconds, not counted]"""

import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "relay"))
from make_payloads import event, request  # noqa: E402

relay_url, project_id, key, web_url, org, project, token = sys.argv[1:8]
rate, seconds = float(sys.argv[8]), float(sys.argv[9])
warmup = float(sys.argv[10]) if len(sys.argv) > 10 else 0.0
GROUP = 1000  # one issue of its own in the probe project


def connection(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


sent = []  # (event id, t0, answered, status)
lock = threading.Lock()
sending_done = threading.Event()


def send():
    conn = connection(relay_url)
    rng = random.Random(11)
    start = time.monotonic()
    n = 0
    while True:
        due = start + n / rate
        if due - start >= seconds:
            break
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        payload = event(rng.randint(2048, 8192), GROUP, rng)
        payload["event_id"] = uuid.uuid4().hex
        path, headers, body = request(payload, project_id, key, envelope=False, compress=True)
        t0 = time.monotonic()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = connection(relay_url)
            status = 0
        with lock:
            sent.append((payload["event_id"], t0, time.monotonic(), status, t0 - start >= warmup))
        n += 1
    sending_done.set()


visible = {}
rounds = []


def poll():
    conn = connection(web_url)
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    deadline = None
    while True:
        with lock:
            pending = [s for s in sent[checked:] if s[3] == 200 and s[0] not in visible]
            checked_all = sending_done.is_set()
        if not pending:
            if checked_all:
                break
            time.sleep(0.002)
            continue
        if checked_all and deadline is None:
            deadline = time.monotonic() + 60
        if deadline and time.monotonic() > deadline:
            break
        begin = time.monotonic()
        for event_id, *_ in pending:
            try:
                conn.request("GET", f"/api/0/projects/{org}/{project}/events/{event_id}/", headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    visible[event_id] = time.monotonic()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = connection(web_url)
        rounds.append(time.monotonic() - begin)
        # Events are sent in order: skip the prefix already seen, so a round costs only the pending.
        with lock:
            while checked < len(sent) and (sent[checked][3] != 200 or sent[checked][0] in visible):
                checked += 1
        time.sleep(0.002)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


sender = threading.Thread(target=send)
poller = threading.Thread(target=poll)
sender.start()
poller.start()
sender.join()
poller.join()

counted = [s for s in sent if s[4]]
accepted = [s for s in counted if s[3] == 200]
latencies = [visible[s[0]] - s[1] for s in accepted if s[0] in visible]
answers = [s[2] - s[1] for s in accepted]
print(json.dumps({
    "sent": len(counted), "accepted": len(accepted), "visible": len(latencies),
    "missing": len(accepted) - len(latencies), "refused": len(counted) - len(accepted),
    "rate": rate, "seconds": seconds, "warmup": warmup,
    "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies, default=None),
    "answer_p50": percentile(answers, 50), "answer_p99": percentile(answers, 99),
    "poll_round_p50": percentile(rounds, 50), "poll_round_p99": percentile(rounds, 99),
}))
