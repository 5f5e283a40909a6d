import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { del, enc, errorText, post, put } from "../../api";
import { CopyButton, Empty, ErrorBox, Spinner } from "../../components/ui";
import { canAdmin, useOrgRole } from "../../role";
import type { KeyDetails } from "../../types";
import { ConfirmButton, FormError, ProjectSettingsNav, splitLines, useResource } from "./common";

function KeyCard({
  item,
  base,
  admin,
  onChanged,
  onRotate,
}: {
  item: KeyDetails;
  base: string;
  admin: boolean;
  onChanged: () => void;
  onRotate: (k: KeyDetails) => Promise<void>;
}) {
  const [window_, setWindow] = useState(item.rateLimit ? String(item.rateLimit.window) : "");
  const [count, setCount] = useState(item.rateLimit ? String(item.rateLimit.count) : "");
  const [origins, setOrigins] = useState((item.allowedOrigins ?? []).join("\n"));
  const [name, setName] = useState(item.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `${base}${enc(item.id)}/`;

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function save(e: FormEvent) {
    e.preventDefault();
    // A blank count means no limit; a blank window means the placeholder's 60 seconds.
    let rateLimit: { window: number; count: number } | null = null;
    if (count.trim() !== "") {
      const c = Number(count.trim());
      const w = window_.trim() === "" ? 60 : Number(window_.trim());
      if (!Number.isInteger(c) || c < 0) {
        setError("Rate limit: the number of events must be a whole number (0 or more).");
        return;
      }
      if (!Number.isInteger(w) || w < 1 || w > 86400) {
        setError("Rate limit: the window must be a whole number of seconds from 1 to 86400.");
        return;
      }
      rateLimit = { window: w, count: c };
    } else if (window_.trim() !== "") {
      setError("Rate limit: give the number of events too, or leave both blank for no limit.");
      return;
    }
    void run(() =>
      put(path, {
        name: name.trim(),
        rateLimit,
        allowedOrigins: splitLines(origins),
      }),
    );
  }

  return (
    <li className={`card key-card${item.isActive ? "" : " inactive"}`} data-key={item.id}>
      <div className="key-head">
        <h3>
          {item.name} {!item.isActive && <span className="chip">disabled</span>}
        </h3>
        {admin && (
          <div className="actions">
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => void run(() => put(path, { isActive: !item.isActive }))}>
              {item.isActive ? "Disable" : "Enable"}
            </button>
            {item.isActive && (
              <ConfirmButton
                label="Rotate"
                confirm="Disable this key now?"
                title="Creates a new key and disables this one at once: SDKs still using this DSN stop sending"
                disabled={busy}
                onConfirm={() => void run(() => onRotate(item))}
              />
            )}
            <ConfirmButton label="Delete" confirm="Really delete?" disabled={busy} onConfirm={() => void run(() => del(path))} />
          </div>
        )}
      </div>
      <div className="dsn-row">
        <span className="muted small">DSN</span>
        <code className="dsn" data-testid="key-dsn">
          {item.dsn.public}
        </code>
        <CopyButton text={item.dsn.public} />
      </div>
      {admin && (
      <form className="form-inline key-form" onSubmit={save} aria-label={`Key ${item.name}`}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Rate limit: events
          <input type="number" min={0} name="count" value={count} onChange={(e) => setCount(e.target.value)} placeholder="unlimited" />
        </label>
        <label>
          per seconds
          <input type="number" min={1} max={86400} name="window" value={window_} onChange={(e) => setWindow(e.target.value)} placeholder="60" />
        </label>
        <label className="grow">
          Allowed origins (one a line; empty: any)
          <textarea rows={2} value={origins} onChange={(e) => setOrigins(e.target.value)} placeholder="*.example.com" />
        </label>
        <button className="btn" disabled={busy}>
          Save
        </button>
      </form>
      )}
      <FormError error={error} />
    </li>
  );
}

export default function ProjectKeys() {
  const { org = "", project = "" } = useParams();
  const base = `/projects/${enc(org)}/${enc(project)}/keys/`;
  const { data, error, reload } = useResource<KeyDetails[]>(base);
  const role = useOrgRole(org);
  const admin = canAdmin(role);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setCreateError(null);
    try {
      await post(base, { name: name.trim() || "Default" });
      setName("");
      reload();
    } catch (err) {
      setCreateError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  // Rotation as the API describes it: a new key with the same limits, the old one disabled.
  async function rotate(old: KeyDetails) {
    await post(base, {
      name: old.name,
      rateLimit: old.rateLimit ?? null,
      allowedOrigins: old.allowedOrigins ?? [],
    });
    await put(`${base}${enc(old.id)}/`, { isActive: false });
  }

  return (
    <section className="page settings" data-role={role ?? ""}>
      <div className="page-head">
        <h1>Client keys · {project}</h1>
        <Link className="btn btn-ghost" to={`/organizations/${org}/projects/${project}/getting-started/`}>
          Setup instructions
        </Link>
      </div>
      <ProjectSettingsNav org={org} project={project} />
      <p className="muted">
        SDKs send events with a DSN. To rotate a key, create a new one, move the SDKs to it, then disable or delete the old one ("Rotate" does
        the first and last step at once).
      </p>
      {role !== undefined && !admin && (
        <p className="notice notice-info" data-testid="keys-read-only">
          Your role ({role}) can read the keys; an admin or owner creates, rotates, disables and deletes them.
        </p>
      )}
      {admin && (
      <form className="form-inline create-form" onSubmit={create} aria-label="New key">
        <label>
          New key name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Default" />
        </label>
        <button className="btn btn-primary" disabled={busy}>
          Create key
        </button>
        <FormError error={createError} />
      </form>
      )}
      {error ? (
        <ErrorBox error={error} />
      ) : !data ? (
        <Spinner />
      ) : data.length === 0 ? (
        <Empty title="No keys">Create a key to get a DSN.</Empty>
      ) : (
        <ul className="key-list">
          {data.map((item) => (
            <KeyCard
              key={`${item.id}:${item.isActive}:${JSON.stringify(item.rateLimit)}`}
              item={item}
              base={base}
              admin={admin}
              onChanged={reload}
              onRotate={rotate}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
