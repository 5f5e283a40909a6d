// Shared pieces of the settings pages (loaded lazily, outside the first-load bundle).
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { NavLink } from "react-router-dom";
import { get } from "../../api";

/** GET a path; `reload` fetches it again, `set` replaces the copy after a write. */
export function useResource<T>(path: string | null) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    setError(null);
    get<T>(path).then(
      (value) => !cancelled && setData(value),
      (err) => !cancelled && setError(err),
    );
    return () => {
      cancelled = true;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, reload, set: setData };
}

/** One entry a line, blank lines dropped. */
export const splitLines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

export function ProjectSettingsNav({ org, project }: { org: string; project: string }) {
  const base = `/organizations/${org}/projects/${project}/settings`;
  return (
    <nav className="settings-nav" aria-label="Project settings">
      <NavLink to={`${base}/`} end>
        General
      </NavLink>
      <NavLink to={`${base}/keys/`}>Client keys (DSN)</NavLink>
      <NavLink to={`${base}/alerts/`}>Alert rules</NavLink>
    </nav>
  );
}

export function Section({ title, children, description }: { title: string; children: ReactNode; description?: ReactNode }) {
  return (
    <section className="card settings-section" aria-label={title}>
      <h2>{title}</h2>
      {description && <p className="muted small">{description}</p>}
      {children}
    </section>
  );
}

export function FormError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <div className="notice notice-error form-error" role="alert">
      {error}
    </div>
  );
}

export { ConfirmButton } from "../../components/ui";
