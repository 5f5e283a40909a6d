// Drives the web UI in Debian's Chromium (never a downloaded browser) with playwright-core from
// tests/clients. Usage: node web_ui.mjs <scenario> '<json args>'; prints one JSON line of what it
// saw, and exits 1 (with a screenshot next to the others) when a step fails.
//   token: sign in with an API token, open a project's issues, open an issue, resolve it
//   xss:   open an issue whose event carries markup, record dialogs and injected elements
//   settings: project settings (retention, a sensitive field) saved and reloaded, the server's
//          400 shown, an alert rule created, edited and another deleted, alert mail turned off in
//          the account settings
//   searchmerge: a level: search and a free-text search narrow the issue list; two issues
//          selected and merged leave one, with the events of both
//   invite: an admin invites a member in the organization settings and reads the link; the link
//          opened signed out sets the password and signs in; "Forgot password?" asks for a reset
//   reset: a reset link (from the mail) sets a new password; opened again it is refused
//   issuepage: the event graph (24h/30d), tag facets, Older/Newer between events (URL per event)
//   keys:  a count-only rate limit (60 s window), Rotate asks first, a member sees no admin actions
//   memberteams: team checkboxes on a member's row in the organization settings (join, leave)
//   narrow: at 375 px the menu button opens the nav; project and organization settings reached
//   full:  first-run setup, sign out and in, create a Python project, send an error with the DSN
//          the page shows, see the issue and its stack trace, resolve it
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "clients", "package.json"));
const { chromium } = require("playwright-core");

const [scenario, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs || "{}");
const CHROMIUM = process.env.ROOKERY_CHROMIUM || "/usr/bin/chromium";
const result = { scenario, steps: [], dialogs: [], pageErrors: [], console: [], cspViolations: [] };

function step(name) {
  result.steps.push(name);
}

async function shot(page, name) {
  if (!args.screenshots) return;
  fs.mkdirSync(args.screenshots, { recursive: true });
  await page.screenshot({ path: path.join(args.screenshots, `${name}.png`), fullPage: false });
}

async function signInWithToken(page) {
  await page.goto(`${args.base}/`);
  await page.waitForURL(/\/login\//);
  step("redirected to login");
  // Without accounts on the server the page offers the token form by itself; otherwise the link.
  const tokenField = page.locator('input[name="token"]');
  const useToken = page.getByRole("button", { name: "Use an API token" });
  await tokenField.or(useToken).waitFor();
  if (!(await tokenField.isVisible())) await useToken.click();
  await tokenField.waitFor();
  if (scenario === "token") await shot(page, "login");
  await tokenField.fill(args.token);
  await page.getByRole("button", { name: "Continue with token" }).click();
  step("signed in with token");
}

async function openProject(page) {
  // Either the organization list (newer servers) or the "open a project" form.
  const form = page.getByRole("form", { name: "Open a project" });
  const orgLink = page.getByRole("link", { name: new RegExp(args.org) }).first();
  await Promise.race([form.waitFor({ timeout: 15000 }), orgLink.waitFor({ timeout: 15000 })]);
  if (await form.isVisible()) {
    await form.locator('input[name="org"]').fill(args.org);
    await form.locator('input[name="project"]').fill(args.project);
    await form.getByRole("button", { name: "Open issues" }).click();
  } else {
    await page.goto(`${args.base}/organizations/${args.org}/projects/${args.project}/`);
  }
  await page.waitForURL(new RegExp(`/organizations/${args.org}/projects/${args.project}/`));
  step("opened project issues");
}

async function openIssue(page, title) {
  const row = page.locator(".issue-row", { hasText: title }).first();
  for (let attempt = 0; attempt < 30 && !(await row.isVisible()); attempt++) {
    await page.waitForTimeout(500);
    await page.reload();
    await page.locator(".issue-table, .notice").first().waitFor();
  }
  await row.waitFor({ timeout: 5000 });
  result.listRow = {
    text: await row.innerText(),
    events: (await row.locator(".col-num").nth(0).innerText()).trim(),
    users: (await row.locator(".col-num").nth(1).innerText()).trim(),
  };
  step("issue listed");
  return row;
}

async function readIssuePage(page) {
  await page.locator(".frames").first().waitFor({ timeout: 15000 });
  result.issue = {
    heading: await page.locator("h1.issue-h1").innerText(),
    events: await page.getByTestId("event-count").innerText(),
    users: await page.getByTestId("user-count").innerText(),
    inAppFrames: await page.locator(".frame.in-app").count(),
    systemFrames: await page.locator(".frame.system").count(),
    collapsed: await page.locator(".frame-collapsed").allInnerTexts(),
    openFrameFunctions: await page.locator(".frame.in-app.open .frame-fn").allInnerTexts(),
    currentLines: await page.locator(".context li.current code").allInnerTexts(),
    sections: await page.locator("[data-section]").evaluateAll((els) => els.map((e) => e.getAttribute("data-section"))),
  };
  step("stack trace shown");
}

async function resolve(page) {
  await page.getByRole("button", { name: "Resolve", exact: true }).click();
  await page.getByRole("button", { name: "Unresolve" }).waitFor({ timeout: 10000 });
  result.statusAfterResolve = await page.locator(".crumbs-inline .badge").textContent();
  step("resolved");
}

const scenarios = {
  async token(page) {
    await signInWithToken(page);
    await openProject(page);
    const row = await openIssue(page, args.title);
    await shot(page, "issues");
    await row.locator("a.issue-title").click();
    await page.waitForURL(/\/organizations\/[^/]+\/issues\/\d+\//);
    await readIssuePage(page);
    await shot(page, "issue");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "issue-dark");
    await page.emulateMedia({ colorScheme: "light" });
    // Expanding collapsed system frames shows them.
    const expand = page.locator(".frame-collapsed button").first();
    if (await expand.isVisible()) {
      await expand.click();
      result.systemFramesAfterExpand = await page.locator(".frame.system").count();
    }
    await resolve(page);
    await page.goto(`${args.base}/organizations/${args.org}/projects/${args.project}/`);
    await page.locator(".issue-table").waitFor();
    result.unresolvedAfterResolve = await page.locator(".issue-row", { hasText: args.title }).count();
    if (args.dsn) {
      // This server has no key listing yet: the page gets the stack's real DSN through the
      // endpoint the tenancy API will serve, so the screenshot shows the real instructions.
      await page.route("**/api/0/projects/*/*/keys/", (route) =>
        route.fulfill({
          json: [{ id: "1", name: "Default", public: "", isActive: true, dsn: { public: args.dsn, secret: args.dsn } }],
        }),
      );
    }
    await page.goto(`${args.base}/organizations/${args.org}/projects/${args.project}/getting-started/?platform=python`);
    await page.getByTestId("dsn").waitFor({ timeout: 10000 }).catch(() => {});
    result.gettingStarted = await page.locator("main").innerText();
    await shot(page, "setup-python");
    await page.goto(`${args.base}/organizations/${args.org}/projects/new/`);
    await page.locator('.platform-tile[data-platform="python-flask"]').click();
    await shot(page, "new-project");
  },

  // The issue page: the event graph and its 24h/30d toggle, tag facets with percentages, and
  // Older/Newer between the issue's events with the shown event in the URL.
  async issuepage(page) {
    await signInWithToken(page);
    await openProject(page);
    await page.goto(`${args.base}/organizations/${args.org}/issues/${args.issueId}/`);
    const graph = page.locator(".issue-graph");
    await graph.waitFor();
    await page.locator(".event[data-event-id]").waitFor();
    const bars = graph.locator("svg.issue-chart rect");
    result.graph = {
      empty: await graph.getByTestId("graph-empty").isVisible(),
      period: await graph.getAttribute("data-period"),
      bars24h: await bars.count(),
    };
    await graph.getByRole("button", { name: "30d", exact: true }).click();
    await page.locator('.issue-graph[data-period="30d"]').waitFor();
    result.graph.bars30d = await bars.count();
    result.graph.counts30d = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-count"))));
    result.graph.text30d = await graph.innerText();
    await graph.getByRole("button", { name: "24h", exact: true }).click();
    await page.locator('.issue-graph[data-period="24h"]').waitFor();
    result.graph.counts24h = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-count"))));
    step("graph toggled");
    if (result.graph.empty) {
      // A server without issue stats yet: the drawing is checked on a stats answer made here
      // (Sentry's shape: [unix seconds, count], 24 hourly and 30 daily buckets).
      const now = Math.floor(Date.now() / 1000);
      const series = (n, size) => Array.from({ length: n }, (_, i) => [now - (n - 1 - i) * size, i === n - 1 ? 3 : i % 5]);
      await page.route(`**/api/0/issues/${args.issueId}/`, async (route) => {
        const response = await route.fetch();
        route.fulfill({ response, json: { ...(await response.json()), stats: { "24h": series(24, 3600), "30d": series(30, 86400) } } });
      });
      await page.reload();
      await page.locator(".issue-graph svg.issue-chart").waitFor();
      result.mockedGraph = { bars24h: await bars.count(), counts24h: await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-count")))) };
      await graph.getByRole("button", { name: "30d", exact: true }).click();
      await page.locator('.issue-graph[data-period="30d"]').waitFor();
      result.mockedGraph.bars30d = await bars.count();
      result.mockedGraph.text30d = await graph.innerText();
      await graph.getByRole("button", { name: "24h", exact: true }).click();
      await page.unroute(`**/api/0/issues/${args.issueId}/`);
      await page.reload();
      await page.locator(".event[data-event-id]").waitFor();
      step("graph drawn from a stats answer");
    }
    await page.locator(".tag-facet").first().waitFor();
    result.facets = await page.locator(".tag-summary").evaluateAll((els) =>
      els.map((el) => ({
        key: el.getAttribute("data-tag"),
        values: [...el.querySelectorAll(".tag-facet")].map((f) => ({
          label: f.querySelector(".tag-bar-label")?.textContent ?? "",
          percent: f.querySelector(".tag-facet-percent")?.textContent ?? "",
          width: f.querySelector(".tag-facet-fill")?.style.width ?? "",
        })),
      })),
    );
    step("tag facets");
    await shot(page, "issue-graph");
    const shownId = () => page.locator(".event[data-event-id]").getAttribute("data-event-id");
    result.firstEvent = await shownId();
    result.newerDisabledAtLatest = await page.getByRole("button", { name: "Newer →" }).isDisabled();
    await page.getByRole("button", { name: "← Older" }).click();
    await page.waitForURL(/\/issues\/\d+\/events\/[0-9a-f]+\/$/);
    await page.waitForFunction((first) => {
      const el = document.querySelector(".event[data-event-id]");
      return el && el.getAttribute("data-event-id") !== first;
    }, result.firstEvent);
    result.olderEvent = await shownId();
    result.olderUrl = new URL(page.url()).pathname;
    result.olderStillEnabled = await page.getByRole("button", { name: "← Older" }).isEnabled();
    step("older event shown");
    // The URL is a link to that event: opened afresh it shows the same one.
    await page.reload();
    await page.locator(".event[data-event-id]").waitFor();
    result.afterReload = await shownId();
    await page.getByRole("button", { name: "Newer →" }).click();
    await page.waitForFunction((older) => {
      const el = document.querySelector(".event[data-event-id]");
      return el && el.getAttribute("data-event-id") !== older;
    }, result.olderEvent);
    result.newerEvent = await shownId();
    step("newer event shown");
  },

  // Client keys: a rate limit with only a count, Rotate's confirmation, and what a member sees.
  async keys(page) {
    await signInWithToken(page);
    await page.goto(`${args.base}/organizations/${args.org}/projects/${args.project}/settings/keys/`);
    const card = page.locator(`.key-card[data-key="${args.keyId}"]`);
    await card.waitFor();
    await card.locator('input[name="count"]').fill("100");
    await card.locator('input[name="window"]').fill("");
    await card.getByRole("button", { name: "Save", exact: true }).click();
    await page.waitForFunction(
      (id) => document.querySelector(`.key-card[data-key="${id}"] input[name="window"]`)?.value === "60",
      args.keyId,
    );
    result.rateLimitErrors = await page.locator(".form-error").allInnerTexts();
    step("count-only rate limit saved");
    // A window without a count is refused before anything is sent.
    await card.locator('input[name="count"]').fill("");
    await card.locator('input[name="window"]').fill("30");
    await card.getByRole("button", { name: "Save", exact: true }).click();
    result.windowOnlyError = (await card.getByRole("alert").innerText()).trim();
    step("window without count refused");
    const before = await page.locator(".key-card").count();
    await card.getByRole("button", { name: "Rotate", exact: true }).click();
    result.rotateConfirm = (await card.getByRole("button", { name: "Disable this key now?" }).innerText()).trim();
    result.cardsWhileArmed = await page.locator(".key-card").count();
    await card.getByRole("button", { name: "Disable this key now?" }).click();
    await page.waitForFunction((n) => document.querySelectorAll(".key-card").length === n + 1, before);
    result.rotatedInactive = await page.locator(`.key-card.inactive[data-key="${args.keyId}"]`).count();
    await shot(page, "settings-keys-rotated");
    step("rotated after confirmation");
    // The same page for a member: the organization answers role "member".
    await page.route(`**/api/0/organizations/${args.org}/`, async (route) => {
      const response = await route.fetch();
      route.fulfill({ response, json: { ...(await response.json()), role: "member", orgRole: "member" } });
    });
    await page.reload();
    await page.locator('section[data-role="member"]').waitFor();
    await page.locator(".key-card").first().waitFor();
    result.member = {
      notice: (await page.getByTestId("keys-read-only").innerText()).trim(),
      dsns: await page.getByTestId("key-dsn").count(),
      buttons: await page.locator("main button").allInnerTexts(),
      forms: await page.locator("main form").count(),
    };
    await shot(page, "settings-keys-member");
    step("member sees no admin actions");
  },

  // Team checkboxes on a member's row in the organization settings; with args.toggle, the box of
  // args.team is flipped and flipped back, each time seen again after a reload.
  async memberteams(page) {
    await signInWithToken(page);
    await page.goto(`${args.base}/organizations/${args.org}/settings/`);
    const group = page.getByRole("group", { name: `Teams of ${args.email}` });
    await group.waitFor();
    const box = group.locator(`input[name="team-${args.team}"]`);
    result.teamBoxes = await group.locator('input[type="checkbox"]').count();
    result.checkedBefore = await box.isChecked();
    await shot(page, "settings-member-teams");
    if (!args.toggle) return;
    const flip = async (want) => {
      if (want) await box.check();
      else await box.uncheck();
      await page.waitForFunction(
        ([sel, on]) => document.querySelector(sel)?.checked === on && !document.querySelector(sel)?.disabled,
        [`input[name="team-${args.team}"]`, want],
      );
      await page.reload();
      await box.waitFor();
      return box.isChecked();
    };
    result.checkedAfterFlip = await flip(!result.checkedBefore);
    result.errors = await page.locator(".form-error").allInnerTexts();
    result.checkedAfterRestore = await flip(result.checkedBefore);
    step("member left and joined a team (or the other way)");
  },

  // At a phone's width the nav sits behind a menu button: project settings are reachable.
  async narrow(page) {
    await signInWithToken(page);
    await page.goto(`${args.base}/organizations/${args.org}/issues/`);
    const menu = page.getByRole("button", { name: "Menu" });
    await menu.waitFor();
    result.mainNavVisible = await page.locator(".mainnav").isVisible();
    await menu.click();
    const drawer = page.getByRole("navigation", { name: "Menu" });
    await drawer.waitFor();
    await shot(page, "narrow-menu");
    await drawer.getByRole("link", { name: "Projects", exact: true }).click();
    await page.waitForURL(new RegExp(`/organizations/${args.org}/projects/$`));
    result.drawerClosedAfterNav = !(await drawer.isVisible());
    await page.locator(`main a.project-card-main[href="/organizations/${args.org}/projects/${args.project}/"]`).click();
    await page.waitForURL(new RegExp(`/projects/${args.project}/$`));
    await menu.click();
    await drawer.getByRole("link", { name: "Project settings" }).click();
    await page.waitForURL(new RegExp(`/projects/${args.project}/settings/$`));
    await page.getByRole("form", { name: "Project settings" }).waitFor();
    result.reachedSettings = new URL(page.url()).pathname;
    await menu.click();
    await drawer.getByRole("link", { name: "Organization settings" }).click();
    await page.waitForURL(new RegExp(`/organizations/${args.org}/settings/$`));
    result.reachedOrgSettings = new URL(page.url()).pathname;
    step("settings reached through the menu");
  },

  async settings(page) {
    await signInWithToken(page);
    await openProject(page);
    await page.getByRole("link", { name: "Project settings" }).click();
    await page.waitForURL(new RegExp(`/projects/${args.project}/settings/$`));
    const form = page.getByRole("form", { name: "Project settings" });
    const retention = form.locator('input[name="retentionDays"]');
    const sensitive = form.locator('textarea[name="sensitiveFields"]');
    await retention.waitFor();
    step("project settings opened");
    // A value the server refuses: its 400 detail is shown next to the form.
    await retention.fill("0");
    await form.getByRole("button", { name: "Save changes" }).click();
    result.saveError = (await form.getByRole("alert").innerText()).trim();
    step("server error shown");
    await retention.fill(String(args.retentionDays));
    const before = await sensitive.inputValue();
    await sensitive.fill(before ? `${before}\n${args.sensitiveField}` : args.sensitiveField);
    await form.getByRole("button", { name: "Save changes" }).click();
    await form.getByRole("status").filter({ hasText: "Saved" }).waitFor();
    step("project settings saved");
    await page.reload();
    await retention.waitFor();
    result.projectAfterReload = { retentionDays: await retention.inputValue(), sensitiveFields: await sensitive.inputValue() };
    await shot(page, "settings-project");
    step("project settings reloaded");

    await page.getByRole("link", { name: "Client keys (DSN)" }).click();
    await page.locator(".key-card").first().waitFor();
    result.keyDsns = await page.getByTestId("key-dsn").allInnerTexts();
    await shot(page, "settings-keys");
    step("keys listed");

    await page.getByRole("link", { name: "Alert rules" }).click();
    const ruleForm = page.getByRole("form", { name: "New alert rule" });
    await ruleForm.locator('input[name="ruleName"]').fill(args.ruleName);
    await ruleForm.locator('input[name="regression"]').check();
    await ruleForm.locator('select[name="level"]').selectOption({ label: "error" });
    await ruleForm.locator('input[name="emailAddress"]').fill(args.ruleEmail);
    await ruleForm.getByRole("button", { name: "Create rule" }).click();
    const rule = page.locator(`li.rule[data-rule="${args.ruleName}"]`);
    await rule.waitFor();
    result.ruleText = await rule.innerText();
    step("alert rule created");
    // Edit it: renamed, limited to an environment, a second address, switched off.
    await rule.getByRole("button", { name: "Edit" }).click();
    const editForm = page.getByRole("form", { name: `Edit alert rule ${args.ruleName}` });
    result.editFormLoaded = {
      name: await editForm.locator('input[name="ruleName"]').inputValue(),
      regression: await editForm.locator('input[name="regression"]').isChecked(),
      level: await editForm.locator('select[name="level"]').inputValue(),
      emailAddress: await editForm.locator('input[name="emailAddress"]').inputValue(),
    };
    await editForm.locator('input[name="ruleName"]').fill(args.ruleNewName);
    await editForm.locator('input[name="environment"]').fill("production");
    await editForm.locator('input[name="emailAddress"]').fill(`${args.ruleEmail}, ${args.ruleEmail2}`);
    await editForm.locator('input[name="enabled"]').uncheck();
    await editForm.getByRole("button", { name: "Save rule" }).click();
    const edited = page.locator(`li.rule[data-rule="${args.ruleNewName}"]`);
    await edited.waitFor();
    await editForm.waitFor({ state: "detached" });
    result.editedRuleText = await edited.innerText();
    step("alert rule edited");
    // Delete another one (made through the API): two clicks, no dialog.
    const doomed = page.locator(`li.rule[data-rule="${args.doomedRule}"]`);
    await doomed.getByRole("button", { name: "Delete" }).click();
    await doomed.getByRole("button", { name: "Really delete?" }).click();
    await doomed.waitFor({ state: "detached" });
    result.rulesAfterDelete = await page.locator("li.rule").evaluateAll((els) => els.map((e) => e.getAttribute("data-rule")));
    await shot(page, "settings-alerts");
    step("alert rule deleted");

    await page.locator("a.who").click();
    await page.waitForURL(/\/settings\/account\/$/);
    const alerts = page.locator('input[name="emailAlerts"]');
    await alerts.waitFor();
    result.emailAlertsBefore = await alerts.isChecked();
    await alerts.uncheck();
    await page.waitForFunction(() => {
      const box = document.querySelector('input[name="emailAlerts"]');
      return box && !box.checked && !box.disabled;
    });
    await page.reload();
    await alerts.waitFor();
    result.emailAlertsAfterReload = await alerts.isChecked();
    await shot(page, "settings-account");
    step("alert mail turned off");

    // The account page belongs to no organization; the projects page links to its settings.
    await page.goto(`${args.base}/organizations/${args.org}/projects/`);
    await page.getByRole("link", { name: "Organization settings" }).click();
    await page.waitForURL(/\/organizations\/[^/]+\/settings\/$/);
    await page.locator(".table tbody tr").first().waitFor();
    result.orgMembers = await page.locator(".table tbody tr").count();
    await shot(page, "settings-organization");
    step("organization settings shown");
  },

  async searchmerge(page) {
    await signInWithToken(page);
    await openProject(page);
    const rows = page.locator(".issue-row[data-issue-id]");
    const search = async (query) => {
      await page.locator('input[name="query"]').fill(query);
      await page.locator('input[name="query"]').press("Enter");
      await page.waitForURL((url) => new URL(url).searchParams.get("query") === query);
    };
    // Until the list shows exactly `count` rows, each matching `text` (the list refetches).
    const waitRows = async (count, text) => {
      for (let attempt = 0; attempt < 60; attempt++) {
        const texts = await rows.allInnerTexts();
        if (texts.length === count && texts.every((t) => t.includes(text))) return texts;
        await page.waitForTimeout(250);
      }
      throw new Error(`expected ${count} issue rows with ${text}, saw ${JSON.stringify(await rows.allInnerTexts())}`);
    };
    await search(`level:warning ${args.marker}`);
    result.levelSearch = await waitRows(1, args.marker);
    step("level search");
    await search(args.mergeMarker);
    result.textSearch = await waitRows(2, args.mergeMarker);
    await shot(page, "issues-search");
    step("free-text search");
    for (const row of await rows.all()) await row.locator('input[type="checkbox"]').check();
    // Merging asks first: the first click arms the button, the second merges.
    await page.getByRole("button", { name: "Merge", exact: true }).click();
    result.mergeConfirm = (await page.getByRole("button", { name: /^Merge \d+ issues\?$/ }).innerText()).trim();
    result.rowsWhileArmed = await rows.count();
    await page.getByRole("button", { name: /^Merge \d+ issues\?$/ }).click();
    result.afterMerge = await waitRows(1, args.mergeMarker);
    const merged = rows.first();
    result.mergedEvents = (await merged.locator(".col-num").nth(0).innerText()).trim();
    step("merged");
    await merged.locator("a.issue-title").click();
    await page.waitForURL(/\/organizations\/[^/]+\/issues\/\d+\//);
    result.mergedIssueId = new URL(page.url()).pathname.split("/")[4];
    await page.getByTestId("event-count").waitFor();
    result.mergedIssueEvents = (await page.getByTestId("event-count").innerText()).trim();
    step("merged issue opened");
  },

  async invite(page) {
    await signInWithToken(page);
    await page.goto(`${args.base}/organizations/${args.org}/settings/`);
    const form = page.getByRole("form", { name: "Invite a member" });
    await form.locator('input[type="email"]').fill(args.email);
    await form.getByRole("button", { name: "Invite" }).click();
    result.inviteLink = (await page.getByTestId("invite-link").innerText()).trim();
    const row = page.locator(".table tbody tr", { hasText: args.email });
    await row.getByText("invited", { exact: true }).waitFor();
    await shot(page, "settings-invitation");
    step("member invited");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\//);
    await page.goto(result.inviteLink);
    const choose = page.getByRole("form", { name: "Choose a password" });
    await choose.waitFor();
    result.invitePage = {
      heading: await page.locator("h1").innerText(),
      subtitle: await page.locator(".auth-card p.muted").first().innerText(),
      email: await choose.locator('input[name="email"]').inputValue(),
    };
    await shot(page, "accept-invite");
    await choose.locator('input[name="password"]').fill(args.password);
    await choose.locator('input[name="repeat"]').fill(`${args.password}x`);
    await choose.getByRole("button", { name: /Set password/ }).click();
    result.mismatch = (await page.getByRole("alert").innerText()).trim();
    await choose.locator('input[name="repeat"]').fill(args.password);
    await choose.getByRole("button", { name: /Set password/ }).click();
    await page.waitForURL((url) => !new URL(url).pathname.startsWith("/accept/"));
    result.me = await page.evaluate(() => fetch("/api/0/users/me/").then((r) => r.json()));
    step("password set, signed in");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\//);
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL(/\/forgot-password\//);
    await page.locator('input[name="email"]').fill(args.email);
    await shot(page, "forgot-password");
    await page.getByRole("button", { name: "Send me a link" }).click();
    result.forgotAnswer = (await page.getByRole("status").innerText()).trim();
    step("reset asked for");
  },

  async reset(page) {
    await page.goto(args.link);
    const choose = page.getByRole("form", { name: "Choose a password" });
    await choose.waitFor();
    result.resetHeading = await page.locator("h1").innerText();
    await choose.locator('input[name="password"]').fill(args.password);
    await choose.locator('input[name="repeat"]').fill(args.password);
    await choose.getByRole("button", { name: "Save and sign in" }).click();
    await page.waitForURL((url) => !new URL(url).pathname.startsWith("/reset/"));
    result.me = await page.evaluate(() => fetch("/api/0/users/me/").then((r) => r.json()));
    step("new password set");
    await page.goto(args.link);
    await page.getByRole("heading", { name: "This link does not work" }).waitFor();
    result.reusedLink = (await page.getByRole("alert").innerText()).trim();
    step("used link refused");
    // The refused page has no sign-out button: sign out through the API, then in with the form.
    await page.evaluate(() => {
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("rookery_csrf="))?.split("=")[1] ?? "";
      return fetch("/api/0/auth/logout/", { method: "POST", headers: { "X-CSRFToken": csrf } });
    });
    await page.goto(`${args.base}/login/`);
    await page.locator('input[type="email"]').fill(args.email);
    await page.locator('input[type="password"]').fill(args.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => !new URL(url).pathname.startsWith("/login"));
    step("signed in with the new password");
  },

  async xss(page) {
    await signInWithToken(page);
    await page.goto(`${args.base}/organizations/${args.org}/issues/${args.issueId}/`);
    await page.locator(".exception-value").first().waitFor({ timeout: 15000 });
    await page.locator("details.raw summary").click();
    await page.waitForTimeout(500);
    result.xss = await page.evaluate(() => ({
      injectedImages: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
      scripts: [...document.scripts].map((s) => s.src || `inline:${s.textContent.slice(0, 40)}`),
      flag: window.__xss ?? null,
      exceptionValue: document.querySelector(".exception-value")?.textContent ?? null,
      message: document.querySelector(".message")?.textContent ?? null,
      tags: [...document.querySelectorAll(".tag")].map((t) => t.textContent),
      title: document.querySelector("h1.issue-h1")?.textContent ?? null,
      raw: document.querySelector("details.raw pre")?.textContent?.includes("onerror=alert(1)") ?? false,
    }));
    step("xss page inspected");
  },

  async full(page) {
    await page.goto(`${args.base}/`);
    await page.waitForURL(/\/setup\//);
    step("redirected to setup");
    await shot(page, "setup");
    await page.locator('input[name="name"]').fill("Ada Lovelace");
    await page.locator('input[name="email"]').fill(args.email);
    await page.locator('input[name="password"]').fill(args.password);
    await page.locator('input[name="organization"]').fill(args.orgName);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/setup"), { timeout: 15000 });
    step("account created");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\//);
    await shot(page, "login");
    await page.locator('input[type="email"]').fill(args.email);
    await page.locator('input[type="password"]').fill(args.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"), { timeout: 15000 });
    step("signed in with password");
    const orgs = await page.evaluate(() => fetch("/api/0/organizations/").then((r) => r.json()));
    const org = orgs[0].slug;
    result.org = org;
    await page.goto(`${args.base}/organizations/${org}/projects/new/`);
    await page.locator('.platform-tile[data-platform="python"]').click();
    await page.locator('input[name="name"]').fill(args.projectName);
    await page.getByRole("button", { name: /Create .*project/ }).click();
    await page.waitForURL(/\/getting-started\//, { timeout: 15000 });
    step("project created");
    const dsn = (await page.getByTestId("dsn").innerText()).trim();
    result.dsn = dsn;
    result.gettingStarted = await page.locator("main").innerText();
    const sdk = spawnSync(args.python, [args.app, "e2e"], { env: { ...process.env, ROOKERY_TEST_DSN: dsn }, encoding: "utf8", timeout: 60000 });
    if (sdk.status !== 0) throw new Error(`SDK app failed: ${sdk.stderr}`);
    result.sentEventId = sdk.stdout.trim();
    step("SDK sent an error");
    const project = new URL(page.url()).pathname.split("/")[4];
    await page.goto(`${args.base}/organizations/${org}/projects/${project}/`);
    const row = await openIssue(page, "ZeroDivisionError");
    await row.locator("a.issue-title").click();
    await readIssuePage(page);
    await resolve(page);
  },
};

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rookery-ui-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: args.viewport || { width: 1280, height: 860 },
    colorScheme: args.colorScheme || "light",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    timeout: 30000,
  });
  let code = 0;
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  page.on("dialog", (dialog) => {
    result.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => result.pageErrors.push(String(error)));
  page.on("console", (msg) => {
    const text = msg.text();
    result.console.push(`${msg.type()}: ${text}`);
    if (/Content Security Policy/i.test(text)) result.cspViolations.push(text);
  });
  try {
    await scenarios[scenario](page);
  } catch (error) {
    code = 1;
    result.error = String(error && error.stack ? error.stack : error);
    result.url = page.url();
    try {
      result.bodyText = (await page.locator("body").innerText()).slice(0, 2000);
      if (args.failureScreenshot) await page.screenshot({ path: args.failureScreenshot, fullPage: true });
    } catch {
      // the page is gone; the error says why
    }
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
