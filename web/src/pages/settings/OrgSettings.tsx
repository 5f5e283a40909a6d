import { useEffect, useState, type FormEvent } from "react";
import { useParams } from "react-router-dom";
import { del, enc, errorText, isMissing, post, put } from "../../api";
import { ErrorBox, Spinner } from "../../components/ui";
import type { Member, OrganizationDetails, Team } from "../../types";
import { ConfirmButton, FormError, Section, useResource } from "./common";

const ROLES = ["member", "admin", "owner"];

function OrgForm({ org }: { org: string }) {
  const path = `/organizations/${enc(org)}/`;
  const { data, error, set } = useResource<OrganizationDetails>(path);
  const [name, setName] = useState("");
  const [retention, setRetention] = useState("");
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!data) return;
    setName(data.name);
    setRetention(data.retentionDays == null ? "" : String(data.retentionDays));
  }, [data]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setSaveError(null);
    setSaved(false);
    try {
      set(await put<OrganizationDetails>(path, { name: name.trim(), ...(retention.trim() ? { retentionDays: Number(retention) } : {}) }));
      setSaved(true);
    } catch (err) {
      setSaveError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorBox error={error} />;
  if (!data) return <Spinner />;
  return (
    <form className="form-inline" onSubmit={submit} aria-label="Organization settings">
      <label>
        Name
        <input name="orgName" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Retention (days)
        <input name="orgRetentionDays" type="number" min={1} max={3650} value={retention} onChange={(e) => setRetention(e.target.value)} />
      </label>
      <button className="btn btn-primary" disabled={busy}>
        Save
      </button>
      {saved && (
        <span className="saved" role="status">
          Saved
        </span>
      )}
      <FormError error={saveError} />
    </form>
  );
}

function Members({ org }: { org: string }) {
  const base = `/organizations/${enc(org)}/members/`;
  const { data, error, reload } = useResource<Member[]>(base);
  const { data: teams } = useResource<Team[]>(`/organizations/${enc(org)}/teams/`);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("member");
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  // The last set-password link made here, shown once so that it can be passed on without mail.
  const [invite, setInvite] = useState<{ email: string; link: string } | null>(null);

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setActionError(null);
    try {
      const answer = (await action()) as Member | undefined;
      setInvite(answer && answer.inviteLink ? { email: answer.email, link: answer.inviteLink } : null);
      reload();
      return true;
    } catch (err) {
      setActionError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <FormError error={actionError} />
      {invite && (
        <div className="notice notice-info invite-link" role="status">
          Invitation mailed to {invite.email}. The link also works when passed on another way (once, for 7 days):
          <code className="block" data-testid="invite-link">
            {invite.link}
          </code>
        </div>
      )}
      {error ? (
        <ErrorBox error={error} />
      ) : !data ? (
        <Spinner />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Member</th>
              <th>Teams</th>
              <th>Role</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((m) => (
              <tr key={m.id}>
                <td>
                  <strong>{m.name || m.email}</strong>
                  {m.pending && <span className="chip">{m.expired ? "invitation expired" : "invited"}</span>}
                  <span className="muted small block">{m.email}</span>
                </td>
                <td className="small">
                  {teams && teams.length > 0 && Array.isArray(m.teams) ? (
                    <div className="member-teams" role="group" aria-label={`Teams of ${m.email}`}>
                      {teams.map((t) => {
                        const member = (m.teams ?? []).includes(t.slug);
                        const path = `${base}${enc(m.id)}/teams/${enc(t.slug)}/`;
                        return (
                          <label key={t.slug} className="check-inline">
                            <input
                              type="checkbox"
                              name={`team-${t.slug}`}
                              checked={member}
                              disabled={busy}
                              onChange={() =>
                                void run(() =>
                                  (member ? del(path) : post(path, {})).catch((err: unknown) => {
                                    throw isMissing(err) ? new Error("This server cannot change a member's teams yet.") : err;
                                  }),
                                )
                              }
                            />
                            {t.slug}
                          </label>
                        );
                      })}
                    </div>
                  ) : (
                    (m.teams ?? []).join(", ")
                  )}
                </td>
                <td>
                  <select aria-label={`Role of ${m.email}`} value={m.role} disabled={busy} onChange={(e) => void run(() => put(`${base}${enc(m.id)}/`, { role: e.target.value }))}>
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td className="right">
                  {m.pending && (
                    <button type="button" className="btn btn-small" disabled={busy} onClick={() => void run(() => put(`${base}${enc(m.id)}/`, { reinvite: true }))}>
                      Resend invite
                    </button>
                  )}{" "}
                  <ConfirmButton label="Remove" confirm="Really remove?" disabled={busy} onConfirm={() => void run(() => del(`${base}${enc(m.id)}/`))} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="form-inline create-form"
        aria-label="Invite a member"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => post(base, { email: email.trim(), role })).then((ok) => ok && setEmail(""));
        }}
      >
        <label>
          Invite by email
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="jane@example.com" />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button className="btn" disabled={busy}>
          Invite
        </button>
      </form>
    </>
  );
}

function Teams({ org }: { org: string }) {
  const base = `/organizations/${enc(org)}/teams/`;
  const { data, error, reload } = useResource<Team[]>(base);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setCreateError(null);
    try {
      await post(base, { name: name.trim() });
      setName("");
      reload();
    } catch (err) {
      setCreateError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      {error ? (
        <ErrorBox error={error} />
      ) : !data ? (
        <Spinner />
      ) : data.length === 0 ? (
        <p className="muted">No teams: alert mail for "the project's team" goes to the whole organization.</p>
      ) : (
        <ul className="plain-list">
          {data.map((t) => (
            <li key={t.id}>
              <strong>{t.name}</strong> <span className="muted small">#{t.slug}</span>
              <span className="muted small"> · {t.memberCount ?? 0} members</span>
              {t.isMember && <span className="chip">yours</span>}
            </li>
          ))}
        </ul>
      )}
      <form className="form-inline create-form" onSubmit={create} aria-label="New team">
        <label>
          New team
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Backend" />
        </label>
        <button className="btn" disabled={busy}>
          Create team
        </button>
        <FormError error={createError} />
      </form>
    </>
  );
}

export default function OrgSettings() {
  const { org = "" } = useParams();
  return (
    <section className="page settings">
      <div className="page-head">
        <h1>Organization settings · {org}</h1>
      </div>
      <Section title="General" description="Retention applies to every project that does not set its own.">
        <OrgForm org={org} />
      </Section>
      <Section title="Members">
        <Members org={org} />
      </Section>
      <Section title="Teams">
        <Teams org={org} />
      </Section>
    </section>
  );
}
