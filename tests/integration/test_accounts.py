"""Accounts and tenancy over real HTTP: first-run setup, login and sessions (cookies, CSRF,
throttling), organizations, members, teams, projects, DSN keys (down to the relay) and API tokens,
with the isolation between organizations and the role checks inside one."""

import http.client
import json
import re
import time
import unittest

from rookery_stack import Stack, StackTestCase, wait_for

PASSWORD = "correct horse battery"
OWNER = "owner@example.com"


class Client:
    """A browser-like client: keeps the cookies it is given and echoes the CSRF cookie."""

    def __init__(self, port, ip):
        self.port = port
        self.ip = ip  # sent as X-Forwarded-For, so each client is throttled on its own
        self.cookies = {}
        self.token = None

    def request(self, method, path, body=None, headers=None, csrf=True, raw=None):
        all_headers = {"X-Forwarded-For": self.ip}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and "rookery_csrf" in self.cookies:
            all_headers["X-CSRFToken"] = self.cookies["rookery_csrf"]
        all_headers.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            payload = response.read()
            set_cookies = response.headers.get_all("Set-Cookie") or []
            for cookie in set_cookies:
                name, value = cookie.split(";", 1)[0].split("=", 1)
                if "Max-Age=0" in cookie:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            try:
                parsed = json.loads(payload) if payload else None
            except ValueError:
                parsed = payload
            return Answer(response.status, response.headers, set_cookies, parsed)
        finally:
            connection.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, email, password=PASSWORD):
        return self.post("/api/0/auth/login/", {"email": email, "password": password})


class Answer:
    def __init__(self, status, headers, set_cookies, body):
        self.status = status
        self.headers = headers
        self.set_cookies = set_cookies
        self.body = body

    def __repr__(self):
        return f"<{self.status} {self.body!r}>"


class AccountsStackTestCase(StackTestCase):
    """A stack without a bootstrapped account, for tests that make their own through the API.
    Each client comes from its own address (X-Forwarded-For) in CLIENT_NET, so the login throttle
    of one test does not reach another."""

    CLIENT_NET = "10.0"

    @classmethod
    def make_stack(cls):
        return Stack(bootstrap=False, web_env={"ROOKERY_WEB_TRUST_FORWARDED_FOR": "1"})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ips = 0

    @classmethod
    def client(cls):
        cls.ips += 1
        return Client(cls.stack.web_port, f"{cls.CLIENT_NET}.{cls.ips // 250}.{cls.ips % 250 + 1}")

    def ok(self, answer, status=200):
        self.assertEqual(answer.status, status, answer)
        return answer.body


class AccountsTest(AccountsStackTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.client()
        cls.org = None

    def ensure_setup(self):
        if AccountsTest.org is None:
            self.test_01_first_run_setup()

    def sql1(self, query):
        return self.stack.sql(query)[0][0]

    def new_project(self, name, client=None):
        return self.ok((client or self.owner).post(f"/api/0/organizations/{self.org}/projects/", {"name": name}), 201)

    def member_client(self, email, role):
        """A logged-in member with `role`; invited users get a password by copying the owner's hash."""
        self.ensure_setup()
        answer = self.owner.post(f"/api/0/organizations/{self.org}/members/", {"email": email, "role": role})
        self.assertIn(answer.status, (201, 409), answer)
        self.stack.sql(f"UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = '{OWNER}') "
                       f"WHERE email = '{email}'")
        client = self.client()
        self.ok(client.login(email))
        return client

    # -- setup ------------------------------------------------------------------------------------
    def test_01_first_run_setup(self):
        if AccountsTest.org is not None:
            return
        anonymous = self.client()
        self.assertEqual(self.ok(anonymous.get("/api/0/auth/setup/")), {"needsSetup": True})
        body = {"email": OWNER, "password": "short", "name": "Olive Owner", "organization": "Acme Corp"}
        answer = anonymous.post("/api/0/auth/setup/", body)
        self.assertEqual(answer.status, 400)
        self.assertIn("password", answer.body["detail"])
        answer = anonymous.post("/api/0/auth/setup/", {**body, "password": PASSWORD, "organization": ""})
        self.assertEqual(answer.status, 400)
        self.assertIn("organization", answer.body["detail"])
        answer = anonymous.post("/api/0/auth/setup/", {**body, "password": PASSWORD, "email": "nope"})
        self.assertEqual(answer.status, 400)
        self.assertIn("email", answer.body["detail"])

        answer = self.owner.post("/api/0/auth/setup/", {**body, "password": PASSWORD})
        created = self.ok(answer, 201)
        self.assertEqual(created["user"]["email"], OWNER)
        self.assertEqual(created["user"]["name"], "Olive Owner")
        self.assertTrue(created["user"]["isSuperuser"])
        self.assertEqual(created["organization"]["slug"], "acme-corp")
        self.assertEqual(created["organization"]["name"], "Acme Corp")
        self.assertEqual(created["organization"]["role"], "owner")
        AccountsTest.org = "acme-corp"
        self.assertIn("rookery_session", self.owner.cookies)
        self.assertIn("rookery_csrf", self.owner.cookies)

        self.assertEqual(self.ok(anonymous.get("/api/0/auth/setup/")), {"needsSetup": False})
        again = anonymous.post("/api/0/auth/setup/", {**body, "email": "other@example.com", "password": PASSWORD})
        self.assertEqual(again.status, 403)
        # A default team, named after the organization, with the owner in it.
        teams = self.ok(self.owner.get("/api/0/organizations/acme-corp/teams/"))
        self.assertEqual([(t["slug"], t["isMember"], t["memberCount"]) for t in teams], [("acme-corp", True, 1)])
        # argon2id, and only the session id's hash is stored.
        self.assertTrue(self.sql1(f"SELECT password_hash FROM users WHERE email = '{OWNER}'").startswith("$argon2id$"))
        session = self.owner.cookies["rookery_session"]
        self.assertEqual(self.sql1(f"SELECT count(*) FROM user_sessions "
                                   f"WHERE id_hash = sha256(convert_to('{session}', 'UTF8'))"), "1")
        self.assertEqual(self.sql1(f"SELECT count(*) FROM user_sessions WHERE encode(id_hash, 'hex') = '{session}' "
                                   f"OR csrf_token = '{session}'"), "0")

    # -- login, logout, cookies -----------------------------------------------------------------------
    def test_02_login_logout_and_cookies(self):
        self.ensure_setup()
        client = self.client()
        wrong = client.login(OWNER, "wrong password")
        unknown = client.login("nobody@example.com", PASSWORD)
        self.assertEqual((wrong.status, wrong.body), (401, {"detail": "Invalid email or password"}))
        self.assertEqual((unknown.status, unknown.body), (401, {"detail": "Invalid email or password"}))
        self.assertEqual(client.get("/api/0/users/me/").status, 401)
        self.assertEqual(client.login(OWNER, "").status, 401)
        self.assertEqual(client.post("/api/0/auth/login/", {"email": OWNER}).status, 400)
        self.assertEqual(client.request("GET", "/api/0/auth/login/").status, 405)

        answer = client.login(OWNER.upper())  # emails match case-insensitively
        self.assertEqual(self.ok(answer)["user"]["email"], OWNER)
        self.assertEqual(set(self.ok(answer)["user"]), {"id", "email", "name"})
        session = next(c for c in answer.set_cookies if c.startswith("rookery_session="))
        csrf = next(c for c in answer.set_cookies if c.startswith("rookery_csrf="))
        self.assertRegex(session, r"^rookery_session=[0-9a-f]{64};")
        attributes = [a.strip() for a in session.split(";")[1:]]
        # The cookies outlive the browser for as long as the session may stay idle (14 days).
        self.assertEqual(sorted(attributes), sorted(["Max-Age=1209600", "HttpOnly", "SameSite=Lax", "Path=/"]))
        self.assertEqual(sorted(a.strip() for a in csrf.split(";")[1:]),
                         sorted(["Max-Age=1209600", "SameSite=Lax", "Path=/"]))

        # Each request slides the session; its answer renews both cookies to match.
        session_id, csrf_token = client.cookies["rookery_session"], client.cookies["rookery_csrf"]
        renewed = client.get(f"/api/0/organizations/")
        self.assertEqual(renewed.status, 200)
        self.assertEqual(sorted(renewed.set_cookies), sorted([
            f"rookery_session={session_id}; Max-Age=1209600; HttpOnly; SameSite=Lax; Path=/",
            f"rookery_csrf={csrf_token}; Max-Age=1209600; SameSite=Lax; Path=/"]))

        me = self.ok(client.get("/api/0/users/me/"))
        self.assertEqual(me["email"], OWNER)
        self.assertEqual(me["isSuperuser"], True)
        self.assertEqual(set(me), {"id", "email", "name", "isSuperuser"})

        # Logging out is a state change: it needs the CSRF token too.
        self.assertEqual(client.post("/api/0/auth/logout/", csrf=False).status, 403)
        old_session = client.cookies["rookery_session"]
        logout = client.post("/api/0/auth/logout/")
        self.assertEqual(logout.status, 204, logout)
        self.assertTrue(any(c.startswith("rookery_session=;") and "Max-Age=0" in c for c in logout.set_cookies))
        self.assertEqual(client.get("/api/0/users/me/").status, 401)
        client.cookies["rookery_session"] = old_session
        self.assertEqual(client.get("/api/0/users/me/").status, 401)  # the session is gone server-side

        secure = self.client().post("/api/0/auth/login/", {"email": OWNER, "password": PASSWORD},
                                    headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(secure.status, 200)
        self.assertTrue(all(c.endswith("; Secure") for c in secure.set_cookies), secure.set_cookies)

    def test_03_idle_sessions_expire(self):
        self.ensure_setup()
        client = self.client()
        self.ok(client.login(OWNER))
        self.ok(client.get("/api/0/users/me/"))
        session = client.cookies["rookery_session"]
        expires = self.sql1(f"SELECT round(extract(epoch FROM expires_at - now()) / 86400) FROM user_sessions "
                            f"WHERE id_hash = sha256(convert_to('{session}', 'UTF8'))")
        self.assertEqual(float(expires), 14.0)
        self.stack.sql(f"UPDATE user_sessions SET expires_at = now() - interval '1 second' "
                       f"WHERE id_hash = sha256(convert_to('{session}', 'UTF8'))")
        self.assertEqual(client.get("/api/0/users/me/").status, 401)

    # -- CSRF -------------------------------------------------------------------------------------------
    def test_04_csrf(self):
        self.ensure_setup()
        path = f"/api/0/organizations/{self.org}/teams/"
        missing = self.owner.post(path, {"name": "CSRF one"}, csrf=False)
        self.assertEqual((missing.status, missing.body), (403, {"detail": "CSRF token missing or incorrect"}))
        wrong = self.owner.post(path, {"name": "CSRF one"}, csrf=False, headers={"X-CSRFToken": "0" * 64})
        self.assertEqual((wrong.status, wrong.body), (403, {"detail": "CSRF token missing or incorrect"}))
        self.assertEqual(self.owner.post(path, {"name": "CSRF one"}).status, 201)
        # Reads need none; Bearer tokens need none (browsers never send them by themselves).
        self.assertEqual(self.owner.get(path, csrf=False).status, 200)
        token = self.ok(self.owner.post("/api/0/api-tokens/", {"scopes": ["org:read", "team:write"]}), 201)["token"]
        bearer = self.client()
        bearer.token = token
        self.assertEqual(bearer.post(path, {"name": "CSRF two"}).status, 201)

    # -- throttling -----------------------------------------------------------------------------------
    def test_05_login_throttling_per_email(self):
        self.ensure_setup()
        email = "victim@example.com"
        self.member_client(email, "member")
        for i in range(10):
            attacker = self.client()  # a fresh address each time: the email's own limit trips
            self.assertEqual(attacker.login(email, f"guess {i}").status, 401)
        blocked = self.client().login(email, PASSWORD)  # even the right password, while throttled
        self.assertEqual(blocked.status, 429, blocked)
        self.assertTrue(1 <= int(blocked.headers["Retry-After"]) <= 900, blocked.headers["Retry-After"])
        self.assertEqual(self.client().login(OWNER).status, 200)  # other accounts are unaffected
        # Once the failures are older than the window they no longer count, and are pruned.
        self.stack.sql("UPDATE login_failures SET attempted_at = now() - interval '16 minutes'")
        self.assertEqual(self.client().login(email).status, 200)
        self.assertEqual(self.sql1("SELECT count(*) FROM login_failures"), "0")

    def test_06_login_throttling_per_ip(self):
        self.ensure_setup()
        attacker = self.client()
        for i in range(30):
            self.assertEqual(attacker.login(f"user{i}@example.com", "nope-nope").status, 401)
        blocked = attacker.login(OWNER)
        self.assertEqual(blocked.status, 429)
        self.assertIn("Retry-After", blocked.headers)
        self.assertEqual(self.client().login(OWNER).status, 200)
        self.stack.sql("DELETE FROM login_failures")

    # -- projects, a real SDK event, session auth on the issue endpoints ---------------------------
    def test_07_project_receives_python_sdk_event(self):
        self.ensure_setup()
        project = self.new_project("Web Shop")
        self.assertEqual(project["slug"], "web-shop")
        self.assertEqual(project["teams"][0]["slug"], "acme-corp")
        self.assertEqual(project["dataScrubber"], True)
        self.assertEqual(self.owner.post(f"/api/0/organizations/{self.org}/projects/", {"name": "Web Shop"}).status,
                         409)
        self.assertEqual(self.sql1(f"SELECT count(*) FROM alert_rules WHERE project_id = {project['id']}"), "1")
        keys = self.ok(self.owner.get(f"/api/0/projects/{self.org}/web-shop/keys/"))
        self.assertEqual(len(keys), 1)
        dsn = keys[0]["dsn"]["public"]
        self.assertEqual(dsn, f"http://{keys[0]['public']}@127.0.0.1:{self.stack.relay_port}/{project['id']}")

        event_id = self.stack.run_python_sdk(
            "def checkout():\n    raise KeyError('cart')\n"
            "try:\n    checkout()\nexcept KeyError:\n    print(sentry_sdk.capture_exception())\n", dsn=dsn).strip()
        issues_path = f"/api/0/projects/{self.org}/web-shop/issues/"
        issues = wait_for(lambda: self.owner.get(issues_path).body, 20, message="the issue via session auth")
        self.assertEqual(issues[0]["project"]["slug"], "web-shop")
        issue_id = issues[0]["id"]
        latest = self.ok(self.owner.get(f"/api/0/issues/{issue_id}/events/latest/"))
        self.assertEqual(latest["eventID"], event_id)
        self.assertEqual(self.owner.put(f"/api/0/issues/{issue_id}/", {"status": "resolved"}, csrf=False).status, 403)
        self.assertEqual(self.ok(self.owner.put(f"/api/0/issues/{issue_id}/", {"status": "resolved"}))["status"],
                         "resolved")
        self.assertEqual(self.ok(self.owner.put("/api/0/users/me/notifications/", {"emailAlerts": False})),
                         {"emailAlerts": False, "projects": {}})
        AccountsTest.known_issue_id = issue_id

        # Through a team.
        team_project = self.ok(self.owner.post(f"/api/0/teams/{self.org}/acme-corp/projects/",
                                               {"name": "Billing API", "slug": "billing", "platform": "python"}), 201)
        self.assertEqual((team_project["slug"], team_project["platform"]), ("billing", "python"))
        self.assertEqual(self.owner.post(f"/api/0/teams/{self.org}/no-such-team/projects/", {"name": "x"}).status, 404)
        slugs = [p["slug"] for p in self.ok(self.owner.get(f"/api/0/organizations/{self.org}/projects/"))]
        self.assertIn("billing", slugs)
        self.assertIn("web-shop", slugs)

    def test_08_project_settings(self):
        self.ensure_setup()
        self.new_project("Settings")
        path = f"/api/0/projects/{self.org}/settings/"
        changes = {"name": "Settings Renamed", "platform": "javascript", "retentionDays": 30, "dataScrubber": False,
                   "scrubIPAddresses": True, "sensitiveFields": ["card_number", "ssn"], "safeFields": ["order_id"],
                   "fingerprintingRules": "error.type:DatabaseError -> database-errors",
                   "groupingEnhancements": "path:**/vendor/** -app"}
        updated = self.ok(self.owner.put(path, changes))
        for field, value in changes.items():
            self.assertEqual(updated[field], value, field)
        self.assertEqual(self.ok(self.owner.get(path))["retentionDays"], 30)
        row = self.stack.sql("SELECT name, retention_days, scrub_data, scrub_ip_addresses, sensitive_fields, "
                             "safe_fields, fingerprinting_rules, stacktrace_rules FROM projects WHERE slug = 'settings'")
        self.assertEqual(row[0], ["Settings Renamed", "30", "f", "t", "{card_number,ssn}", "{order_id}",
                                  changes["fingerprintingRules"], changes["groupingEnhancements"]])
        self.assertIsNone(self.ok(self.owner.put(path, {"retentionDays": None}))["retentionDays"])

        for body, field in [({"retentionDays": 0}, "retentionDays"), ({"retentionDays": "30"}, "retentionDays"),
                            ({"dataScrubber": "no"}, "dataScrubber"), ({"sensitiveFields": "ssn"}, "sensitiveFields"),
                            ({"sensitiveFields": [1]}, "sensitiveFields"), ({"slug": "Not A Slug"}, "slug"),
                            ({"name": ""}, "name"), ({"name": "x" * 201}, "name"),
                            ({"fingerprintingRules": 5}, "fingerprintingRules")]:
            answer = self.owner.put(path, body)
            self.assertEqual(answer.status, 400, (body, answer))
            self.assertIn(field, answer.body["detail"])
        # Rules are checked with the grouping library's parsers: the 400 names the line; nothing is stored.
        for field, text in [("fingerprintingRules", "error.type:DatabaseError -> db\nthis is not a rule"),
                            ("groupingEnhancements", "path:**/vendor/** -app\nthis is not a rule")]:
            answer = self.owner.put(path, {field: text})
            self.assertEqual(answer.status, 400, (field, answer))
            self.assertTrue(answer.body["detail"].startswith(field + ": "), answer)
            self.assertIn("line 2", answer.body["detail"], answer)
        self.assertEqual(self.ok(self.owner.get(path))["fingerprintingRules"], changes["fingerprintingRules"])
        self.assertEqual(self.ok(self.owner.get(path))["groupingEnhancements"], changes["groupingEnhancements"])
        self.assertEqual(self.owner.put(path, raw=b"not json").status, 400)
        self.assertEqual(self.owner.put(path, {"slug": "web-shop"}).status, 409)
        self.assertEqual(self.ok(self.owner.put(path, {"slug": "settings-2"}))["slug"], "settings-2")
        self.assertEqual(self.owner.get(path).status, 404)
        self.assertEqual(self.owner.delete(f"/api/0/projects/{self.org}/settings-2/").status, 204)
        self.assertEqual(self.owner.get(f"/api/0/projects/{self.org}/settings-2/").status, 404)

    # -- keys, down to the relay --------------------------------------------------------------------
    def relay_status(self, project_id, public_key):
        body = json.dumps({"message": "key check"}).encode()
        return self.stack.relay_post(f"/api/{project_id}/store/", body, headers={
            "Content-Type": "application/json",
            "X-Sentry-Auth": f"Sentry sentry_key={public_key}, sentry_version=7, sentry_client=rookery-tests/1.0"}).status

    def test_08b_organization_retention(self):
        self.ensure_setup()
        path = f"/api/0/organizations/{self.org}/"
        self.assertEqual(self.ok(self.owner.get(path))["retentionDays"], 90)
        updated = self.ok(self.owner.put(path, {"retentionDays": 30, "name": "Acme Corp"}))
        self.assertEqual((updated["retentionDays"], updated["name"]), (30, "Acme Corp"))
        self.assertEqual(self.sql1(f"SELECT retention_days FROM organizations WHERE slug = '{self.org}'"), "30")
        for body in [{"retentionDays": 0}, {"retentionDays": 4000}, {"retentionDays": "long"}, {"name": ""}]:
            answer = self.owner.put(path, body)
            self.assertEqual(answer.status, 400, (body, answer))
        member = self.member_client("retention.member@example.com", "member")
        self.assertEqual(member.put(path, {"retentionDays": 1}).status, 403)
        self.assertEqual(self.sql1(f"SELECT retention_days FROM organizations WHERE slug = '{self.org}'"), "30")
        self.ok(self.owner.put(path, {"retentionDays": 90}))

    def test_09_keys_disable_rotate_and_the_relay(self):
        self.ensure_setup()
        project = self.new_project("Keys")
        keys_path = f"/api/0/projects/{self.org}/keys/keys/"
        old = self.ok(self.owner.get(keys_path))[0]
        self.assertEqual(set(old) >= {"id", "name", "label", "public", "secret", "isActive", "dateCreated", "dsn",
                                      "rateLimit"}, True)
        self.assertEqual(set(old["dsn"]) >= {"public", "secret", "store", "security"}, True)
        self.assertEqual(old["id"], old["public"])
        self.assertIsNone(old["rateLimit"])
        self.assertRegex(old["dsn"]["secret"], rf"^http://{old['public']}:{old['secret']}@")
        wait_for(lambda: self.relay_status(project["id"], old["public"]) == 200, 5, message="the new key at the relay")

        limited = self.ok(self.owner.put(f"{keys_path}{old['id']}/", {"rateLimit": {"window": 60, "count": 100},
                                                                       "name": "Backend", "allowedOrigins": ["*"]}))
        self.assertEqual((limited["rateLimit"], limited["name"], limited["label"]),
                         ({"window": 60, "count": 100}, "Backend", "Backend"))
        for body, field in [({"rateLimit": {"window": 0, "count": 1}}, "rateLimit.window"),
                            ({"rateLimit": {"window": 60}}, "rateLimit.count"), ({"rateLimit": 5}, "rateLimit"),
                            ({"isActive": "yes"}, "isActive"), ({"allowedOrigins": ["a b"]}, "allowedOrigins")]:
            answer = self.owner.put(f"{keys_path}{old['id']}/", body)
            self.assertEqual(answer.status, 400, (body, answer))
            self.assertIn(field, answer.body["detail"])

        # Disabled: the relay refuses it within 2 s (NOTIFY reaches its key cache).
        disabled = self.ok(self.owner.put(f"{keys_path}{old['id']}/", {"isActive": False}))
        self.assertFalse(disabled["isActive"])
        started = time.monotonic()
        wait_for(lambda: self.relay_status(project["id"], old["public"]) in (401, 403), 2, interval=0.1,
                 message="the relay to refuse the disabled key")
        self.assertLess(time.monotonic() - started, 2.0)

        # Rotation: a new key, then the old one deleted.
        new = self.ok(self.owner.post(keys_path, {"name": "Rotated"}), 201)
        self.assertTrue(new["isActive"])
        wait_for(lambda: self.relay_status(project["id"], new["public"]) == 200, 2, message="the new key")
        self.assertEqual(self.owner.delete(f"{keys_path}{old['id']}/").status, 204)
        self.assertEqual(self.owner.get(f"{keys_path}{old['id']}/").status, 404)
        self.assertEqual([k["id"] for k in self.ok(self.owner.get(keys_path))], [new["id"]])
        self.assertIn(self.relay_status(project["id"], old["public"]), (401, 403))
        self.assertEqual(self.owner.get(f"{keys_path}{'0' * 32}/").status, 404)

    # -- members and roles ----------------------------------------------------------------------------
    def test_10_members_and_roles(self):
        self.ensure_setup()
        members_path = f"/api/0/organizations/{self.org}/members/"
        invited = self.ok(self.owner.post(members_path, {"email": "New.Person@Example.com", "role": "member"}), 201)
        self.assertEqual((invited["email"], invited["role"], invited["pending"]),
                         ("new.person@example.com", "member", True))
        self.assertEqual(self.owner.post(members_path, {"email": "new.person@example.com"}).status, 409)
        for body, field in [({"email": "bad"}, "email"), ({"email": "x@example.com", "role": "god"}, "role"),
                            ({"email": "x@example.com", "teams": ["nope"]}, "teams"), ({"email": 7}, "email")]:
            answer = self.owner.post(members_path, body)
            self.assertEqual(answer.status, 400, (body, answer))
            self.assertIn(field, answer.body["detail"])
        with_team = self.ok(self.owner.post(members_path, {"email": "teamed@example.com", "teams": ["acme-corp"]}), 201)
        self.assertEqual(with_team["teams"], ["acme-corp"])

        member = self.member_client("plain.member@example.com", "member")
        self.assertEqual(self.ok(member.get(f"/api/0/organizations/{self.org}/"))["role"], "member")
        self.ok(member.get(f"/api/0/projects/{self.org}/web-shop/keys/"))
        self.ok(member.get(f"/api/0/projects/{self.org}/web-shop/"))
        for method, path, body in [
                ("POST", members_path, {"email": "z@example.com"}),
                ("PUT", f"{members_path}{invited['id']}/", {"role": "admin"}),
                ("DELETE", f"{members_path}{invited['id']}/", None),
                ("POST", f"/api/0/organizations/{self.org}/teams/", {"name": "Sneaky"}),
                ("POST", f"/api/0/organizations/{self.org}/projects/", {"name": "Sneaky"}),
                ("PUT", f"/api/0/projects/{self.org}/web-shop/", {"name": "Sneaky"}),
                ("DELETE", f"/api/0/projects/{self.org}/web-shop/", None),
                ("POST", f"/api/0/projects/{self.org}/web-shop/keys/", {}),
        ]:
            answer = member.request(method, path, body)
            self.assertEqual(answer.status, 403, (method, path, answer))
        key = self.ok(member.get(f"/api/0/projects/{self.org}/web-shop/keys/"))[0]
        self.assertEqual(member.put(f"/api/0/projects/{self.org}/web-shop/keys/{key['id']}/",
                                    {"isActive": False}).status, 403)
        self.assertEqual(member.delete(f"/api/0/projects/{self.org}/web-shop/keys/{key['id']}/").status, 403)
        # Members may still triage issues (event:write).
        self.assertEqual(member.put(f"/api/0/issues/{self.issue_id()}/", {"status": "unresolved"}).status, 200)
        # ... but not mint tokens beyond their role.
        self.assertEqual(member.post("/api/0/api-tokens/", {"scopes": ["project:write"]}).status, 400)

        # Admins manage members but not owners.
        admin = self.member_client("an.admin@example.com", "admin")
        owner_member = next(m for m in self.ok(self.owner.get(members_path)) if m["email"] == OWNER)
        self.assertEqual(admin.put(f"{members_path}{owner_member['id']}/", {"role": "member"}).status, 403)
        self.assertEqual(admin.post(members_path, {"email": "o2@example.com", "role": "owner"}).status, 403)
        self.assertEqual(self.ok(admin.put(f"{members_path}{invited['id']}/", {"role": "admin"}))["role"], "admin")

        # The last owner can be neither demoted nor removed.
        demote = self.owner.put(f"{members_path}{owner_member['id']}/", {"role": "admin"})
        self.assertEqual(demote.status, 400, demote)
        self.assertIn("owner", demote.body["detail"])
        self.assertEqual(self.owner.delete(f"{members_path}{owner_member['id']}/").status, 400)
        admin_member = next(m for m in self.ok(self.owner.get(members_path)) if m["email"] == "an.admin@example.com")
        self.assertEqual(self.ok(self.owner.put(f"{members_path}{admin_member['id']}/", {"role": "owner"}))["role"],
                         "owner")
        self.assertEqual(self.ok(self.owner.put(f"{members_path}{admin_member['id']}/", {"orgRole": "admin"}))["role"],
                         "admin")
        self.assertEqual(self.owner.put(f"{members_path}{admin_member['id']}/", {"role": "boss"}).status, 400)

        # Removed: the organization is gone for them.
        plain = next(m for m in self.ok(self.owner.get(members_path)) if m["email"] == "plain.member@example.com")
        self.assertEqual(self.owner.delete(f"{members_path}{plain['id']}/").status, 204)
        self.assertEqual(member.get(f"/api/0/organizations/{self.org}/").status, 404)
        self.assertEqual(self.ok(member.get("/api/0/organizations/")), [])
        self.assertEqual(self.owner.delete(f"{members_path}{plain['id']}/").status, 404)

    def issue_id(self):
        if not hasattr(AccountsTest, "known_issue_id"):
            self.test_07_project_receives_python_sdk_event()
        return AccountsTest.known_issue_id

    # -- API tokens ---------------------------------------------------------------------------------------
    def team_recipients(self, project_id):
        """Cron's recipients for "the project's team" (services/cron/src/alerts.cpp), without the settings."""
        return [row[0] for row in self.stack.sql(
            f"SELECT u.email FROM projects p JOIN organization_members m ON m.organization_id = p.organization_id "
            f"JOIN users u ON u.id = m.user_id WHERE p.id = {project_id} "
            f"AND (NOT EXISTS (SELECT 1 FROM project_teams pt WHERE pt.project_id = p.id) "
            f"OR EXISTS (SELECT 1 FROM project_teams pt JOIN team_members tm ON tm.team_id = pt.team_id "
            f"WHERE pt.project_id = p.id AND tm.user_id = u.id)) ORDER BY u.email")]

    def test_10b_members_on_teams(self):
        members_path = f"/api/0/organizations/{self.org}/members/"
        member_client = self.member_client("on.team@example.com", "member")
        member = next(m for m in self.ok(self.owner.get(members_path)) if m["email"] == "on.team@example.com")
        team = self.ok(self.owner.post(f"/api/0/organizations/{self.org}/teams/", {"name": "Backend"}), 201)["slug"]
        project = self.new_project("Team Owned")
        # The project belongs to the new team only.
        self.stack.sql(f"DELETE FROM project_teams WHERE project_id = {project['id']}")
        self.stack.sql(f"INSERT INTO project_teams (project_id, team_id) SELECT {project['id']}, id FROM teams "
                       f"WHERE slug = '{team}'")
        path = f"{members_path}{member['id']}/teams/{team}/"
        # Members may not change teams; admins and owners may.
        self.assertEqual(member_client.post(path).status, 403)
        for _ in range(2):  # idempotent
            added = self.ok(self.owner.post(path), 201)
            self.assertIn(team, added["teams"])
        self.assertIn(team, next(m for m in self.ok(self.owner.get(members_path)) if m["id"] == member["id"])["teams"])
        # The project's team, whom cron's "email the team" alerts go to, now includes the member.
        self.assertIn("on.team@example.com", self.team_recipients(project["id"]))
        self.assertEqual(self.owner.post(f"{members_path}{member['id']}/teams/no-such-team/").status, 404)
        self.assertEqual(self.owner.post(f"{members_path}999999/teams/{team}/").status, 404)
        self.assertEqual(self.owner.request("PUT", path, {}).status, 405)
        for _ in range(2):
            self.assertEqual(self.owner.delete(path).status, 204)
        self.assertNotIn(team, next(m for m in self.ok(self.owner.get(members_path))
                                    if m["id"] == member["id"])["teams"])
        self.assertNotIn("on.team@example.com", self.team_recipients(project["id"]))
        self.assertIn(OWNER, self.team_recipients(project["id"]))  # who made the team is on it
        # Another organization's member and team do not exist for this one.
        foreign = self.stack.bootstrap("team.spy@example.com", "spyorg", "spyproject")
        spy = self.client()
        spy.token = foreign["ROOKERY_API_TOKEN"]
        self.assertEqual(spy.post(path).status, 404)
        self.assertEqual(spy.delete(path).status, 404)
        spy_member = self.ok(spy.get("/api/0/organizations/spyorg/members/"))[0]["id"]
        self.assertEqual(self.owner.post(f"/api/0/organizations/spyorg/members/{spy_member}/teams/spyorg/").status,
                         404)
        self.assertEqual(self.owner.post(f"{members_path}{spy_member}/teams/{team}/").status, 404)

    def test_11_api_tokens(self):
        self.ensure_setup()
        created = self.ok(self.owner.post("/api/0/api-tokens/", {"name": "ci", "scopes": ["org:read", "project:read"]}),
                          201)
        self.assertRegex(created["token"], r"^[0-9a-f]{64}$")
        self.assertEqual(created["scopes"], ["org:read", "project:read"])
        self.assertEqual(self.sql1(f"SELECT count(*) FROM api_tokens WHERE token_hash = "
                                   f"sha256(convert_to('{created['token']}', 'UTF8'))"), "1")
        listed = [t for t in self.ok(self.owner.get("/api/0/api-tokens/")) if t["id"] == created["id"]]
        self.assertEqual(len(listed), 1)
        self.assertNotIn("token", listed[0])
        bearer = self.client()
        bearer.token = created["token"]
        self.assertEqual(len(self.ok(bearer.get("/api/0/organizations/"))), 1)
        self.assertEqual(bearer.get("/api/0/organizations/").set_cookies, [])  # no session, no cookies
        self.ok(bearer.get(f"/api/0/organizations/{self.org}/projects/"))
        self.assertEqual(bearer.post(f"/api/0/organizations/{self.org}/projects/", {"name": "nope"}).status, 403)
        for body, field in [({"scopes": []}, "scopes"), ({"scopes": ["root"]}, "scopes"), ({"scopes": "org:read"},
                                                                                             "scopes"), ({}, "scopes")]:
            answer = self.owner.post("/api/0/api-tokens/", body)
            self.assertEqual(answer.status, 400, (body, answer))
            self.assertIn(field, answer.body["detail"])
        # Tokens are managed with a session only: a token cannot revoke another, nor mint or list them.
        reader = self.client()
        reader.token = self.ok(self.owner.post("/api/0/api-tokens/", {"scopes": ["event:read"]}), 201)["token"]
        for client in (reader, bearer):
            for method, path, body in [("DELETE", f"/api/0/api-tokens/{created['id']}/", None),
                                       ("POST", "/api/0/api-tokens/", {"scopes": ["event:read"]}),
                                       ("GET", "/api/0/api-tokens/", None)]:
                answer = client.request(method, path, body)
                self.assertEqual(answer.status, 403, (method, path, answer))
                self.assertEqual(answer.body["detail"], "API tokens cannot manage API tokens")
        self.assertEqual(len(self.ok(bearer.get("/api/0/organizations/"))), 1)
        self.assertEqual(self.owner.delete(f"/api/0/api-tokens/{created['id']}/").status, 204)
        self.assertEqual(bearer.get("/api/0/organizations/").status, 401)
        self.assertEqual(self.owner.delete(f"/api/0/api-tokens/{created['id']}/").status, 404)

    # -- isolation --------------------------------------------------------------------------------------
    def endpoints(self, org, project, key, member_id, token_id, issue_id):
        """Every endpoint that names an object, with a method and a body."""
        return [
            ("GET", f"/api/0/organizations/{org}/", None),
            ("GET", f"/api/0/organizations/{org}/members/", None),
            ("POST", f"/api/0/organizations/{org}/members/", {"email": "spy@example.com"}),
            ("PUT", f"/api/0/organizations/{org}/members/{member_id}/", {"role": "member"}),
            ("DELETE", f"/api/0/organizations/{org}/members/{member_id}/", None),
            ("GET", f"/api/0/organizations/{org}/teams/", None),
            ("POST", f"/api/0/organizations/{org}/teams/", {"name": "spies"}),
            ("GET", f"/api/0/organizations/{org}/projects/", None),
            ("POST", f"/api/0/organizations/{org}/projects/", {"name": "spies"}),
            ("POST", f"/api/0/teams/{org}/{org}/projects/", {"name": "spies"}),
            ("GET", f"/api/0/projects/{org}/{project}/", None),
            ("PUT", f"/api/0/projects/{org}/{project}/", {"name": "spies"}),
            ("DELETE", f"/api/0/projects/{org}/{project}/", None),
            ("GET", f"/api/0/projects/{org}/{project}/keys/", None),
            ("POST", f"/api/0/projects/{org}/{project}/keys/", {}),
            ("GET", f"/api/0/projects/{org}/{project}/keys/{key}/", None),
            ("PUT", f"/api/0/projects/{org}/{project}/keys/{key}/", {"isActive": False}),
            ("DELETE", f"/api/0/projects/{org}/{project}/keys/{key}/", None),
            ("GET", f"/api/0/projects/{org}/{project}/issues/", None),
            ("GET", f"/api/0/issues/{issue_id}/", None),
            ("PUT", f"/api/0/issues/{issue_id}/", {"status": "ignored"}),
            ("GET", f"/api/0/issues/{issue_id}/events/latest/", None),
            ("DELETE", f"/api/0/api-tokens/{token_id}/", None),
        ]

    def test_12_isolation_between_organizations(self):
        self.ensure_setup()
        issue_id = self.issue_id()
        # Another tenant, with a token of every scope, and a session.
        foreign = self.stack.bootstrap("mallory@example.com", "evil", "evilproject")
        self.stack.sql(f"UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = '{OWNER}') "
                       f"WHERE email = 'mallory@example.com'")
        foreign_token = self.client()
        foreign_token.token = foreign["ROOKERY_API_TOKEN"]
        foreign_session = self.client()
        self.ok(foreign_session.login("mallory@example.com"))

        key = self.ok(self.owner.get(f"/api/0/projects/{self.org}/web-shop/keys/"))[0]["id"]
        owner_member = next(m for m in self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))
                            if m["email"] == OWNER)["id"]
        owner_token = self.ok(self.owner.post("/api/0/api-tokens/", {"scopes": ["org:read"]}), 201)["id"]
        for client in (foreign_token, foreign_session):
            orgs = [o["slug"] for o in self.ok(client.get("/api/0/organizations/"))]
            self.assertEqual(orgs, ["evil"])
            for method, path, body in self.endpoints(self.org, "web-shop", key, owner_member, owner_token, issue_id):
                answer = client.request(method, path, body)
                # Tokens are managed with a session only: a token is refused before any lookup.
                expected = 403 if client is foreign_token and "/api-tokens/" in path else 404
                self.assertEqual(answer.status, expected, (method, path, answer))
        # Nothing changed.
        self.assertEqual(self.ok(self.owner.get(f"/api/0/projects/{self.org}/web-shop/"))["name"], "Web Shop")
        self.assertTrue(self.ok(self.owner.get(f"/api/0/projects/{self.org}/web-shop/keys/{key}/"))["isActive"])
        self.assertEqual(self.sql1("SELECT count(*) FROM users WHERE email = 'spy@example.com'"), "0")
        # And the other way round.
        foreign_key = self.ok(foreign_token.get("/api/0/projects/evil/evilproject/keys/"))[0]["id"]
        foreign_member = self.ok(foreign_token.get("/api/0/organizations/evil/members/"))[0]["id"]
        for method, path, body in self.endpoints("evil", "evilproject", foreign_key, foreign_member, 999999, 999999):
            answer = self.owner.request(method, path, body)
            self.assertEqual(answer.status, 404, (method, path, answer))

    # -- bad input --------------------------------------------------------------------------------------
    def test_13_bad_input_is_400_never_500(self):
        self.ensure_setup()
        self.new_project("Fuzz")
        key = self.ok(self.owner.get(f"/api/0/projects/{self.org}/fuzz/keys/"))[0]["id"]
        member = self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))[-1]["id"]
        targets = [("POST", "/api/0/auth/login/"), ("POST", "/api/0/auth/setup/"),
                   ("POST", f"/api/0/organizations/{self.org}/members/"),
                   ("PUT", f"/api/0/organizations/{self.org}/members/{member}/"),
                   ("POST", f"/api/0/organizations/{self.org}/teams/"),
                   ("POST", f"/api/0/organizations/{self.org}/projects/"),
                   ("POST", f"/api/0/teams/{self.org}/acme-corp/projects/"),
                   ("PUT", f"/api/0/projects/{self.org}/fuzz/"),
                   ("POST", f"/api/0/projects/{self.org}/fuzz/keys/"),
                   ("PUT", f"/api/0/projects/{self.org}/fuzz/keys/{key}/"),
                   ("POST", "/api/0/api-tokens/")]
        bodies = [b"", b"[]", b"{", b"null", b'"x"', b'{"name": 5}', b'{"name": null, "slug": 7}',
                  b'{"name": "\\u0000"}', json.dumps({"name": "x" * 100000}).encode(),
                  b'{"email": [], "password": {}, "role": 1, "scopes": [null], "teams": {}}',
                  b'{"rateLimit": {"window": 1e300, "count": -1}, "retentionDays": 1.5}',
                  b'{"sensitiveFields": [' + b",".join([b'"a"'] * 500) + b']}']
        # Invalid UTF-8 inside a string: refused by the one body parser, whatever the endpoint.
        invalid_utf8 = [b'{"email":"a\xff@x.com","password":"xxxxxxxxxx","name":"a\xffb","role":"member"}',
                        b'{"name":"\xc3\x28","scopes":["org:read"],"slug":"ok-\xed\xa0\x80"}']
        for method, path in targets + [("POST", "/api/0/auth/password-reset/"),
                                       ("POST", "/api/0/auth/password-link/"),
                                       ("PUT", "/api/0/auth/password-link/"),
                                       ("PUT", f"/api/0/organizations/{self.org}/"),
                                       ("PUT", "/api/0/users/me/notifications/"),
                                       ("PUT", f"/api/0/issues/{self.issue_id()}/"),
                                       ("POST", f"/api/0/projects/{self.org}/fuzz/rules/")]:
            for body in invalid_utf8:
                answer = self.owner.request(method, path, raw=body)
                self.assertEqual(answer.status, 400, (method, path, body, answer))
                self.assertIn("UTF-8", answer.body["detail"], (method, path, answer))
        for method, path in targets:
            for body in bodies:
                answer = self.owner.request(method, path, raw=body)
                self.assertLess(answer.status, 500, (method, path, body[:60], answer))
                if answer.status >= 400:
                    self.assertIn("detail", answer.body, (method, path, body[:60]))
        self.assertEqual(self.owner.request("PATCH", f"/api/0/projects/{self.org}/fuzz/", {}).status, 405)
        self.assertEqual(self.owner.get(f"/api/0/projects/{self.org}/fuzz/keys/not-a-key/").status, 404)


if __name__ == "__main__":
    unittest.main()
