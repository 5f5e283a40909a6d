import { useState, type FormEvent } from "react";
import { useParams } from "react-router-dom";
import { del, enc, errorText, post, put } from "../../api";
import { Empty, ErrorBox, Spinner } from "../../components/ui";
import type { AlertRule, RuleItem } from "../../types";
import { ConfirmButton, FormError, ProjectSettingsNav, Section, useResource } from "./common";

const C = "sentry.rules.conditions.";
const FIRST_SEEN = `${C}first_seen_event.FirstSeenEventCondition`;
const REGRESSION = `${C}regression_event.RegressionEventCondition`;
const REAPPEARED = `${C}reappeared_event.ReappearedEventCondition`;
const FREQUENCY = `${C}event_frequency.EventFrequencyCondition`;
const LEVEL = "sentry.rules.filters.level.LevelFilter";
const TAGGED = "sentry.rules.filters.tagged_event.TaggedEventFilter";
const EMAIL = "sentry.mail.actions.NotifyEmailAction";
const WEBHOOK = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction";
const SLACK = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction";
const LEVELS: [string, string][] = [
  ["10", "debug"],
  ["20", "info"],
  ["30", "warning"],
  ["40", "error"],
  ["50", "fatal"],
];
const INTERVALS = ["1m", "5m", "15m", "1h", "1d", "1w"];

/** One line of text for a condition, filter or action of a rule. */
export function describe(item: RuleItem): string {
  const s = (key: string) => String(item[key] ?? "");
  switch (item.id) {
    case FIRST_SEEN:
      return "a new issue is created";
    case REGRESSION:
      return "a resolved issue comes back (regression)";
    case REAPPEARED:
      return "an ignored issue reappears";
    case FREQUENCY:
      return `an issue has more than ${s("value")} events in ${s("interval")}`;
    case LEVEL:
      return `level is at least ${LEVELS.find(([v]) => v === s("level"))?.[1] ?? s("level")}`;
    case TAGGED:
      return `tag ${s("key")} is ${s("value")}`;
    case EMAIL:
      return item.targetIdentifier ? `email ${s("targetIdentifier")}` : "email the issue owners (project's teams)";
    case WEBHOOK:
      return `webhook ${s("url")}${item.hasSecret ? " (signed)" : ""}`;
    case SLACK:
      return `Slack ${s("webhookUrl")}`;
    default:
      return item.id;
  }
}

const webhookHasSecret = (rule: AlertRule) => rule.actions.some((a) => a.id === WEBHOOK && a.hasSecret);

interface Draft {
  name: string;
  enabled: boolean;
  environment: string;
  firstSeen: boolean;
  regression: boolean;
  reappeared: boolean;
  frequency: boolean;
  frequencyValue: string;
  frequencyInterval: string;
  level: string;
  tagKey: string;
  tagValue: string;
  emailOwners: boolean;
  emailAddress: string;
  webhookUrl: string;
  webhookSecret: string;
  slackUrl: string;
}

const EMPTY: Draft = {
  name: "",
  enabled: true,
  environment: "",
  firstSeen: true,
  regression: false,
  reappeared: false,
  frequency: false,
  frequencyValue: "100",
  frequencyInterval: "1h",
  level: "",
  tagKey: "",
  tagValue: "",
  emailOwners: true,
  emailAddress: "",
  webhookUrl: "",
  webhookSecret: "",
  slackUrl: "",
};

function toRule(d: Draft) {
  const conditions: RuleItem[] = [];
  if (d.firstSeen) conditions.push({ id: FIRST_SEEN });
  if (d.regression) conditions.push({ id: REGRESSION });
  if (d.reappeared) conditions.push({ id: REAPPEARED });
  if (d.frequency) conditions.push({ id: FREQUENCY, value: Number(d.frequencyValue), interval: d.frequencyInterval });
  const filters: RuleItem[] = [];
  if (d.level) filters.push({ id: LEVEL, match: "gte", level: d.level });
  if (d.tagKey.trim()) filters.push({ id: TAGGED, key: d.tagKey.trim(), match: "eq", value: d.tagValue.trim() });
  const actions: RuleItem[] = [];
  if (d.emailOwners) actions.push({ id: EMAIL, targetType: "IssueOwners" });
  for (const address of d.emailAddress.split(",").map((a) => a.trim()).filter(Boolean))
    actions.push({ id: EMAIL, targetType: "Member", targetIdentifier: address });
  if (d.webhookUrl.trim())
    actions.push({ id: WEBHOOK, service: "webhooks", url: d.webhookUrl.trim(), ...(d.webhookSecret ? { secret: d.webhookSecret } : {}) });
  if (d.slackUrl.trim()) actions.push({ id: SLACK, webhookUrl: d.slackUrl.trim() });
  return {
    name: d.name.trim(),
    status: d.enabled ? "active" : "disabled",
    ...(d.environment.trim() ? { environment: d.environment.trim() } : {}),
    actionMatch: "any",
    filterMatch: "all",
    frequency: 30,
    conditions,
    filters,
    actions,
  };
}

/** The form's view of a stored rule: what toRule() would send to store it unchanged. */
function fromRule(rule: AlertRule): Draft {
  const items = [...rule.conditions, ...(rule.filters ?? [])];
  const find = (id: string) => items.find((i) => i.id === id);
  const s = (item: RuleItem | undefined, key: string) => (item && item[key] != null ? String(item[key]) : "");
  const frequency = find(FREQUENCY);
  const tagged = find(TAGGED);
  const webhook = rule.actions.find((a) => a.id === WEBHOOK);
  return {
    name: rule.name,
    enabled: rule.status !== "disabled",
    environment: rule.environment ?? "",
    firstSeen: !!find(FIRST_SEEN),
    regression: !!find(REGRESSION),
    reappeared: !!find(REAPPEARED),
    frequency: !!frequency,
    frequencyValue: s(frequency, "value") || EMPTY.frequencyValue,
    frequencyInterval: s(frequency, "interval") || EMPTY.frequencyInterval,
    level: s(find(LEVEL), "level"),
    tagKey: s(tagged, "key"),
    tagValue: s(tagged, "value"),
    emailOwners: rule.actions.some((a) => a.id === EMAIL && !a.targetIdentifier),
    emailAddress: rule.actions
      .filter((a) => a.id === EMAIL && a.targetIdentifier)
      .map((a) => String(a.targetIdentifier))
      .join(", "),
    webhookUrl: s(webhook, "url"),
    // Never sent back by the server: left empty, a PUT keeps the stored secret.
    webhookSecret: "",
    slackUrl: s(
      rule.actions.find((a) => a.id === SLACK),
      "webhookUrl",
    ),
  };
}

/** Creates a rule (POST to `base`) or, given `rule`, edits it (PUT). */
function RuleForm({ base, rule, onSaved, onCancel }: { base: string; rule?: AlertRule; onSaved: () => void; onCancel?: () => void }) {
  const [d, setD] = useState<Draft>(() => (rule ? fromRule(rule) : EMPTY));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setD((old) => ({ ...old, [key]: value }));
  const check = (key: "firstSeen" | "regression" | "reappeared" | "frequency" | "emailOwners", label: string) => (
    <label className="checkbox">
      <input type="checkbox" name={key} checked={d[key]} onChange={(e) => set(key, e.target.checked)} />
      {label}
    </label>
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (rule) {
        await put(`${base}${enc(rule.id)}/`, toRule(d));
      } else {
        await post(base, toRule(d));
        setD(EMPTY);
      }
      onSaved();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} aria-label={rule ? `Edit alert rule ${rule.name}` : "New alert rule"}>
      <div className="form-grid">
        <label>
          Rule name
          <input name="ruleName" required value={d.name} onChange={(e) => set("name", e.target.value)} placeholder="Production errors" />
        </label>
        <label>
          Environment (empty: all)
          <input name="environment" value={d.environment} onChange={(e) => set("environment", e.target.value)} placeholder="production" />
        </label>
      </div>
      <label className="checkbox">
        <input type="checkbox" name="enabled" checked={d.enabled} onChange={(e) => set("enabled", e.target.checked)} />
        Enabled
      </label>
      <fieldset>
        <legend>When any of these happens</legend>
        {check("firstSeen", "A new issue is created")}
        {check("regression", "A resolved issue comes back (regression)")}
        {check("reappeared", "An ignored issue reappears")}
        <div className="form-inline">
          {check("frequency", "An issue has more than")}
          <input
            type="number"
            min={1}
            aria-label="Event count"
            value={d.frequencyValue}
            onChange={(e) => set("frequencyValue", e.target.value)}
            className="narrow-input"
          />
          <span>events in</span>
          <select aria-label="Interval" value={d.frequencyInterval} onChange={(e) => set("frequencyInterval", e.target.value)}>
            {INTERVALS.map((i) => (
              <option key={i}>{i}</option>
            ))}
          </select>
        </div>
      </fieldset>
      <fieldset>
        <legend>And all of these hold</legend>
        <div className="form-inline">
          <label>
            Level at least
            <select name="level" value={d.level} onChange={(e) => set("level", e.target.value)}>
              <option value="">any level</option>
              {LEVELS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Tag
            <input name="tagKey" value={d.tagKey} onChange={(e) => set("tagKey", e.target.value)} placeholder="region" />
          </label>
          <label>
            equals
            <input name="tagValue" value={d.tagValue} onChange={(e) => set("tagValue", e.target.value)} placeholder="eu" />
          </label>
        </div>
      </fieldset>
      <fieldset>
        <legend>Then</legend>
        {check("emailOwners", "Email the issue owners (the project's teams)")}
        <div className="form-grid">
          <label>
            Email these addresses (comma separated)
            <input name="emailAddress" type="email" multiple value={d.emailAddress} onChange={(e) => set("emailAddress", e.target.value)} placeholder="oncall@example.com" />
          </label>
          <label>
            Slack incoming webhook URL
            <input name="slackUrl" type="url" value={d.slackUrl} onChange={(e) => set("slackUrl", e.target.value)} placeholder="https://hooks.slack.com/services/…" />
          </label>
          <label>
            Webhook URL
            <input name="webhookUrl" type="url" value={d.webhookUrl} onChange={(e) => set("webhookUrl", e.target.value)} placeholder="https://hooks.example.com/rookery" />
          </label>
          <label>
            {rule && webhookHasSecret(rule) ? "Webhook secret (empty: keep the stored one)" : "Webhook secret (HMAC key, optional)"}
            <input name="webhookSecret" type="password" autoComplete="off" value={d.webhookSecret} onChange={(e) => set("webhookSecret", e.target.value)} />
          </label>
        </div>
      </fieldset>
      <div className="form-actions">
        <button className="btn btn-primary" disabled={busy}>
          {rule ? (busy ? "Saving…" : "Save rule") : busy ? "Creating…" : "Create rule"}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
        <FormError error={error} />
      </div>
    </form>
  );
}

export default function AlertRules() {
  const { org = "", project = "" } = useParams();
  const base = `/projects/${enc(org)}/${enc(project)}/rules/`;
  const { data, error, reload } = useResource<AlertRule[]>(base);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  return (
    <section className="page settings">
      <div className="page-head">
        <h1>Alert rules · {project}</h1>
      </div>
      <ProjectSettingsNav org={org} project={project} />
      <Section title="Rules">
        <FormError error={deleteError} />
        {error ? (
          <ErrorBox error={error} />
        ) : !data ? (
          <Spinner />
        ) : data.length === 0 ? (
          <Empty title="No alert rules">Nobody is told about this project's issues.</Empty>
        ) : (
          <ul className="rule-list">
            {data.map((rule) => (
              <li key={rule.id} className="rule" data-rule={rule.name}>
                <div className="key-head">
                  <h3>
                    {rule.name}
                    {rule.environment && <span className="chip">{rule.environment}</span>}
                    {rule.status === "disabled" && <span className="chip">disabled</span>}
                  </h3>
                  <span className="rule-buttons">
                  <button type="button" className="btn btn-small" aria-expanded={editing === rule.id} onClick={() => setEditing(editing === rule.id ? null : rule.id)}>
                    Edit
                  </button>{" "}
                  <ConfirmButton
                    label="Delete"
                    confirm="Really delete?"
                    onConfirm={() => {
                      setDeleteError(null);
                      del(`${base}${enc(rule.id)}/`).then(reload, (err) => setDeleteError(errorText(err)));
                    }}
                  />
                  </span>
                </div>
                <p className="small rule-text">
                  <span className="muted">When </span>
                  {rule.conditions.map(describe).join(" or ")}
                  {rule.filters && rule.filters.length > 0 && (
                    <>
                      <span className="muted">, if </span>
                      {rule.filters.map(describe).join(" and ")}
                    </>
                  )}
                  <span className="muted">: </span>
                  {rule.actions.map(describe).join("; ")}
                </p>
                {editing === rule.id && (
                  <RuleForm
                    base={base}
                    rule={rule}
                    onSaved={() => {
                      setEditing(null);
                      reload();
                    }}
                    onCancel={() => setEditing(null)}
                  />
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="New rule">
        <RuleForm base={base} onSaved={reload} />
      </Section>
    </section>
  );
}
