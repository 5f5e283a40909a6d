"""Set-password links over real HTTP, with cron mailing them to a real SMTP server (aiosmtpd):
an invitation → its mail → a password chosen with the link → signed in; "forgot password" for
existing and unknown addresses (the same answer, mail only for the first); links that are used,
replaced, expired or made up; throttling; a new invitation for a pending member."""

import hashlib
import re
import time
import unittest

from mail_sink import MailSink
from rookery_stack import Stack, free_port, wait_for
from test_accounts import PASSWORD, AccountsStackTestCase

SMTP_PORT = free_port()
OWNER = "olive@example.com"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/(accept|reset)/([0-9a-f]{64})/")
RESET_ANSWER = {"detail": "If an account uses this email address, a link to set its password is on its way."}


class PasswordLinksTest(AccountsStackTestCase):
    CLIENT_NET = "10.1"

    @classmethod
    def make_stack(cls):
        cls.smtp = MailSink(SMTP_PORT).start()
        return Stack(bootstrap=False, web_env={"ROOKERY_WEB_TRUST_FORWARDED_FOR": "1"},
                     cron_env={"ROOKERY_SMTP_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
                               "ROOKERY_ALERT_POLL_MS": "200", "ROOKERY_ALERT_RETRY_BASE_SECONDS": "1"})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.client()
        answer = cls.owner.post("/api/0/auth/setup/", {"email": OWNER, "password": PASSWORD, "name": "Olive",
                                                      "organization": "Acme Corp"})
        assert answer.status == 201, answer
        cls.org = answer.body["organization"]["slug"]

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.smtp.stop()

    def invite(self, email, role="member"):
        return self.ok(self.owner.post(f"/api/0/organizations/{self.org}/members/", {"email": email, "role": role}),
                       201)

    def link_in_mail(self, address, count=1):
        mail = self.smtp.wait_for(address, count, timeout=30)[count - 1]
        match = LINK.search(mail.text)
        self.assertIsNotNone(match, mail.text)
        self.assertIn(match.group(0), mail.html)
        return mail, match.group(0), match.group(2)

    def check(self, token, client=None):
        return (client or self.client()).post("/api/0/auth/password-link/", {"token": token})

    def set_password(self, token, password, client=None):
        return (client or self.client()).put("/api/0/auth/password-link/", {"token": token, "password": password})

    # -- invitations ----------------------------------------------------------------------------------
    def test_invite_mail_set_password_sign_in(self):
        email = "ivy@example.com"
        member = self.invite(email)
        self.assertTrue(member["pending"])
        self.assertFalse(member["expired"])
        self.assertFalse(member["user"]["hasPasswordAuth"])
        match = LINK.fullmatch(member["inviteLink"])
        self.assertIsNotNone(match, member["inviteLink"])
        self.assertEqual(match.group(1), "accept")
        token = match.group(2)
        # The list never shows a link: the database has none to show.
        listed = self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))
        self.assertNotIn("inviteLink", next(m for m in listed if m["email"] == email))
        # Only the token's hash is stored.
        digest = hashlib.sha256(token.encode()).hexdigest()
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM password_links WHERE token_hash = '\\x{digest}'"),
                         [["1"]])

        mail, link, mailed_token = self.link_in_mail(email)
        self.assertEqual((link, mailed_token), (member["inviteLink"], token))
        self.assertEqual(mail.subject, "Join Acme Corp on Rookery")
        self.assertIn("Olive invited you to Acme Corp", mail.text)
        # Sent: the outbox keeps no copy of the link.
        wait_for(lambda: self.stack.sql("SELECT count(*) FROM account_mails WHERE link IS NOT NULL "
                                        "AND status <> 'pending'") == [["0"]], 10, message="the link cleared")
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM account_mails WHERE link LIKE '%{token}%'"), [["0"]])

        invitee = self.client()
        self.assertEqual(invitee.login(email, "anything at all").status, 401)
        info = self.ok(self.check(token))
        self.assertEqual((info["kind"], info["email"], info["organization"]), ("invite", email, "Acme Corp"))
        self.assertIn("expiresAt", info)
        days = float(self.stack.sql(f"SELECT extract(epoch FROM expires_at - now()) / 86400 FROM password_links "
                                    f"WHERE token_hash = '\\x{digest}'")[0][0])
        self.assertAlmostEqual(days, 7, delta=0.01)
        # Too short a password leaves the link as it was.
        short = self.set_password(token, "short", invitee)
        self.assertEqual(short.status, 400, short)
        self.assertIn("at least 8 characters", short.body["detail"])
        answer = self.set_password(token, "ivy's new password", invitee)
        self.assertEqual(self.ok(answer)["user"]["email"], email)
        self.assertIn("rookery_session", invitee.cookies)
        self.assertEqual(self.ok(invitee.get("/api/0/users/me/"))["email"], email)
        self.assertEqual([o["slug"] for o in self.ok(invitee.get("/api/0/organizations/"))], [self.org])
        self.ok(self.client().login(email, "ivy's new password"))
        member = next(m for m in self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))
                      if m["email"] == email)
        self.assertFalse(member["pending"])
        self.assertTrue(member["user"]["hasPasswordAuth"])
        # Single use.
        for again in (self.check(token), self.set_password(token, "another password")):
            self.assertEqual(again.status, 410, again)
            self.assertIn("already used", again.body["detail"])

    def test_reinvite_replaces_the_link(self):
        email = "rex@example.com"
        first = self.invite(email)["inviteLink"]
        member_id = next(m["id"] for m in self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))
                         if m["email"] == email)
        again = self.ok(self.owner.put(f"/api/0/organizations/{self.org}/members/{member_id}/", {"reinvite": True}))
        second = again["inviteLink"]
        self.assertNotEqual(first, second)
        self.assertEqual(self.check(LINK.fullmatch(first).group(2)).status, 410)
        self.ok(self.check(LINK.fullmatch(second).group(2)))
        # The second mail carries the live link (the first went out with the old one, or was
        # cancelled if cron had not sent it yet).
        wait_for(lambda: any(second in m.text for m in self.smtp.to(email)), 30, message="the second invitation")
        # An expired invitation shows as such, and a member with a password cannot be re-invited.
        self.stack.sql(f"UPDATE password_links SET expires_at = now() - interval '1 second' "
                       f"WHERE user_id = (SELECT id FROM users WHERE email = '{email}')")
        listed = next(m for m in self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))
                      if m["email"] == email)
        self.assertTrue(listed["pending"] and listed["expired"], listed)
        expired = self.check(LINK.fullmatch(second).group(2))
        self.assertEqual(expired.status, 410)
        self.assertIn("expired", expired.body["detail"])
        owner_id = next(m["id"] for m in self.ok(self.owner.get(f"/api/0/organizations/{self.org}/members/"))
                        if m["email"] == OWNER)
        refused = self.owner.put(f"/api/0/organizations/{self.org}/members/{owner_id}/", {"reinvite": True})
        self.assertEqual(refused.status, 400, refused)
        self.assertEqual(self.owner.put(f"/api/0/organizations/{self.org}/members/{member_id}/",
                                        {"reinvite": "yes"}).status, 400)
        # A month after they died, cron deletes the links and their mail rows.
        self.stack.sql(f"UPDATE password_links SET expires_at = now() - interval '31 days' "
                       f"WHERE user_id = (SELECT id FROM users WHERE email = '{email}')")
        wait_for(lambda: self.stack.sql(f"SELECT count(*) FROM password_links WHERE user_id = "
                                        f"(SELECT id FROM users WHERE email = '{email}')") == [["0"]], 10,
                 message="old links pruned")
        self.assertEqual(self.check(LINK.fullmatch(second).group(2)).status, 404)

    # -- forgot password --------------------------------------------------------------------------------
    def test_reset_flow_and_no_enumeration(self):
        email = "rita@example.com"
        self.invite(email)
        _, _, token = self.link_in_mail(email)
        self.ok(self.set_password(token, "rita's first password"))
        phone, laptop = self.client(), self.client()
        self.ok(phone.login(email, "rita's first password"))
        self.ok(laptop.login(email, "rita's first password"))

        asker = self.client()
        known = asker.post("/api/0/auth/password-reset/", {"email": email.upper()})
        unknown = asker.post("/api/0/auth/password-reset/", {"email": "nobody-here@example.com"})
        self.assertEqual((known.status, known.body), (202, RESET_ANSWER))
        self.assertEqual((unknown.status, unknown.body), (202, RESET_ANSWER))
        self.assertEqual(dict(known.headers).get("Content-Type"), dict(unknown.headers).get("Content-Type"))
        mail, link, token = self.link_in_mail(email, 2)
        self.assertEqual(mail.subject, "Reset your Rookery password")
        self.assertIn("/reset/", link)
        self.assertEqual(self.stack.sql("SELECT count(*) FROM password_links l JOIN users u ON u.id = l.user_id "
                                        "WHERE u.email = 'nobody-here@example.com'"), [["0"]])
        self.assertEqual(self.smtp.to("nobody-here@example.com"), [])
        minutes = float(self.stack.sql(f"SELECT extract(epoch FROM expires_at - now()) / 60 FROM password_links "
                                       f"WHERE token_hash = sha256(convert_to('{token}', 'UTF8'))")[0][0])
        self.assertAlmostEqual(minutes, 60, delta=1)
        info = self.ok(self.check(token))
        self.assertEqual((info["kind"], info["email"], info["organization"]), ("reset", email, None))

        self.ok(self.set_password(token, "rita's second password", laptop))
        # Every other session of hers ended; the laptop got a fresh one.
        self.assertEqual(phone.get("/api/0/users/me/").status, 401)
        self.ok(laptop.get("/api/0/users/me/"))
        self.assertEqual(self.client().login(email, "rita's first password").status, 401)
        self.ok(self.client().login(email, "rita's second password"))
        self.assertEqual(self.set_password(token, "rita's third password").status, 410)

    def test_bad_tokens_and_bodies(self):
        client = self.client()
        for body, status in (({"token": ""}, 400), ({}, 400), ({"token": 5}, 400), ({"token": "abc"}, 404),
                             ({"token": "0" * 64}, 404), ({"token": "Z" * 64}, 404), ({"token": "a" * 300}, 400)):
            answer = client.post("/api/0/auth/password-link/", body)
            self.assertEqual(answer.status, status, (body, answer))
            self.assertIsInstance(answer.body["detail"], str)
        self.assertEqual(client.request("POST", "/api/0/auth/password-link/", raw=b"{nope").status, 400)
        self.assertEqual(client.put("/api/0/auth/password-link/", {"token": "0" * 64}).status, 400)  # no password
        self.assertEqual(client.put("/api/0/auth/password-link/", {"token": "0" * 64, "password": "long enough"})
                         .status, 404)
        self.assertEqual(client.request("GET", "/api/0/auth/password-link/").status, 405)
        self.assertEqual(client.request("GET", "/api/0/auth/password-reset/").status, 405)
        for body in ({}, {"email": "not an address"}, {"email": 7}):
            answer = client.post("/api/0/auth/password-reset/", body)
            self.assertEqual(answer.status, 400, (body, answer))
            self.assertIn("email", answer.body["detail"])

    def test_throttling(self):
        email = "tom@example.com"
        self.invite(email)
        user = f"(SELECT id FROM users WHERE email = '{email}')"
        # Per user: three links an hour; further requests get the same answer and no link.
        for i in range(5):
            answer = self.client().post("/api/0/auth/password-reset/", {"email": email})
            self.assertEqual((answer.status, answer.body), (202, RESET_ANSWER))
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM password_links WHERE user_id = {user} "
                                        f"AND kind = 'reset'"), [["3"]])
        # Per address: ten requests in 15 minutes, whatever the email.
        client = self.client()
        for i in range(10):
            self.assertEqual(client.post("/api/0/auth/password-reset/", {"email": f"x{i}@example.com"}).status, 202)
        throttled = client.post("/api/0/auth/password-reset/", {"email": "x@example.com"})
        self.assertEqual(throttled.status, 429, throttled)
        self.assertGreater(int(throttled.headers["Retry-After"]), 0)
        self.assertEqual(self.client().post("/api/0/auth/password-reset/", {"email": "x@example.com"}).status, 202)


if __name__ == "__main__":
    unittest.main()
