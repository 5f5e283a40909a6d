"""A real Rookery stack for integration tests: its own database, dev broker and services.

Every service is the real binary, talking the real protocols: PostgreSQL over TCP, Kafka over
the dev broker's sockets, HTTP. Ports are picked free at start, so a running `scripts/dev.sh up`
is never disturbed. Stopping the stack sends SIGTERM and checks that every service exits 0.
"""

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import unittest
import uuid

import zstandard

BUILD_DIR = os.environ.get("ROOKERY_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
ADMIN_URL = os.environ.get("ROOKERY_TEST_DATABASE_ADMIN_URL", "")
PYTHON = "/usr/bin/python3"  # Debian's interpreter: it has python3-sentry-sdk 1.9.10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(name):
    sub = "devbroker" if name == "devbroker" else name
    path = os.path.join(BUILD_DIR, "services", sub, "rookery-" + name)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: build first (scripts/test.sh does)")
    return path


def kafka_tool():
    return os.path.join(BUILD_DIR, "tests", "tools", "rookery-kafka-tool")


def read_text(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def wait_for(predicate, timeout, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


class HttpResult:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def http_request(url, data=None, headers=None, method=None, timeout=10):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResult(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, dict(error.headers), error.read())
    except (urllib.error.URLError, ConnectionError) as error:
        return HttpResult(0, {}, str(error).encode())  # not listening (yet), or the connection dropped


class Stack:
    def __init__(self, relay_env=None, admin_url=None, cron_env=None, web_env=None, bootstrap=True):
        self.admin_url = admin_url or ADMIN_URL
        if not self.admin_url:
            raise RuntimeError("ROOKERY_TEST_DATABASE_ADMIN_URL is not set: run the suite through scripts/test.sh")
        self.dir = tempfile.mkdtemp(prefix="rookery-it-")
        self.db_name = "rookery_it_" + uuid.uuid4().hex[:12]
        parts = urllib.parse.urlsplit(self.admin_url)
        self.database_url = urllib.parse.urlunsplit(parts._replace(path="/" + self.db_name))
        self.relay_port = free_port()
        self.web_port = free_port()
        self.cron_port = free_port()
        self.relay_env = relay_env or {}
        self.web_env = web_env or {}
        self.with_bootstrap = bootstrap  # False: an empty installation, as first-run setup finds it
        self.cron_env = {"ROOKERY_CRON_HEARTBEAT_SECONDS": "1", **(cron_env or {})}
        self.processes = {}
        self.logs = {}
        self.topic = "rookery.raw-events"

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self):
        try:
            return self._start()
        except BaseException:
            self.dump_logs()
            self.stop()
            raise

    def _start(self):
        self._psql(f"CREATE DATABASE {self.db_name}")
        self.bootstrap_file = os.path.join(self.dir, "broker.addr")
        self._spawn("devbroker", [binary("devbroker"), "--bootstrap-file", self.bootstrap_file], dict(os.environ))
        wait_for(lambda: os.path.exists(self.bootstrap_file) and read_text(self.bootstrap_file).strip(), 10,
                 message="dev broker bootstrap file")
        self.brokers = read_text(self.bootstrap_file).strip()
        self.run_admin("migrate")
        self.credentials = self.bootstrap("admin@example.com", "acme", "backend") if self.with_bootstrap else {}
        self.start_service("relay", self.relay_env)
        self.start_service("worker")
        self.start_service("web", self.web_env)
        self.start_service("cron", self.cron_env)
        wait_for(lambda: self.relay_get("/readyz").status == 200, 20, message="relay /readyz")
        wait_for(lambda: self.web_get("/readyz").status == 200, 20, message="web /readyz")
        return self

    def env(self, extra=None):
        env = dict(os.environ)
        env.update({
            "ROOKERY_DATABASE_URL": self.database_url,
            "ROOKERY_KAFKA_BROKERS": self.brokers,
            "ROOKERY_RELAY_PORT": str(self.relay_port),
            "ROOKERY_RELAY_BIND": "127.0.0.1",
            "ROOKERY_WEB_PORT": str(self.web_port),
            "ROOKERY_WEB_BIND": "127.0.0.1",
            "ROOKERY_CRON_PORT": str(self.cron_port),
            # Any free port: a test may run several workers; worker_port() reads it from the log.
            "ROOKERY_WORKER_PORT": "0",
            "ROOKERY_WORKER_BIND": "127.0.0.1",
            "ROOKERY_CRON_BIND": "127.0.0.1",
            "ROOKERY_SECRET_KEY": "integration-test-secret",
            # Nothing listens here unless a test starts an SMTP server: alert mail fails
            # transiently and is retried, harmlessly.
            "ROOKERY_SMTP_URL": "smtp://127.0.0.1:1",
            "ROOKERY_SMTP_STARTTLS": "none",
            "ROOKERY_SMTP_FROM": "alerts@rookery.test",
            "ROOKERY_RELAY_PUBLIC_URL": f"http://127.0.0.1:{self.relay_port}",
            "ROOKERY_WEB_PUBLIC_URL": f"http://127.0.0.1:{self.web_port}",
            "ROOKERY_WORKER_BATCH_WAIT_MS": "50",
            # The mock broker assigns partitions only after session.timeout.ms - 1 s.
            "ROOKERY_KAFKA_PARAM_SESSION_TIMEOUT_MS": "6000",
        })
        env.update(extra or {})
        return env

    def start_service(self, name, extra_env=None):
        self._spawn(name, [binary(name)], self.env(extra_env))

    def stop_service(self, name, sig=signal.SIGTERM, timeout=20):
        """Signals a service and returns its exit code."""
        process = self.processes.pop(name)
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"{name} did not exit within {timeout}s of {sig!r}")

    def stop(self):
        """Stops everything; returns {service: exit code} for the services (not the broker)."""
        codes = {}
        for name in ["relay", "web", "worker", "cron"]:
            if name in self.processes:
                codes[name] = self.stop_service(name)
        if "devbroker" in self.processes:
            self.stop_service("devbroker")
        try:
            self._drop_database()
        finally:
            if os.environ.get("ROOKERY_KEEP_TEST_LOGS") != "1":
                shutil.rmtree(self.dir, ignore_errors=True)
        return codes

    def _spawn(self, name, argv, env=None):
        log_path = os.path.join(self.dir, name + ".log")
        self.logs[name] = log_path
        with open(log_path, "ab") as log_file:
            self.processes[name] = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT,
                                                    env=env or self.env(), stdin=subprocess.DEVNULL)

    def _drop_database(self):
        # FORCE terminates the sessions left, but gives up if one outlives its five-second wait,
        # which a loaded CI machine can stretch: retry, and name the sessions if it still fails.
        for attempt in range(5):
            try:
                return self._psql(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
            except subprocess.CalledProcessError as error:
                if attempt == 4:
                    sessions = subprocess.run(
                        ["psql", self.admin_url, "-qAtc",
                         f"SELECT pid, usename, application_name, state, query FROM pg_stat_activity "
                         f"WHERE datname = '{self.db_name}'"], capture_output=True, text=True).stdout
                    raise AssertionError(f"could not drop {self.db_name}: {error.stderr.strip()}\n"
                                         f"sessions left:\n{sessions}") from error
                time.sleep(1)

    def _psql(self, sql):
        subprocess.run(["psql", self.admin_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                       capture_output=True, text=True, timeout=60)

    def sql(self, query):
        """Runs a query on the stack's database and returns stdout rows as lists of strings."""
        out = subprocess.run(["psql", self.database_url, "-v", "ON_ERROR_STOP=1", "-qAtF", "\t", "-c", query],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def stored_events(self, where="true"):
        """The stored events' JSON documents (decompressed from `payload`, or `data` for rows from
        before migration 0011) with their issue ids: [(issue_id, event_dict), ...]."""
        rows = self.sql(f"SELECT issue_id, encode(payload, 'hex'), data::text FROM events WHERE {where}")
        decompressor = zstandard.ZstdDecompressor()
        return [(issue_id, json.loads(decompressor.decompress(bytes.fromhex(payload)) if payload else data))
                for issue_id, payload, data in rows]

    def log_text(self, name):
        with open(self.logs[name], "r", errors="replace") as f:
            return f.read()

    def dump_logs(self):
        for name, path in self.logs.items():
            print(f"----- {name} log -----")
            print(open(path, errors="replace").read()[-4000:])

    # -- tools -----------------------------------------------------------------------------------
    def run_admin(self, *args):
        result = subprocess.run([binary("admin"), *args], env=self.env(), capture_output=True, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"rookery-admin {args} failed: {result.stderr}")
        return result.stdout

    def bootstrap(self, email, org, project):
        out = self.run_admin("bootstrap", "--email", email, "--org", org, "--project", project)
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def kafka_count(self):
        out = subprocess.run([kafka_tool(), "count", "--brokers", self.brokers, "--topic", self.topic],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        return int(out.strip())

    def kafka_produce(self, key, value, header=None):
        """Produces one raw message to the topic, bypassing the relay (poison messages)."""
        value_file = os.path.join(self.dir, "produce.value")
        with open(value_file, "w", encoding="utf-8") as file:
            file.write(value)
        argv = [kafka_tool(), "produce", "--brokers", self.brokers, "--topic", self.topic, "--key", key,
                "--value-file", value_file]
        if header:
            argv += ["--header", header]
        subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)

    def worker_port(self, name="worker"):
        ports = re.findall(r"worker /healthz and /metrics on [^:]+:(\d+)", self.log_text(name))
        if not ports:
            raise AssertionError(f"{name} has not said where it serves /metrics")
        return int(ports[-1])

    def metric(self, text, name, labels=""):
        """The value of one series in Prometheus text, or 0 when absent."""
        match = re.search(r"^" + re.escape(name + labels) + r" ([0-9.e+]+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    def kafka_replay(self):
        out = subprocess.run([kafka_tool(), "replay", "--brokers", self.brokers, "--topic", self.topic],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return int(out.strip().split()[-1])

    def worker_totals(self):
        """Sums the worker's per-batch log lines: {messages, inserted, duplicates, dead_lettered}."""
        totals = {"messages": 0, "inserted": 0, "duplicates": 0, "dead_lettered": 0}
        for match in re.finditer(r"batch committed: messages=(\d+) inserted=(\d+) duplicates=(\d+) new_issues=\d+ "
                                 r"dead_lettered=(\d+)", self.log_text("worker")):
            totals["messages"] += int(match.group(1))
            totals["inserted"] += int(match.group(2))
            totals["duplicates"] += int(match.group(3))
            totals["dead_lettered"] += int(match.group(4))
        return totals

    # -- HTTP ------------------------------------------------------------------------------------
    @property
    def dsn(self):
        return self.credentials["ROOKERY_DSN"]

    @property
    def public_key(self):
        return urllib.parse.urlsplit(self.dsn).username

    @property
    def project_id(self):
        return int(self.credentials["ROOKERY_PROJECT_ID"])

    def cron_get(self, path, port=None):
        return http_request(f"http://127.0.0.1:{port or self.cron_port}{path}")

    def relay_get(self, path):
        return http_request(f"http://127.0.0.1:{self.relay_port}{path}")

    def relay_post(self, path, body, headers=None, timeout=30):
        return http_request(f"http://127.0.0.1:{self.relay_port}{path}", data=body, headers=headers or {},
                            method="POST", timeout=timeout)

    def web_get(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return http_request(f"http://127.0.0.1:{self.web_port}{path}", headers=headers)

    def api(self, path, token=None):
        result = self.web_get(path, token or self.credentials["ROOKERY_API_TOKEN"])
        if result.status != 200:
            raise AssertionError(f"GET {path} -> {result.status}: {result.body!r}")
        return result.json()

    def auth_header(self, key=None):
        return {"X-Sentry-Auth": f"Sentry sentry_key={key or self.public_key}, sentry_version=7, "
                                 f"sentry_client=rookery-tests/1.0"}

    def run_python_sdk(self, script, dsn=None):
        """Runs `script` with sentry_sdk initialised on this stack's DSN (or `dsn`); returns its stdout."""
        prelude = ("import sentry_sdk\n"
                   f"sentry_sdk.init({dsn or self.dsn!r})\n")
        result = subprocess.run([PYTHON, "-c", prelude + script + "\nsentry_sdk.flush(10)\n"], capture_output=True,
                                text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"SDK script failed: {result.stderr}")
        return result.stdout


class PrivatePostgres:
    """A throw-away PostgreSQL 15 instance of the test's own, on a free port, so a test may stop and
    restart it without touching the machine's cluster or other tests."""

    BIN = "/usr/lib/postgresql/15/bin"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rookery-pg-")
        self.port = free_port()
        os.chmod(self.dir, 0o777)
        self._as_postgres([f"{self.BIN}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres"])
        self.start()

    @property
    def admin_url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, argv):
        command = " ".join(f"'{a}'" for a in argv)
        runner = ["su", "postgres", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        subprocess.run(runner, check=True, capture_output=True, timeout=120)

    def start(self):
        self._as_postgres([f"{self.BIN}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-l", f"{self.dir}/log",
                           "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])

    def stop(self):
        self._as_postgres([f"{self.BIN}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-m", "fast", "stop"])

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class StackTestCase(unittest.TestCase):
    """One stack for a whole test class: started once, stopped at the end (every service must exit
    0 on SIGTERM), and its logs printed when a test fails. Subclasses may set RELAY_ENV."""

    RELAY_ENV = None
    CRON_ENV = None

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(relay_env=cls.RELAY_ENV, cron_env=cls.CRON_ENV).start()
        cls.org = cls.stack.credentials["ROOKERY_ORG"]
        cls.project = cls.stack.credentials["ROOKERY_PROJECT"]

    @classmethod
    def tearDownClass(cls):
        codes = cls.stack.stop()
        assert all(code == 0 for code in codes.values()), f"unclean exits: {codes}"

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result is not None else 0
        outcome = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > failures:
            self.stack.dump_logs()
        return outcome


def gzip_bytes(data):
    return gzip.compress(data)
