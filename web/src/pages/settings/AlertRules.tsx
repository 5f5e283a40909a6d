import { useState, type FormEvent } from "react";
import { useParams } from "react-router-dom";
import { del, enc, errorText, post } from "../../api";
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

interface Draft {
  name: string;
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
  if (d.emailAddress.trim()) actions.push({ id: EMAIL, targetType: "Member", targetIdentifier: d.emailAddress.trim() });
  if (d.webhookUrl.trim())
    actions.push({ id: WEBHOOK, service: "webhooks", url: d.webhookUrl.trim(), ...(d.webhookSecret ? { secret: d.webhookSecret } : {}) });
  if (d.slackUrl.trim()) actions.push({ id: SLACK, webhookUrl: d.slackUrl.trim() });
  return {
    name: d.name.trim(),
    ...(d.environment.trim() ? { environment: d.environment.trim() } : {}),
    actionMatch: "any",
    filterMatch: "all",
    frequency: 30,
    conditions,
    filters,
    actions,
  };
}

function RuleForm({ base, onCreated }: { base: string; onCreated: () => void }) {
  const [d, setD] = useState<Draft>(EMPTY);
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
      await post(base, toRule(d));
      setD(EMPTY);
      onCreated();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} aria-label="New alert rule">
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
            Email this address
            <input name="emailAddress" type="email" value={d.emailAddress} onChange={(e) => set("emailAddress", e.target.value)} placeholder="oncall@example.com" />
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
            Webhook secret (HMAC key, optional)
            <input name="webhookSecret" type="password" autoComplete="off" value={d.webhookSecret} onChange={(e) => set("webhookSecret", e.target.value)} />
          </label>
        </div>
      </fieldset>
      <div className="form-actions">
        <button className="btn btn-primary" disabled={busy}>
          {busy ? "Creating…" : "Create rule"}
        </button>
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
                  <ConfirmButton
                    label="Delete"
                    confirm="Really delete?"
                    onConfirm={() => {
                      setDeleteError(null);
                      del(`${base}${enc(rule.id)}/`).then(reload, (err) => setDeleteError(errorText(err)));
                    }}
                  />
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
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="New rule">
        <RuleForm base={base} onCreated={reload} />
      </Section>
    </section>
  );
}
