"""Deployment contracts: compose.yaml only sets variables the services read (and the docs list),
and a database built at the first migration upgrades to the newest with its data intact."""

import glob
import os
import re
import subprocess
import unittest
import urllib.parse
import uuid

import yaml

from rookery_stack import ADMIN_URL, binary

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def read(path):
    with open(path) as f:
        return f.read()


def source_variables():
    """Every ROOKERY_* name the services' C++ sources read (their tests excluded)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "libs", "**", "*.cpp"), recursive=True) + \
            glob.glob(os.path.join(ROOT, "services", "**", "*.cpp"), recursive=True):
        if os.sep + "tests" + os.sep not in path:
            names.update(re.findall(r'"(ROOKERY_[A-Z0-9_]+)"', read(path)))
    return names


class ComposeVariablesTest(unittest.TestCase):
    def test_compose_sets_only_variables_the_services_read(self):
        compose = yaml.safe_load(read(os.path.join(ROOT, "compose.yaml")))
        variables_read = source_variables()
        self.assertIn("ROOKERY_DATABASE_URL", variables_read)
        for name, service in compose["services"].items():
            environment = service.get("environment") or {}
            for variable in environment:
                if variable.startswith("ROOKERY_"):
                    with self.subTest(service=name, variable=variable):
                        self.assertIn(variable, variables_read, f"{name} sets {variable}, which no service reads")

    def test_every_variable_read_is_documented(self):
        documented = set(re.findall(r"`(ROOKERY_[A-Z0-9_]+)`", read(os.path.join(ROOT, "docs", "configuration.md"))))
        for variable in sorted(source_variables()):
            # ROOKERY_KAFKA_PARAM_<NAME> is documented as a pattern.
            if variable == "ROOKERY_KAFKA_PARAM_":
                continue
            with self.subTest(variable=variable):
                self.assertIn(variable, documented, f"{variable} is read but not in docs/configuration.md")


class UpgradeTest(unittest.TestCase):
    def setUp(self):
        if not ADMIN_URL:
            raise RuntimeError("ROOKERY_TEST_DATABASE_ADMIN_URL is not set: run the suite through scripts/test.sh")
        self.db_name = "rookery_upgrade_" + uuid.uuid4().hex[:10]
        parts = urllib.parse.urlsplit(ADMIN_URL)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.db_name))
        self.psql(ADMIN_URL, f"CREATE DATABASE {self.db_name}")

    def tearDown(self):
        self.psql(ADMIN_URL, f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")

    def psql(self, url, sql):
        return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtF", "\t", "-c", sql], check=True,
                              capture_output=True, text=True, timeout=60).stdout.strip()

    def admin(self, *args):
        env = dict(os.environ, ROOKERY_DATABASE_URL=self.url)
        return subprocess.run([binary("admin"), *args], env=env, check=True, capture_output=True, text=True,
                              timeout=60).stdout.strip()

    def test_first_migration_upgrades_to_head_with_data_intact(self):
        self.admin("migrate", "--up-to", "1")
        self.assertEqual(self.admin("version"), "1")
        # Data as a release running schema 1 wrote it.
        self.psql(self.url, """
            INSERT INTO organizations (slug, name) VALUES ('acme', 'Acme');
            INSERT INTO projects (organization_id, slug, name, platform) VALUES (1, 'backend', 'Backend', 'python');
            INSERT INTO project_keys (project_id, public_key, secret_key)
              VALUES (1, 'e12d836b15bb49d7bbf99e64295d995b', 'f12d836b15bb49d7bbf99e64295d995b');
            INSERT INTO issues (project_id, short_id, title, level, type, times_seen, first_seen, last_seen)
              VALUES (1, 1, 'ValueError: old', 'error', 'error', 3, now(), now());
            INSERT INTO group_hashes VALUES (1, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, 'rookery:interim-1');
            INSERT INTO events (project_id, event_id, issue_id, received_at, timestamp, platform, level, title,
                                hashes, data)
              VALUES (1, 'fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0', 1, now(), now(), 'python', 'error',
                      'ValueError: old', '{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}', '{"message":"old"}');
        """)
        self.admin("migrate")
        head = max(int(os.path.basename(p).split("_")[0])
                   for p in glob.glob(os.path.join(ROOT, "libs", "db", "migrations", "*.sql")))
        self.assertEqual(self.admin("version"), str(head))
        self.assertEqual(self.psql(self.url, "SELECT title, times_seen FROM issues"), "ValueError: old\t3")
        self.assertEqual(self.psql(self.url, "SELECT data->>'message' FROM events"), "old")
        self.assertEqual(self.psql(self.url, "SELECT is_active, array_to_string(allowed_origins, ',') FROM project_keys"),
                         "t\t*")
        # Migrating again is a no-op; a database newer than the build is refused.
        self.admin("migrate")
        self.psql(self.url, f"INSERT INTO schema_migrations (version, name) VALUES ({head + 1}, 'from the future')")
        env = dict(os.environ, ROOKERY_DATABASE_URL=self.url)
        refused = subprocess.run([binary("admin"), "migrate"], env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("newer than this build", refused.stderr)


if __name__ == "__main__":
    unittest.main()
