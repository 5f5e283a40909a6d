"""A real Rookery stack for integration tests: its own database, dev broker and services.

Every service is the real binary, talking the real protocols: PostgreSQL over TCP, Kafka over
the dev broker's sockets, HTTP. Ports are picked free at start, so a running `scripts/dev.sh up`
is never disturbed. Stopping the stack sends SIGTERM and checks that every service exits 0.

With ROOKERY_SYSTEM_NETNS=1 (root and `ip netns` needed) every process runs in a network namespace
of its own on a private bridge, as separate hosts would: the dev broker, PostgreSQL (a throw-away
instance of the test's), the relay, the web app, cron and each worker. See PrivateNetwork.
"""

import atexit
import contextlib
import gzip
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
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


NETNS = os.environ.get("ROOKERY_SYSTEM_NETNS") == "1"


def netns_unavailable():
    """Why ROOKERY_SYSTEM_NETNS=1 cannot work here, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "iptables"):
        if not shutil.which(tool):
            return f"{tool} is missing (Debian packages iproute2 and iptables)"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "`ip netns` does not work here"
    return None


def _run(argv):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")
    return result.stdout


class PrivateNetwork:
    """A private network of hosts on one machine: a Linux bridge with a /24 of 10.231.0.0/16, and
    one network namespace per host joined to it by a veth pair. The test process stays in the
    machine's namespace, on the bridge's .1 address, like an operator's machine on the same LAN.

    The dev broker is librdkafka's mock cluster, which binds and advertises 127.0.0.1 (hard-coded
    in librdkafka 2.0); clients are given the broker host's address to bootstrap from, but the
    metadata they get back says 127.0.0.1:<port>. So, as with a broker behind NAT, each client host
    maps 127.0.0.1:<broker port> to the broker host (DNAT, then SNAT to its own address), and the
    broker host maps what reaches its address to its loopback (route_localnet). These rules and
    sysctls live in the namespaces and disappear with them: the machine's own are never touched.

    Names carry the creating process's id (namespaces `rookery-<pid>-<token>-<host>`, links
    `rk<token>b` and `rk<token>v<n>`), so one run's leftovers, if it was killed before its
    teardown, are removed by the next one. One network is shared by everything in a process
    (a Stack and the PrivatePostgres it uses) and destroyed when the last user releases it, or at
    exit."""

    _shared = None
    _users = 0
    _lock = threading.Lock()

    @classmethod
    def acquire(cls):
        with cls._lock:
            if cls._shared is None:
                cls._shared = PrivateNetwork()
            cls._users += 1
            return cls._shared

    @classmethod
    def release(cls):
        with cls._lock:
            cls._users -= 1
            if cls._users <= 0 and cls._shared is not None:
                cls._shared.destroy()
                cls._shared = None
                cls._users = 0

    def __init__(self):
        reason = netns_unavailable()
        if reason:
            raise unittest.SkipTest(f"ROOKERY_SYSTEM_NETNS=1: {reason}")
        self.sweep_leftovers()
        self.token = uuid.uuid4().hex[:6]
        self.prefix = f"rookery-{os.getpid()}-{self.token}-"
        self.bridge = f"rk{self.token}b"
        self.hosts = {}  # host name -> (namespace, address)
        self.veths = 0
        self.broker = None  # (address, ports) once the broker host is known
        self.broker_host = None
        used = _run(["ip", "-4", "route"])
        free = [n for n in range(1, 255) if f"10.231.{n}." not in used]
        if not free:
            raise RuntimeError("no free /24 left in 10.231.0.0/16")
        self.subnet = ipaddress.ip_network(f"10.231.{free[os.getpid() % len(free)]}.0/24")
        self.addresses = iter(self.subnet.hosts())
        self.gateway = str(next(self.addresses))
        atexit.register(self.destroy)
        try:
            # A fixed address: a bridge otherwise takes the lowest of its ports' addresses, so a host
            # added later (a new worker) could change it under the others' neighbour caches, and the
            # answers to the test process would be lost until those entries expire (~30 s).
            mac = "02:72:6b:" + ":".join(self.token[i:i + 2] for i in (0, 2, 4))
            _run(["ip", "link", "add", self.bridge, "address", mac, "type", "bridge"])
            _run(["ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge])
            _run(["ip", "link", "set", self.bridge, "up"])
        except BaseException:
            self.destroy()
            raise

    @staticmethod
    def sweep_leftovers():
        """Removes the namespaces and bridges of earlier runs whose process is gone."""
        listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            match = re.match(r"(rookery-(\d+)-([0-9a-f]{6})-\S+)", line)
            if match and not os.path.exists(f"/proc/{match.group(2)}"):
                subprocess.run(["ip", "netns", "delete", match.group(1)], capture_output=True)
                subprocess.run(["ip", "link", "delete", f"rk{match.group(3)}b"], capture_output=True)

    def add_host(self, name):
        """A namespace of its own for `name`, on the bridge; returns its address."""
        if name in self.hosts:
            return self.hosts[name][1]
        namespace = self.prefix + name
        address = str(next(self.addresses))
        self.veths += 1
        veth = f"rk{self.token}v{self.veths}"
        self.hosts[name] = (namespace, address)
        _run(["ip", "netns", "add", namespace])
        _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        _run(["ip", "link", "set", veth, "master", self.bridge, "up"])
        for argv in (["link", "set", "lo", "up"], ["addr", "add", f"{address}/24", "dev", "eth0"],
                     ["link", "set", "eth0", "up"], ["route", "add", "default", "via", self.gateway]):
            _run(["ip", "-n", namespace, *argv])
        if self.broker is not None:
            self._route_broker_to(name)
        return address

    def address(self, name):
        return self.hosts[name][1]

    def exec_prefix(self, name):
        """The argv prefix that runs a command on host `name`."""
        self.add_host(name)
        return ["ip", "netns", "exec", self.hosts[name][0]]

    def in_host(self, name, argv):
        return _run(self.exec_prefix(name) + argv)

    def serve_broker(self, name, ports):
        """Host `name` runs the dev broker on 127.0.0.1:<ports>: make it reachable from every
        host, the ones added later included."""
        self.broker = (self.address(name), [int(p) for p in ports])
        self.in_host(name, ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1",
                            "net.ipv4.conf.eth0.route_localnet=1"])
        self.in_host(name, ["iptables", "-t", "nat", "-A", "PREROUTING", "-i", "eth0", "-p", "tcp", "-d",
                            self.broker[0], "-j", "DNAT", "--to-destination", "127.0.0.1"])
        self.broker_host = name
        for host in self.hosts:
            if host != name:
                self._route_broker_to(host)

    def _route_broker_to(self, host):
        if host == self.broker_host:
            return
        address, ports = self.broker
        self.in_host(host, ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"])
        for port in ports:
            self.in_host(host, ["iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport",
                                str(port), "-j", "DNAT", "--to-destination", address])
        self.in_host(host, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-p", "tcp", "-d", address, "-j", "SNAT",
                            "--to-source", self.address(host)])

    def destroy(self):
        """Removes every namespace (their veth pairs go with them) and the bridge. Idempotent."""
        for namespace, _ in self.hosts.values():
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
        self.hosts = {}
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)


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
    _count = 0

    def __init__(self, relay_env=None, admin_url=None, cron_env=None, web_env=None, bootstrap=True):
        Stack._count += 1
        self.name = f"s{Stack._count}"
        self.network = PrivateNetwork.acquire() if NETNS else None
        # On a private network PostgreSQL is a host of its own too: the machine's cluster listens on
        # the loopback only, and its configuration is not the tests' to change.
        self.own_postgres = PrivatePostgres() if NETNS and admin_url is None else None
        self.admin_url = admin_url or (self.own_postgres.admin_url if self.own_postgres else ADMIN_URL)
        if not self.admin_url:
            raise RuntimeError("ROOKERY_TEST_DATABASE_ADMIN_URL is not set: run the suite through scripts/test.sh")
        self.dir = tempfile.mkdtemp(prefix="rookery-it-")
        if self.network:
            for service in ("devbroker", "relay", "web", "cron", "worker"):
                self.network.add_host(self.hostname(service))
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

    def hostname(self, service):
        """The private network's host that runs `service` (each worker has its own)."""
        return f"{self.name}-{service}"

    def host(self, service):
        """The address the tests reach `service` at: its host's on a private network."""
        return self.network.address(self.hostname(service)) if self.network else "127.0.0.1"

    def _start(self):
        self._psql(f"CREATE DATABASE {self.db_name}")
        self.bootstrap_file = os.path.join(self.dir, "broker.addr")
        self._spawn("devbroker", [binary("devbroker"), "--bootstrap-file", self.bootstrap_file], dict(os.environ))
        wait_for(lambda: os.path.exists(self.bootstrap_file) and read_text(self.bootstrap_file).strip(), 10,
                 message="dev broker bootstrap file")
        # What the broker's own host (and the Kafka tool, run there) uses; the services bootstrap from
        # the broker host's address on a private network.
        self.local_brokers = read_text(self.bootstrap_file).strip()
        self.brokers = self.local_brokers
        if self.network:
            ports = [address.rsplit(":", 1)[1] for address in self.local_brokers.split(",")]
            self.network.serve_broker(self.hostname("devbroker"), ports)
            self.brokers = ",".join(f"{self.host('devbroker')}:{port}" for port in ports)
        self.run_admin("migrate")
        self.credentials = self.bootstrap("admin@example.com", "acme", "backend") if self.with_bootstrap else {}
        self._start_listening("relay", "relay_port", self.relay_env, "relay listening on")
        self.start_service("worker")
        self._start_listening("web", "web_port", self.web_env, "web listening on")
        self._start_listening("cron", "cron_port", self.cron_env, "cron started on")
        wait_for(lambda: self.relay_get("/readyz").status == 200, 20, message="relay /readyz")
        wait_for(lambda: self.web_get("/readyz").status == 200, 20, message="web /readyz")
        return self

    def env(self, extra=None):
        env = dict(os.environ)
        env.update({
            "ROOKERY_DATABASE_URL": self.database_url,
            "ROOKERY_KAFKA_BROKERS": self.brokers,
            "ROOKERY_RELAY_PORT": str(self.relay_port),
            "ROOKERY_RELAY_BIND": self.bind,
            "ROOKERY_WEB_PORT": str(self.web_port),
            "ROOKERY_WEB_BIND": self.bind,
            "ROOKERY_CRON_PORT": str(self.cron_port),
            # Any free port: a test may run several workers; worker_port() reads it from the log.
            "ROOKERY_WORKER_PORT": "0",
            "ROOKERY_WORKER_BIND": self.bind,
            "ROOKERY_CRON_BIND": self.bind,
            "ROOKERY_SECRET_KEY": "integration-test-secret",
            # Nothing listens here unless a test starts an SMTP server: alert mail fails
            # transiently and is retried, harmlessly.
            "ROOKERY_SMTP_URL": "smtp://127.0.0.1:1",
            "ROOKERY_SMTP_STARTTLS": "none",
            "ROOKERY_SMTP_FROM": "alerts@rookery.test",
            "ROOKERY_RELAY_PUBLIC_URL": f"http://{self.host('relay')}:{self.relay_port}",
            "ROOKERY_WEB_PUBLIC_URL": f"http://{self.host('web')}:{self.web_port}",
            "ROOKERY_WORKER_BATCH_WAIT_MS": "50",
            # The mock broker assigns partitions only after session.timeout.ms - 1 s.
            "ROOKERY_KAFKA_PARAM_SESSION_TIMEOUT_MS": "6000",
        })
        env.update(extra or {})
        return env

    @property
    def bind(self):
        # A host of its own has only its address and its loopback: all of them, as on a server.
        return "0.0.0.0" if self.network else "127.0.0.1"

    def start_service(self, name, extra_env=None):
        self._spawn(name, [binary(name)], self.env(extra_env))

    def _start_listening(self, name, port_attribute, extra_env, listening):
        """Starts a service on the port `port_attribute` holds. free_port() only saw that port free
        a moment earlier: when a test running in parallel binds it first, the service exits at its
        own bind, and it is started again on another port (once a cron lost this race silently and
        was found dead only at the end of the test)."""
        for _ in range(5):
            self.start_service(name, extra_env)
            wait_for(lambda: self.processes[name].poll() is not None or listening in self.log_text(name), 20,
                     message=f"{name} to listen")
            if self.processes[name].poll() is None:
                return
            self.processes.pop(name)
            setattr(self, port_attribute, free_port())
        raise AssertionError(f"{name} could not bind a port: {self.log_text(name)[-2000:]}")

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
            try:
                if self.own_postgres:
                    self.own_postgres.destroy()
                    self.own_postgres = None
            finally:
                if self.network:
                    # Services a test started itself and left running go with their namespaces.
                    for process in self.processes.values():
                        if process.poll() is None:
                            process.kill()
                            process.wait()
                    self.network = None
                    PrivateNetwork.release()
        return codes

    def _spawn(self, name, argv, env=None):
        log_path = os.path.join(self.dir, name + ".log")
        self.logs[name] = log_path
        if self.network:
            argv = self.network.exec_prefix(self.hostname(name)) + argv
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

    @contextlib.contextmanager
    def open_transaction(self, sql, message="the holding transaction"):
        """Runs `sql` in a transaction of a session of its own and keeps it open, with its locks,
        for the block, which gets a function to run more statements in it; then commits it. The
        session is named, so that only its own finished statement counts as ready (web and cron
        sessions can be idle in a transaction too, which once let a test go ahead of it)."""
        holder = subprocess.Popen(["psql", self.database_url, "-v", "ON_ERROR_STOP=1", "-q"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, env=dict(os.environ, PGAPPNAME="rookery_test_holder"))

        def run(statements):
            holder.stdin.write(statements + "\n")
            holder.stdin.flush()
        run("BEGIN; " + sql)
        try:
            wait_for(lambda: self.sql("SELECT 1 FROM pg_stat_activity WHERE state = 'idle in transaction' "
                                      "AND application_name = 'rookery_test_holder'"), 10, message=message)
            yield run
        finally:
            holder.stdin.write("COMMIT;\n")
            holder.stdin.close()
            code = holder.wait(timeout=30)
            if code != 0:
                raise AssertionError(f"the holding session exited {code}: {holder.stderr.read()}")

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
        out = subprocess.run(self.kafka_prefix() + [kafka_tool(), "count", "--brokers", self.local_brokers, "--topic",
                                                    self.topic],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        return int(out.strip())

    def kafka_ends(self):
        """Each partition's high watermark: {partition: offset}."""
        out = subprocess.run(self.kafka_prefix() + [kafka_tool(), "ends", "--brokers", self.local_brokers, "--topic",
                                                    self.topic],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        return {int(p): int(o) for p, o in (line.split() for line in out.splitlines() if line.strip())}

    def kafka_produce(self, key, value, header=None):
        """Produces one raw message (text, or bytes) to the topic, bypassing the relay (poison messages)."""
        value_file = os.path.join(self.dir, "produce.value")
        with open(value_file, "wb") as file:
            file.write(value if isinstance(value, bytes) else value.encode())
        argv = self.kafka_prefix() + [kafka_tool(), "produce", "--brokers", self.local_brokers, "--topic", self.topic,
                                      "--key", key,
                "--value-file", value_file]
        if header:
            argv += ["--header", header]
        subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)

    def kafka_prefix(self):
        """The Kafka tool runs on the broker's host, where its advertised 127.0.0.1 is itself."""
        return self.network.exec_prefix(self.hostname("devbroker")) if self.network else []

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
        out = subprocess.run(self.kafka_prefix() + [kafka_tool(), "replay", "--brokers", self.local_brokers, "--topic",
                                                    self.topic],
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

    def worker_metrics(self, name="worker"):
        return http_request(f"http://{self.host(name)}:{self.worker_port(name)}/metrics")

    def cron_get(self, path, port=None):
        return http_request(f"http://{self.host('cron')}:{port or self.cron_port}{path}")

    def relay_get(self, path):
        return http_request(f"http://{self.host('relay')}:{self.relay_port}{path}")

    def relay_post(self, path, body, headers=None, timeout=30):
        return http_request(f"http://{self.host('relay')}:{self.relay_port}{path}", data=body, headers=headers or {},
                            method="POST", timeout=timeout)

    def web_get(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return http_request(f"http://{self.host('web')}:{self.web_port}{path}", headers=headers)

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
    _count = 0

    def __init__(self):
        PrivatePostgres._count += 1
        # With ROOKERY_SYSTEM_NETNS=1 it runs on a host of its own on the private network.
        self.network = PrivateNetwork.acquire() if NETNS else None
        self.hostname = f"pg{PrivatePostgres._count}"
        self.address = self.network.add_host(self.hostname) if self.network else "127.0.0.1"
        self.dir = tempfile.mkdtemp(prefix="rookery-pg-")
        self.port = free_port()
        os.chmod(self.dir, 0o777)
        self._as_postgres([f"{self.BIN}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres"])
        if self.network:
            with open(f"{self.dir}/data/pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.write(f"host all all {self.network.subnet} trust\n")
        self.start()

    @property
    def admin_url(self):
        return f"postgresql://postgres@{self.address}:{self.port}/postgres"

    def _as_postgres(self, argv):
        command = " ".join(f"'{a}'" for a in argv)
        runner = ["su", "postgres", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        if self.network:
            runner = self.network.exec_prefix(self.hostname) + runner
        subprocess.run(runner, check=True, capture_output=True, timeout=120)

    def start(self):
        self._as_postgres([f"{self.BIN}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-l", f"{self.dir}/log",
                           "-o", f"-p {self.port} -k {self.dir} -c listen_addresses={self.address}", "start"])

    def stop(self):
        self._as_postgres([f"{self.BIN}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-m", "fast", "stop"])

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.network:
            self.network = None
            PrivateNetwork.release()


class StackTestCase(unittest.TestCase):
    """One stack for a whole test class: started once, stopped at the end (every service must exit
    0 on SIGTERM), and its logs printed when a test fails. Subclasses may set RELAY_ENV."""

    RELAY_ENV = None
    CRON_ENV = None

    @classmethod
    def make_stack(cls):
        """The stack the class runs on; override for other settings (it is started for you)."""
        return Stack(relay_env=cls.RELAY_ENV, cron_env=cls.CRON_ENV)

    @classmethod
    def setUpClass(cls):
        cls.stack = cls.make_stack().start()
        cls.org = cls.stack.credentials.get("ROOKERY_ORG")
        cls.project = cls.stack.credentials.get("ROOKERY_PROJECT")

    @classmethod
    def tearDownClass(cls):
        codes = cls.stack.stop()
        if not all(code == 0 for code in codes.values()):
            cls.stack.dump_logs()  # why a service did not stop cleanly
        assert all(code == 0 for code in codes.values()), f"unclean exits: {codes}"

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result is not None else 0
        outcome = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > failures:
            self.stack.dump_logs()
        return outcome


def gzip_bytes(data):
    return gzip.compress(data)
