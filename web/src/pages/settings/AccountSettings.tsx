import { useEffect, useState, type FormEvent } from "react";
import { del, errorText, get, post, put } from "../../api";
import { CopyButton, ErrorBox, Spinner, TimeAgo } from "../../components/ui";
import { useSession } from "../../session";
import type { ApiToken, NotificationSettings, Organization, Project } from "../../types";
import { ConfirmButton, FormError, Section, useResource } from "./common";

const SCOPES = [
  "org:read",
  "org:write",
  "org:admin",
  "member:read",
  "member:write",
  "member:admin",
  "team:read",
  "team:write",
  "team:admin",
  "project:read",
  "project:write",
  "project:admin",
  "project:releases",
  "event:read",
  "event:write",
  "event:admin",
];
const DEFAULT_SCOPES = ["org:read", "project:read", "event:read"];

type ProjectRow = Project & { orgName: string };

function Notifications() {
  const { data, error, set } = useResource<NotificationSettings>("/users/me/notifications/");
  const [projects, setProjects] = useState<ProjectRow[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    get<Organization[]>("/organizations/")
      .then((orgs) =>
        Promise.all(
          orgs.map((o) =>
            get<Project[]>(`/organizations/${encodeURIComponent(o.slug)}/projects/`).then((ps) => ps.map((p) => ({ ...p, orgName: o.name }))),
          ),
        ),
      )
      .then(
        (lists) => !cancelled && setProjects(lists.flat()),
        () => !cancelled && setProjects([]),
      );
    return () => {
      cancelled = true;
    };
  }, []);

  // Optimistic: the control shows the choice at once, and goes back if the server refuses it.
  async function save(body: { emailAlerts: boolean; project?: number }) {
    if (!data) return;
    const previous = data;
    set(
      body.project === undefined
        ? { ...data, emailAlerts: body.emailAlerts }
        : { ...data, projects: { ...data.projects, [String(body.project)]: body.emailAlerts } },
    );
    setBusy(true);
    setSaveError(null);
    try {
      set(await put<NotificationSettings>("/users/me/notifications/", body));
    } catch (err) {
      set(previous);
      setSaveError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorBox error={error} />;
  if (!data) return <Spinner />;
  return (
    <div className="form">
      <label className="checkbox">
        <input type="checkbox" name="emailAlerts" checked={data.emailAlerts} disabled={busy} onChange={(e) => void save({ emailAlerts: e.target.checked })} />
        Email me alerts (issue alert rules of every project)
      </label>
      <FormError error={saveError} />
      {projects && projects.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Project</th>
              <th>Alert mail</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => {
              const override = data.projects[p.id];
              const value = override === undefined ? "default" : override ? "on" : "off";
              return (
                <tr key={p.id}>
                  <td>
                    {p.name} <span className="muted small">{p.orgName}</span>
                  </td>
                  <td>
                    <select
                      aria-label={`Alert mail for ${p.name}`}
                      value={value}
                      disabled={busy}
                      onChange={(e) => void save({ project: Number(p.id), emailAlerts: e.target.value === "on" })}
                    >
                      {value === "default" && <option value="default">default ({data.emailAlerts ? "on" : "off"})</option>}
                      <option value="on">on</option>
                      <option value="off">off</option>
                    </select>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Tokens() {
  const { data, error, reload } = useResource<ApiToken[]>("/api-tokens/");
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(DEFAULT_SCOPES);
  const [created, setCreated] = useState<ApiToken | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setActionError(null);
    try {
      const token = await post<ApiToken>("/api-tokens/", { name: name.trim() || undefined, scopes });
      setCreated(token);
      setName("");
      reload();
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      {created?.token && (
        <div className="notice notice-ok" role="status">
          <p>Copy the new token now: it is not shown again.</p>
          <div className="dsn-row">
            <code className="dsn" data-testid="new-token">
              {created.token}
            </code>
            <CopyButton text={created.token} />
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <FormError error={actionError} />
      {error ? (
        <ErrorBox error={error} />
      ) : !data ? (
        <Spinner />
      ) : data.length === 0 ? (
        <p className="muted">No tokens.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Scopes</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.id}>
                <td>{t.name || <span className="muted">unnamed</span>}</td>
                <td className="small mono">{t.scopes.join(" ")}</td>
                <td className="small">
                  <TimeAgo iso={t.dateCreated} />
                </td>
                <td className="right">
                  <ConfirmButton
                    label="Revoke"
                    confirm="Really revoke?"
                    onConfirm={() => {
                      setActionError(null);
                      del(`/api-tokens/${encodeURIComponent(t.id)}/`).then(reload, (err) => setActionError(errorText(err)));
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="form create-form" onSubmit={create} aria-label="New API token">
        <label>
          Token name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="CI releases" />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          <div className="scope-grid">
            {SCOPES.map((scope) => (
              <label key={scope} className="checkbox">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) => setScopes((old) => (e.target.checked ? [...old, scope] : old.filter((s) => s !== scope)))}
                />
                {scope}
              </label>
            ))}
          </div>
        </fieldset>
        <div>
          <button className="btn btn-primary" disabled={busy || scopes.length === 0}>
            Create token
          </button>
        </div>
      </form>
    </>
  );
}

export default function AccountSettings() {
  const session = useSession();
  return (
    <section className="page settings">
      <div className="page-head">
        <h1>Account</h1>
        <span className="muted">{session.user?.email}</span>
      </div>
      <Section title="Notifications" description="Alert rules that email the project's team reach you unless you turn them off here.">
        <Notifications />
      </Section>
      <Section title="API tokens" description="For sentry-cli, scripts and CI. A token can do at most what you can.">
        <Tokens />
      </Section>
    </section>
  );
}
