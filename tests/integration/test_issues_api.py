"""The issue REST API against the real stack: search terms, sort orders, cursor pagination through
Sentry's Link header, stats, assignment, bulk status, merge and unmerge with exact aggregates,
delete, events, hashes, tags, alert rules (and cron acting on a rule made through the API), and
isolation between organizations."""

import base64
import json
import re
import time
import urllib.parse
import uuid

from rookery_stack import StackTestCase, http_request, wait_for

LINK = re.compile(r'<([^>]+)>; rel="(previous|next)"; results="(true|false)"; cursor="([^"]+)"')
FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
EMAIL = "sentry.mail.actions.NotifyEmailAction"
WEBHOOK = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction"


class IssuesApiTest(StackTestCase):
    # -- helpers ----------------------------------------------------------------------------------
    def call(self, method, path, body=None, token=None):
        """Returns (status, parsed JSON or None, headers)."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        result = http_request(f"http://127.0.0.1:{self.stack.web_port}{path}", data=data, method=method,
                              headers={"Authorization": f"Bearer {token or self.stack.credentials['ROOKERY_API_TOKEN']}",
                                       "Content-Type": "application/json"})
        parsed = json.loads(result.body) if result.body else None
        return result.status, parsed, result.headers

    def get(self, path, token=None):
        status, body, headers = self.call("GET", path, token=token)
        self.assertEqual(status, 200, (path, body))
        return body

    def send(self, message, project=None, **fields):
        project = project or {"ROOKERY_PROJECT_ID": self.stack.project_id, "key": self.stack.public_key}
        event = {"event_id": uuid.uuid4().hex, "message": message, "level": "error", "platform": "python"}
        event.update(fields)
        answer = self.stack.relay_post(f"/api/{project['ROOKERY_PROJECT_ID']}/store/", json.dumps(event).encode(),
                                       {**self.stack.auth_header(project["key"]), "Content-Type": "application/json"})
        self.assertEqual(answer.status, 200, answer.body)
        return event["event_id"]

    def wait_stored(self, *event_ids):
        for event_id in event_ids:
            wait_for(lambda: self.stack.sql(f"SELECT 1 FROM events WHERE event_id = '{event_id}'") == [["1"]], 20,
                     message=f"event {event_id} stored")

    def issue_of(self, event_id):
        self.wait_stored(event_id)
        return int(self.stack.sql(f"SELECT issue_id FROM events WHERE event_id = '{event_id}'")[0][0])

    def new_issue(self, message, times=1, **fields):
        ids = [self.send(message, **fields) for _ in range(times)]
        self.wait_stored(*ids)
        return self.issue_of(ids[0])

    def project_list(self, query, **params):
        params["query"] = query
        return self.get(f"/api/0/projects/{self.org}/{self.project}/issues/?{urllib.parse.urlencode(params)}")

    def ids(self, issues):
        return {int(issue["id"]) for issue in issues}

    def links(self, headers):
        return {rel: (url, results == "true", cursor) for url, rel, results, cursor in LINK.findall(headers["Link"])}

    def walk(self, path, direction="next"):
        """Follows the Link header until results="false"; returns the pages."""
        pages = []
        status, body, headers = self.call("GET", path)
        self.assertEqual(status, 200, body)
        pages.append(body)
        for _ in range(50):
            url, more, _ = self.links(headers)[direction]
            if not more:
                return pages, headers
            result = http_request(url, headers={"Authorization": f"Bearer {self.stack.credentials['ROOKERY_API_TOKEN']}"})
            self.assertEqual(result.status, 200, result.body)
            pages.append(result.json())
            headers = result.headers
        self.fail("pagination did not end")

    def tag_count(self, issue_id, key, value):
        rows = self.stack.sql(f"SELECT times_seen FROM issue_tag_values WHERE issue_id = {issue_id} "
                              f"AND key = '{key}' AND value = '{value}'")
        return int(rows[0][0]) if rows else 0

    def hourly_sum(self, issue_id):
        return int(self.stack.sql(f"SELECT coalesce(sum(count), 0) FROM issue_hourly_counts "
                                  f"WHERE issue_id = {issue_id}")[0][0])

    def add_pending_tag_delta(self, issue_id, key, value, count):
        """A tag count as a full batch leaves it for the next fold (migration 0013)."""
        self.stack.sql(f"INSERT INTO issue_tag_deltas SELECT project_id, id, '{{{key}}}', '{{{value}}}', '{{{count}}}', "
                       f"'{{1700000000000}}', '{{1700000000000}}' FROM issues WHERE id = {issue_id}")

    def settle_folds(self, word):
        """After a batch the worker folds once more when it goes idle, then not again until the next
        batch: waits for that fold (it sums a sentinel delta), so that deltas the test adds next
        stay pending until the test's own step folds or moves them."""
        sentinel = self.send(f"{word} sentinel")
        self.wait_stored(sentinel)
        issue = self.issue_of(sentinel)
        self.add_pending_tag_delta(issue, "sentinel", "folded", 1)
        wait_for(lambda: self.pending_tag_deltas(issue) == [], 20, message="the worker's idle fold")

    def pending_tag_deltas(self, *issue_ids):
        return self.stack.sql(f"SELECT issue_id, \"values\"[1], counts[1] FROM issue_tag_deltas "
                              f"WHERE issue_id IN ({', '.join(map(str, issue_ids))}) ORDER BY 1, 2")

    def event_count(self, issue_id):
        return int(self.stack.sql(f"SELECT count(*) FROM events WHERE issue_id = {issue_id}")[0][0])

    def second_org(self, tag):
        credentials = self.stack.bootstrap(f"other-{tag}@example.com", f"other-{tag}", f"app-{tag}")
        credentials["key"] = urllib.parse.urlsplit(credentials["ROOKERY_DSN"]).username
        return credentials

    # -- search -----------------------------------------------------------------------------------
    def test_search_terms(self):
        word = "srch" + uuid.uuid4().hex[:8]
        prod = self.new_issue(f"{word} alpha one", environment="production", release="1.0", tags={"region": "eu"})
        staging = self.new_issue(f"{word} beta two", environment="staging", release="2.0", level="warning",
                                 culprit="checkout.views_xyz")
        percent = self.new_issue(f"{word} rate 100% done")
        plain = self.new_issue(f"{word} rate 1000 done")
        resolved = self.new_issue(f"{word} gamma resolved")
        self.assertEqual(self.call("PUT", f"/api/0/issues/{resolved}/", {"status": "resolved"})[0], 200)
        everything = {prod, staging, percent, plain, resolved}

        self.assertEqual(self.ids(self.project_list(word)), everything)
        self.assertEqual(self.ids(self.project_list(f"is:unresolved {word}")), everything - {resolved})
        self.assertEqual(self.ids(self.project_list(f"is:resolved {word}")), {resolved})
        self.assertEqual(self.ids(self.project_list(f"!is:resolved {word}")), everything - {resolved})
        self.assertEqual(self.ids(self.project_list(f"is:ignored {word}")), set())
        self.assertEqual(self.ids(self.project_list(f"level:warning {word}")), {staging})
        self.assertEqual(self.ids(self.project_list(f"environment:production {word}")), {prod})
        self.assertEqual(self.ids(self.project_list(f"release:2.0 {word}")), {staging})
        self.assertEqual(self.ids(self.project_list(f"region:eu {word}")), {prod})
        self.assertEqual(self.ids(self.project_list(f"!region:eu {word}")), everything - {prod})
        self.assertEqual(self.ids(self.project_list(f"has:region {word}")), {prod})
        self.assertEqual(self.ids(self.project_list(f'"{word} alpha one"')), {prod})
        self.assertEqual(self.ids(self.project_list(f'{word} "100%"')), {percent})  # % is not a wildcard
        self.assertEqual(self.ids(self.project_list(f'{word} "rate 1_0"')), set())  # nor is _
        self.assertEqual(self.ids(self.project_list(f"{word} views_xyz")), {staging})  # culprit
        self.assertEqual(self.ids(self.project_list(f"{word} ALPHA")), {prod})  # case-insensitive
        # The default is Sentry's: unresolved only; an empty query lists every status.
        default = self.get(f"/api/0/projects/{self.org}/{self.project}/issues/?limit=100")
        self.assertNotIn(resolved, self.ids(default))

        org_path = f"/api/0/organizations/{self.org}/issues/"
        self.assertEqual(self.ids(self.get(org_path + "?" + urllib.parse.urlencode({"query": word}))), everything)
        self.assertEqual(self.ids(self.get(org_path + "?" + urllib.parse.urlencode(
            {"query": word, "project": self.stack.project_id}))), everything)
        self.assertEqual(self.get(org_path + "?" + urllib.parse.urlencode({"query": word, "project": 999999})), [])

    def test_bad_list_input_is_400(self):
        base = f"/api/0/projects/{self.org}/{self.project}/issues/"
        for params in [{"sort": "priority"}, {"statsPeriod": "7x"}, {"limit": "0"}, {"limit": "101"},
                       {"limit": "x"}, {"cursor": "garbage!"}, {"query": '"unterminated'}, {"query": "is:bogus"},
                       {"query": "release:"}, {"query": "x" * 2001}]:
            status, body, _ = self.call("GET", base + "?" + urllib.parse.urlencode(params))
            self.assertEqual(status, 400, (params, body))
            self.assertIn("detail", body)
        status, body, _ = self.call("GET", f"/api/0/organizations/{self.org}/issues/?project=abc")
        self.assertEqual(status, 400, body)
        # Bytes PostgreSQL would refuse, and cursors that were never ours, are the client's error.
        far = base64.urlsafe_b64encode(b"f:9223372036854775807:1").decode().rstrip("=")
        for query in ["query=release%3A%FF", "query=%00", f"cursor={far}", "cursor=Zjox"]:
            status, body, _ = self.call("GET", f"{base}?{query}")
            self.assertEqual(status, 400, (query, body))
        issue_id = self.new_issue("bad bytes " + uuid.uuid4().hex[:8])
        self.assertEqual(self.call("GET", f"/api/0/issues/{issue_id}/tags/%FF/values/")[0], 404)
        self.assertEqual(self.call("GET", f"/api/0/projects/{self.org}/%FF/issues/")[0], 404)
        self.assertEqual(self.call("PUT", f"/api/0/issues/{issue_id}/", b'{"assignedTo": "\xff"}')[0], 400)
        self.assertEqual(self.call("GET", f"/api/0/issues/{issue_id}/events/?cursor={far}")[0], 400)
        self.assertEqual(self.call("POST", base, {})[0], 405)

    # -- sorting, pagination, stats ---------------------------------------------------------------
    def test_sort_orders(self):
        word = "sort" + uuid.uuid4().hex[:8]
        once = self.new_issue(f"{word} once", user={"id": "u1"})
        thrice = self.new_issue(f"{word} thrice", times=3)
        twice_ids = [self.send(f"{word} twice", user={"id": f"u{n}"}) for n in range(2)]
        self.wait_stored(*twice_ids)
        twice = self.issue_of(twice_ids[0])

        def order(sort):
            return [int(issue["id"]) for issue in self.project_list(word, sort=sort)]

        self.assertEqual(order("freq"), [thrice, twice, once])
        self.assertEqual(order("user"), [twice, once, thrice])
        self.assertEqual(order("new"), [twice, thrice, once])
        self.assertEqual(order("date"), [twice, thrice, once])
        self.wait_stored(self.send(f"{word} once", user={"id": "u1"}))
        self.assertEqual(order("date"), [once, twice, thrice])
        self.assertEqual(order("new"), [twice, thrice, once])  # first seen does not move

    def test_pagination_follows_link_cursors_both_ways(self):
        word = "page" + uuid.uuid4().hex[:8]
        # Words, not numbers: grouping treats numbers in messages as parameters.
        names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
        created = {self.new_issue(f"{word} number {name}", times=1 + n % 3) for n, name in enumerate(names)}
        for sort in ["date", "new", "freq", "user"]:
            path = f"/api/0/projects/{self.org}/{self.project}/issues/?" + urllib.parse.urlencode(
                {"query": word, "limit": 2, "sort": sort})
            pages, last_headers = self.walk(path)
            self.assertEqual([len(page) for page in pages], [2, 2, 2, 1], sort)
            flat = [int(issue["id"]) for page in pages for issue in page]
            self.assertEqual(len(flat), len(set(flat)), sort)  # no duplicates
            self.assertEqual(set(flat), created, sort)  # none missing
            self.assertEqual(flat, [int(issue["id"]) for issue in self.project_list(word, sort=sort)], sort)
            # And back from the last page, following rel="previous".
            previous_url = self.links(last_headers)["previous"][0]
            backward = []
            url = previous_url
            while True:
                result = http_request(url, headers={
                    "Authorization": f"Bearer {self.stack.credentials['ROOKERY_API_TOKEN']}"})
                page = result.json()
                backward = [int(issue["id"]) for issue in page] + backward
                url, more, _ = self.links(result.headers)["previous"]
                if not more:
                    break
            self.assertEqual(backward, flat[:6], sort)
        first = self.call("GET", f"/api/0/organizations/{self.org}/issues/?" + urllib.parse.urlencode(
            {"query": word, "limit": 2}))[2]
        links = self.links(first)
        self.assertFalse(links["previous"][1])
        self.assertTrue(links["next"][1])
        self.assertTrue(links["next"][0].startswith(f"http://127.0.0.1:{self.stack.web_port}/api/0/organizations/"))

    def test_org_list_pages_across_projects(self):
        # The organization's list takes each project's first page and merges them: pages must
        # interleave the projects in the sort's order, in both directions, and match one big page.
        word = "orgpage" + uuid.uuid4().hex[:8]
        other = self.stack.bootstrap("admin@example.com", self.org, "pages-" + uuid.uuid4().hex[:6])
        other["key"] = urllib.parse.urlsplit(other["ROOKERY_DSN"]).username
        names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
        created = set()
        for n, name in enumerate(names):
            ids = [self.send(f"{word} item {name}", project=other if n % 2 else None) for _ in range(1 + n % 3)]
            self.wait_stored(*ids)
            created.add(self.issue_of(ids[0]))
        base = f"/api/0/organizations/{self.org}/issues/?"
        for sort in ["date", "new", "freq", "user"]:
            whole = [int(issue["id"]) for issue in self.get(base + urllib.parse.urlencode({"query": word, "sort": sort}))]
            self.assertEqual(set(whole), created, sort)
            pages, last_headers = self.walk(base + urllib.parse.urlencode({"query": word, "limit": 3, "sort": sort}))
            self.assertEqual([len(page) for page in pages], [3, 3, 2], sort)
            self.assertEqual([int(issue["id"]) for page in pages for issue in page], whole, sort)
            backward = []
            url = self.links(last_headers)["previous"][0]
            while True:
                result = http_request(url, headers={
                    "Authorization": f"Bearer {self.stack.credentials['ROOKERY_API_TOKEN']}"})
                backward = [int(issue["id"]) for issue in result.json()] + backward
                url, more, _ = self.links(result.headers)["previous"]
                if not more:
                    break
            self.assertEqual(backward, whole[:6], sort)
        # Restricted to one project, the same list keeps only that project's issues.
        only = self.get(base + urllib.parse.urlencode({"query": word, "project": other["ROOKERY_PROJECT_ID"]}))
        self.assertEqual(len(only), 4)
        self.assertEqual({issue["project"]["id"] for issue in only}, {other["ROOKERY_PROJECT_ID"]})

    def test_stats_period(self):
        word = "stats" + uuid.uuid4().hex[:8]
        counts = {self.new_issue(f"{word} a", times=3): 3, self.new_issue(f"{word} b", times=1): 1}
        for period, buckets in [("24h", 24), ("14d", 14)]:
            issues = self.project_list(word, statsPeriod=period)
            self.assertEqual(self.ids(issues), set(counts))
            for issue in issues:
                series = issue["stats"][period]
                self.assertEqual(len(series), buckets)
                self.assertEqual(sum(count for _, count in series), counts[int(issue["id"])])
                self.assertEqual(int(issue["count"]), counts[int(issue["id"])])
                self.assertEqual([ts for ts, _ in series], sorted(ts for ts, _ in series))
        self.assertNotIn("stats", self.project_list(word)[0])
        # Issues last seen before the period are not listed.
        old = self.new_issue(f"{word} old")
        self.stack.sql(f"UPDATE issues SET last_seen = now() - interval '2 days' WHERE id = {old}")
        self.assertNotIn(old, self.ids(self.project_list(word, statsPeriod="24h")))
        self.assertIn(old, self.ids(self.project_list(word, statsPeriod="14d")))

    def test_issue_detail_carries_24h_and_30d_stats(self):
        word = "graph" + uuid.uuid4().hex[:8]
        issue_id = self.new_issue(f"{word} graphed", times=3)
        # An hour two days ago: outside the 24 hours, inside the 30 days.
        self.stack.sql(f"INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count) "
                       f"SELECT project_id, id, date_trunc('hour', now()) - interval '2 days', 4 "
                       f"FROM issues WHERE id = {issue_id}")
        for answer in (self.get(f"/api/0/issues/{issue_id}/"), self.get(f"/api/0/issues/{issue_id}/?statsPeriod=30d"),
                       self.call("PUT", f"/api/0/issues/{issue_id}/", {"status": "unresolved"})[1]):
            stats = answer["stats"]
            self.assertEqual(set(stats), {"24h", "30d"})
            hourly, daily = stats["24h"], stats["30d"]
            self.assertEqual((len(hourly), len(daily)), (24, 30))
            self.assertEqual(sum(count for _, count in hourly), 3)
            self.assertEqual(sum(count for _, count in daily), 7)
            for series, step in ((hourly, 3600), (daily, 86400)):
                stamps = [ts for ts, _ in series]
                self.assertEqual([b - a for a, b in zip(stamps, stamps[1:])], [step] * (len(stamps) - 1))
                self.assertTrue(all(isinstance(ts, int) and isinstance(n, int) for ts, n in series))
            self.assertLessEqual(hourly[-1][0], time.time())
            self.assertGreater(hourly[-1][0], time.time() - 3600)

    # -- one issue, bulk changes ------------------------------------------------------------------
    def test_assign_and_delete(self):
        word = "assign" + uuid.uuid4().hex[:8]
        issue_id = self.new_issue(f"{word} issue", times=2)
        status, issue, _ = self.call("PUT", f"/api/0/issues/{issue_id}/", {"assignedTo": "admin@example.com"})
        self.assertEqual(status, 200, issue)
        user_id = self.stack.sql("SELECT id FROM users WHERE email = 'admin@example.com'")[0][0]
        self.assertEqual(issue["assignedTo"]["id"], user_id)
        self.assertEqual(issue["assignedTo"]["email"], "admin@example.com")
        self.assertEqual(issue["assignedTo"]["type"], "user")
        self.assertEqual(self.ids(self.project_list(f"is:assigned {word}")), {issue_id})
        self.assertEqual(self.ids(self.project_list(f"assigned:me {word}")), {issue_id})
        self.assertEqual(self.ids(self.project_list(f"is:unassigned {word}")), set())
        self.assertEqual(self.call("PUT", f"/api/0/issues/{issue_id}/", {"assignedTo": None})[1]["assignedTo"], None)
        status, issue, _ = self.call("PUT", f"/api/0/issues/{issue_id}/", {"assignedTo": f"user:{user_id}",
                                                                          "status": "resolved"})
        self.assertEqual((issue["assignedTo"]["id"], issue["status"]), (user_id, "resolved"))
        self.assertEqual(self.get(f"/api/0/issues/{issue_id}/")["assignedTo"]["id"], user_id)
        outsider = self.second_org("assignee")
        status, body, _ = self.call("PUT", f"/api/0/issues/{issue_id}/", {"assignedTo": "other-assignee@example.com"})
        self.assertEqual(status, 400, body)
        self.assertIn("assignedTo", body["detail"])
        for bad in [{"assignedTo": [1]}, {"unknown": 1}, b"[]", {"status": "done"}]:
            self.assertEqual(self.call("PUT", f"/api/0/issues/{issue_id}/", bad)[0], 400, bad)
        del outsider

        status, body, _ = self.call("DELETE", f"/api/0/issues/{issue_id}/")
        self.assertEqual(status, 202, body)
        self.assertEqual(self.call("GET", f"/api/0/issues/{issue_id}/")[0], 404)
        self.assertEqual(self.event_count(issue_id), 0)
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM group_hashes WHERE issue_id = {issue_id}"), [["0"]])
        self.assertEqual(self.hourly_sum(issue_id), 0)
        self.assertEqual(self.call("DELETE", f"/api/0/issues/{issue_id}/")[0], 404)

    def test_bulk_status_and_delete(self):
        word = "bulk" + uuid.uuid4().hex[:8]
        a, b, c = (self.new_issue(f"{word} {n}") for n in "abc")
        base = f"/api/0/projects/{self.org}/{self.project}/issues/"
        status, body, _ = self.call("PUT", f"{base}?id={a}&id={b}", {"status": "ignored",
                                                                       "statusDetails": {"ignoreCount": 5}})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"status": "ignored", "statusDetails": {"ignoreCount": 5}})
        self.assertEqual(self.ids(self.project_list(f"is:ignored {word}")), {a, b})
        status, body, _ = self.call("PUT", f"/api/0/organizations/{self.org}/issues/?id={a}&id={c}",
                                    {"status": "resolved"})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.ids(self.project_list(f"is:resolved {word}")), {a, c})
        for path, body in [(base, {"status": "resolved"}), (f"{base}?id=x", {"status": "resolved"}),
                           (f"{base}?id={a}", {"status": "nope"}), (f"{base}?id={a}", b"{"),
                           (f"{base}?id={a}", {"merge": 1})]:
            self.assertEqual(self.call("PUT", path, body)[0], 400, (path, body))
        self.assertEqual(self.call("PUT", f"{base}?id={a}&id=987654321", {"status": "resolved"})[0], 404)
        self.add_pending_tag_delta(a, "region", "pending", 2)
        status, _, _ = self.call("DELETE", f"{base}?id={a}&id={b}")
        self.assertEqual(status, 204)
        self.assertEqual(self.ids(self.project_list(word)), {c})
        self.assertEqual(self.event_count(a) + self.event_count(b), 0)
        # Their tag counts go too, pending ones included (no foreign key: a trigger on issues).
        self.assertEqual(self.pending_tag_deltas(a, b), [])
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM issue_tag_values WHERE issue_id IN ({a}, {b})"), [["0"]])

    # -- merge and unmerge ------------------------------------------------------------------------
    def test_merge_then_unmerge_keeps_counts_exact(self):
        word = "merge" + uuid.uuid4().hex[:8]
        a_ids = [self.send(f"{word} first", environment="production", user={"id": user}) for user in ["alice", "bob"]]
        self.wait_stored(*a_ids)
        b_ids = [self.send(f"{word} second", environment="staging", user={"id": user})
                 for user in ["bob", "carol", "carol"]]
        self.wait_stored(*b_ids)
        c_ids = [self.send(f"{word} third")]
        self.wait_stored(*c_ids)
        self.settle_folds(word)
        a, b, c = self.issue_of(a_ids[0]), self.issue_of(b_ids[0]), self.issue_of(c_ids[0])
        before = {key: self.stack.sql(f"SELECT key, value, sum(times_seen) FROM issue_tag_values WHERE issue_id IN "
                                      f"({a}, {b}, {c}) GROUP BY key, value ORDER BY key, value")
                  for key in ["tags"]}["tags"]

        # A child's tag counts still pending (a fold has not summed them yet) follow it to the parent.
        self.add_pending_tag_delta(b, "region", "pending", 2)
        status, body, _ = self.call("PUT", f"/api/0/projects/{self.org}/{self.project}/issues/?id={c}&id={b}&id={a}",
                                    {"merge": 1})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"merge": {"parent": str(a), "children": [str(b), str(c)]}})  # the oldest is kept
        parent = self.get(f"/api/0/issues/{a}/")
        self.assertEqual(parent["count"], "6")
        self.assertEqual(parent["userCount"], 3)  # alice, bob, carol
        self.assertEqual(self.event_count(a), 6)
        self.assertEqual(self.hourly_sum(a), 6)
        self.assertEqual(self.tag_count(a, "environment", "production"), 2)
        self.assertEqual(self.tag_count(a, "environment", "staging"), 3)
        self.assertEqual(self.tag_count(a, "level", "error"), 6)
        after = self.stack.sql(f"SELECT key, value, times_seen FROM issue_tag_values WHERE issue_id = {a} "
                               f"ORDER BY key, value")
        self.assertEqual(after, before)
        for child in (b, c):
            self.assertEqual(self.call("GET", f"/api/0/issues/{child}/")[0], 404)
        self.assertEqual(self.pending_tag_deltas(a, b, c), [[str(a), "pending", "2"]])
        # The children's hashes now lead to the parent. That event's batch folds the pending counts.
        self.assertEqual(self.issue_of(self.send(f"{word} second", environment="staging", user={"id": "bob"})), a)
        self.assertEqual(self.get(f"/api/0/issues/{a}/")["count"], "7")
        self.assertEqual(self.pending_tag_deltas(a), [])
        self.assertEqual(self.tag_count(a, "region", "pending"), 2)

        hashes = self.get(f"/api/0/issues/{a}/hashes/")
        self.assertEqual(len(hashes), int(self.stack.sql(f"SELECT count(*) FROM group_hashes WHERE issue_id = {a}")[0][0]))
        second_hash = self.stack.sql(f"SELECT hashes[1] FROM events WHERE event_id = '{b_ids[0]}'")[0][0]
        by_id = {h["id"]: h for h in hashes}
        self.assertIn(second_hash, by_id)
        self.assertEqual(by_id[second_hash]["latestEvent"]["groupID"], str(a))

        # Unmerging counts the issue's events again: counts still pending for it must not be added on top.
        self.add_pending_tag_delta(a, "region", "pending-split", 5)
        status, body, _ = self.call("PUT", f"/api/0/issues/{a}/hashes/?id={second_hash}")
        self.assertEqual(status, 202, body)
        self.assertEqual(self.pending_tag_deltas(a), [])
        split = int(body["id"])
        self.assertNotEqual(split, a)
        moved = self.get(f"/api/0/issues/{split}/")
        kept = self.get(f"/api/0/issues/{a}/")
        self.assertEqual((kept["count"], moved["count"]), ("3", "4"))
        self.assertEqual((kept["userCount"], moved["userCount"]), (2, 2))  # alice+bob / bob+carol
        self.assertEqual((self.event_count(a), self.event_count(split)), (3, 4))
        self.assertEqual((self.hourly_sum(a), self.hourly_sum(split)), (3, 4))
        self.assertEqual(self.tag_count(split, "environment", "staging"), 4)
        self.assertEqual(self.tag_count(a, "environment", "staging"), 0)
        self.assertEqual(self.tag_count(a, "environment", "production"), 2)
        self.assertEqual(self.tag_count(a, "level", "error"), 3)
        self.assertEqual(self.tag_count(split, "user", "id:carol"), 2)
        self.assertEqual(moved["title"], f"{word} second")
        self.assertEqual(self.issue_of(self.send(f"{word} second")), split)
        # That event's batch folded whatever was pending: nothing of the dropped counts came back.
        self.assertEqual(self.tag_count(a, "region", "pending-split"), 0)
        self.assertEqual(self.tag_count(a, "region", "pending"), 0)  # recounted from the events, which lack it

        for bad in [f"?id={second_hash}", "?id=nothex", ""]:
            self.assertEqual(self.call("PUT", f"/api/0/issues/{a}/hashes/{bad}")[0], 400, bad)
        only_hash = self.get(f"/api/0/issues/{split}/hashes/")[0]["id"]
        status, body, _ = self.call("PUT", f"/api/0/issues/{split}/hashes/?id={only_hash}")
        self.assertEqual(status, 400, body)

    # -- events -----------------------------------------------------------------------------------
    def test_events_endpoints(self):
        word = "events" + uuid.uuid4().hex[:8]
        sent = []
        for _ in range(5):
            sent.append(self.send(f"{word} event"))
            self.wait_stored(sent[-1])
        issue_id = self.issue_of(sent[0])
        pages, _ = self.walk(f"/api/0/issues/{issue_id}/events/?limit=2")
        listed = [event["eventID"] for page in pages for event in page]
        self.assertEqual(listed, list(reversed(sent)))  # newest first, none twice
        self.assertEqual([len(page) for page in pages], [2, 2, 1])
        self.assertEqual(self.get(f"/api/0/issues/{issue_id}/events/latest/")["eventID"], sent[-1])
        self.assertEqual(self.get(f"/api/0/issues/{issue_id}/events/oldest/")["eventID"], sent[0])
        one = self.get(f"/api/0/issues/{issue_id}/events/{sent[2]}/")
        self.assertEqual((one["eventID"], one["groupID"]), (sent[2], str(issue_id)))
        dashed = str(uuid.UUID(sent[1]))
        self.assertEqual(self.get(f"/api/0/issues/{issue_id}/events/{dashed}/")["eventID"], sent[1])
        project_event = self.get(f"/api/0/projects/{self.org}/{self.project}/events/{sent[3]}/")
        self.assertEqual(project_event["groupID"], str(issue_id))
        other = self.new_issue(f"{word} elsewhere")
        other_event = self.stack.sql(f"SELECT replace(event_id::text, '-', '') FROM events "
                                     f"WHERE issue_id = {other}")[0][0]
        for path in [f"/api/0/issues/{issue_id}/events/{other_event}/", f"/api/0/issues/{issue_id}/events/zz/",
                     f"/api/0/projects/{self.org}/{self.project}/events/{uuid.uuid4().hex}/"]:
            self.assertEqual(self.call("GET", path)[0], 404, path)
        self.assertEqual(self.call("GET", f"/api/0/issues/{issue_id}/events/?cursor=bad")[0], 400)

        # Navigation: Sentry's previousEventID / nextEventID by received time within the issue.
        latest = self.get(f"/api/0/issues/{issue_id}/events/latest/")
        oldest = self.get(f"/api/0/issues/{issue_id}/events/oldest/")
        self.assertEqual((latest["previousEventID"], latest["nextEventID"]), (sent[-2], None))
        self.assertEqual((oldest["previousEventID"], oldest["nextEventID"]), (None, sent[1]))
        self.assertEqual((one["previousEventID"], one["nextEventID"]), (sent[1], sent[3]))
        self.assertEqual((project_event["previousEventID"], project_event["nextEventID"]), (sent[2], sent[4]))
        walked, event_id = [], sent[0]
        while event_id:
            walked.append(event_id)
            event_id = self.get(f"/api/0/issues/{issue_id}/events/{event_id}/")["nextEventID"]
        self.assertEqual(walked, sent)
        self.assertEqual(self.get(f"/api/0/issues/{other}/events/latest/")["previousEventID"], None)

    def test_event_extra_is_context(self):
        word = "extra" + uuid.uuid4().hex[:8]
        extra = {"order_id": 42, "cart": {"items": ["a", "b"]}, "note": "<script>x</script>"}
        event_id = self.send(f"{word} with extra", extra=extra)
        issue_id = self.issue_of(event_id)
        for path in (f"/api/0/projects/{self.org}/{self.project}/events/{event_id}/",
                     f"/api/0/issues/{issue_id}/events/latest/"):
            self.assertEqual(self.get(path)["context"], extra, path)
        bare = self.send(f"{word} without extra")
        self.wait_stored(bare)
        self.assertEqual(self.get(f"/api/0/projects/{self.org}/{self.project}/events/{bare}/")["context"], {})

    # -- tags -------------------------------------------------------------------------------------
    def test_tags(self):
        word = "tags" + uuid.uuid4().hex[:8]
        ids = [self.send(f"{word} tagged", environment=env, tags={"region": region})
               for env, region in [("production", "eu"), ("production", "us"), ("staging", "eu"),
                                   ("production", "ap")]]
        self.wait_stored(*ids)
        issue_id = self.issue_of(ids[0])
        tags = {tag["key"]: tag for tag in self.get(f"/api/0/issues/{issue_id}/tags/")}
        environment = tags["environment"]
        self.assertEqual(environment["name"], "Environment")
        self.assertEqual(environment["totalValues"], 4)
        self.assertEqual([(v["value"], v["count"]) for v in environment["topValues"]],
                         [("production", 3), ("staging", 1)])
        self.assertIn("firstSeen", environment["topValues"][0])
        self.assertEqual(tags["region"]["totalValues"], 4)
        self.assertEqual(tags["level"]["topValues"][0]["value"], "error")

        pages, _ = self.walk(f"/api/0/issues/{issue_id}/tags/region/values/?limit=1")
        values = [(v["value"], v["count"]) for page in pages for v in page]
        self.assertEqual(values, [("eu", 2), ("ap", 1), ("us", 1)])
        self.assertEqual(pages[0][0]["key"], "region")
        self.assertEqual(self.call("GET", f"/api/0/issues/{issue_id}/tags/nosuchkey/values/")[0], 404)

    # -- alert rules ------------------------------------------------------------------------------
    def test_rules_crud_and_cron_uses_them(self):
        other = self.second_org("rules")
        token = other["ROOKERY_API_TOKEN"]
        base = f"/api/0/projects/other-rules/app-rules/rules/"
        default = self.get(base, token=token)
        self.assertEqual(len(default), 1)
        self.assertEqual({c["id"] for c in default[0]["conditions"]},
                         {FIRST_SEEN, "sentry.rules.conditions.regression_event.RegressionEventCondition"})
        rule = {
            "name": "API-made rule", "actionMatch": "any", "filterMatch": "all", "frequency": 30,
            "environment": "production",
            "conditions": [{"id": FIRST_SEEN},
                           {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
                            "value": 50, "interval": "1h"}],
            "filters": [{"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"},
                        {"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": "region",
                         "match": "eq", "value": "eu"}],
            "actions": [{"id": EMAIL, "targetType": "Member", "targetIdentifier": "oncall@example.com"},
                        {"id": WEBHOOK, "service": "webhooks", "url": "http://127.0.0.1:1/hook", "secret": "k"}],
        }
        status, created, _ = self.call("POST", base, rule, token=token)
        self.assertEqual(status, 201, created)
        rule_id = created["id"]
        self.assertEqual(created["environment"], "production")
        self.assertEqual(created["filters"][0]["level"], "40")
        self.assertEqual(created["conditions"][1]["interval"], "1h")
        self.assertEqual(created["actions"][1]["hasSecret"], True)
        stored = self.stack.sql(f"SELECT on_new, frequency_count, frequency_minutes, min_level, environment, "
                                f"tag_filters::text, email_addresses::text, webhook_url, webhook_secret "
                                f"FROM alert_rules WHERE id = {rule_id}")
        self.assertEqual(stored, [["t", "50", "60", "error", "production", '{"region": "eu"}', "{oncall@example.com}",
                                   "http://127.0.0.1:1/hook", "k"]])
        self.assertEqual(self.get(f"{base}{rule_id}/", token=token), created)
        self.assertEqual({r["id"] for r in self.get(base, token=token)}, {default[0]["id"], rule_id})

        # A PUT of what GET showed keeps the secret it does not show.
        changed = dict(created, name="Renamed")
        status, updated, _ = self.call("PUT", f"{base}{rule_id}/", changed, token=token)
        self.assertEqual(status, 200, updated)
        self.assertEqual(updated["name"], "Renamed")
        self.assertEqual(self.stack.sql(f"SELECT webhook_secret FROM alert_rules WHERE id = {rule_id}"), [["k"]])

        self.assertEqual(self.call("DELETE", f"{base}{default[0]['id']}/", token=token)[0], 202)
        self.assertEqual(self.call("GET", f"{base}{default[0]['id']}/", token=token)[0], 404)

        # Cron reads the rule as the API stored it: a matching new issue notifies its channels,
        # one that fails a filter does not.
        probe = b'{}\n{"type":"client_report"}\n{"discarded_events":[]}\n'
        wait_for(lambda: self.stack.relay_post(f"/api/{other['ROOKERY_PROJECT_ID']}/envelope/", probe,
                                               self.stack.auth_header(other["key"])).status == 200, 10,
                 message="the relay knows the new key")
        matching = self.issue_of(self.send("rule match", project=other, environment="production",
                                           tags={"region": "eu"}))
        missing = self.issue_of(self.send("rule miss", project=other, environment="production",
                                          tags={"region": "us"}))
        wait_for(lambda: self.stack.sql(f"SELECT channel FROM alert_notifications WHERE rule_id = {rule_id} "
                                        f"AND issue_id = {matching} ORDER BY channel") ==
                 [["email:oncall@example.com"], [f"webhook:{rule_id}"]], 30, message="cron notified the rule")
        wait_for(lambda: self.stack.sql(f"SELECT count(*) FROM issue_activities WHERE issue_id = {missing} "
                                        f"AND dispatched_at IS NOT NULL") == [["1"]], 30, message="cron saw it")
        self.assertEqual(self.stack.sql(f"SELECT count(*) FROM alert_notifications WHERE issue_id = {missing}"),
                         [["0"]])

        for bad, fragment in [
                (dict(rule, conditions=[{"id": "sentry.rules.conditions.nope.Nope"}]), "sentry.rules.conditions.nope.Nope"),
                (dict(rule, filters=[{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter"}]),
                 "AgeComparisonFilter"),
                (dict(rule, actions=[{"id": "sentry.rules.actions.Unknown"}]), "sentry.rules.actions.Unknown"),
                (dict(rule, actions=[{"id": WEBHOOK, "url": "ftp://example.com/"}]), "http"),
                (dict(rule, name=""), "name"), ({}, "name")]:
            status, body, _ = self.call("POST", base, bad, token=token)
            self.assertEqual(status, 400, bad)
            self.assertIn(fragment, body["detail"])
        self.assertEqual(self.call("POST", base, b"not json", token=token)[0], 400)

        self.stack.sql("INSERT INTO api_tokens (user_id, token_hash, name, scopes) SELECT id, "
                       "sha256(convert_to('rules-read-only', 'UTF8')), 'ro', ARRAY['project:read'] "
                       "FROM users WHERE email = 'other-rules@example.com'")
        self.assertEqual(self.call("GET", base, token="rules-read-only")[0], 200)
        self.assertEqual(self.call("POST", base, rule, token="rules-read-only")[0], 403)
        self.assertEqual(self.call("DELETE", f"{base}{rule_id}/", token="rules-read-only")[0], 403)
        self.assertEqual(self.call("DELETE", f"{base}{rule_id}/", token=token)[0], 202)
        self.assertEqual(self.call("GET", f"{base}{rule_id}/", token=token)[0], 404)

    # -- isolation --------------------------------------------------------------------------------
    def test_other_organizations_see_nothing(self):
        word = "iso" + uuid.uuid4().hex[:8]
        event_id = self.send(f"{word} private")
        issue_id = self.issue_of(event_id)
        rule_id = self.get(f"/api/0/projects/{self.org}/{self.project}/rules/")[0]["id"]
        token = self.second_org("isolation")["ROOKERY_API_TOKEN"]
        own_project = f"/api/0/projects/other-isolation/app-isolation/issues/"
        hashes = self.get(f"/api/0/issues/{issue_id}/hashes/")
        rule = self.get(f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/")
        checks = [
            ("GET", f"/api/0/projects/{self.org}/{self.project}/issues/", None),
            ("GET", f"/api/0/organizations/{self.org}/issues/", None),
            ("GET", f"/api/0/issues/{issue_id}/", None),
            ("PUT", f"/api/0/issues/{issue_id}/", {"status": "resolved"}),
            ("DELETE", f"/api/0/issues/{issue_id}/", None),
            ("GET", f"/api/0/issues/{issue_id}/events/", None),
            ("GET", f"/api/0/issues/{issue_id}/events/latest/", None),
            ("GET", f"/api/0/issues/{issue_id}/events/oldest/", None),
            ("GET", f"/api/0/issues/{issue_id}/events/{event_id}/", None),
            ("GET", f"/api/0/projects/{self.org}/{self.project}/events/{event_id}/", None),
            ("GET", f"/api/0/issues/{issue_id}/hashes/", None),
            ("PUT", f"/api/0/issues/{issue_id}/hashes/?id={hashes[0]['id']}", None),
            ("GET", f"/api/0/issues/{issue_id}/tags/", None),
            ("GET", f"/api/0/issues/{issue_id}/tags/level/values/", None),
            ("PUT", f"/api/0/projects/{self.org}/{self.project}/issues/?id={issue_id}", {"status": "resolved"}),
            ("DELETE", f"/api/0/organizations/{self.org}/issues/?id={issue_id}", None),
            # Its own endpoints, naming the first organization's issue:
            ("PUT", f"{own_project}?id={issue_id}", {"status": "resolved"}),
            ("PUT", f"/api/0/organizations/other-isolation/issues/?id={issue_id}", {"merge": 1}),
            ("DELETE", f"{own_project}?id={issue_id}", None),
            ("GET", f"/api/0/projects/{self.org}/{self.project}/rules/", None),
            ("POST", f"/api/0/projects/{self.org}/{self.project}/rules/", dict(rule, id=None)),
            ("GET", f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/", None),
            ("PUT", f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/", rule),
            ("DELETE", f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/", None),
            # Bodies that would be refused: ownership is checked first, so still 404, not 400.
            ("POST", f"/api/0/projects/{self.org}/{self.project}/rules/", {"name": ""}),
            ("PUT", f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/", {"conditions": 5}),
            ("PUT", f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/", []),
        ]
        for method, path, body in checks:
            status, answer, _ = self.call(method, path, body, token=token)
            self.assertEqual(status, 404, (method, path, answer))
        # Its own lists are empty, and nothing changed.
        self.assertEqual(self.get(own_project + "?query=", token=token), [])
        self.assertEqual(self.get("/api/0/organizations/other-isolation/issues/?query=", token=token), [])
        self.assertEqual(self.get(f"/api/0/issues/{issue_id}/")["status"], "unresolved")
        self.assertEqual(self.get(f"/api/0/projects/{self.org}/{self.project}/rules/{rule_id}/"), rule)


if __name__ == "__main__":
    import unittest
    unittest.main()
