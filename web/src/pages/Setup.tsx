import { useState, type FormEvent } from "react";
import { Navigate, useNavigate } from "react-router-dom";
import { errorText, get, post, setToken } from "../api";
import { useSession } from "../session";
import { AuthShell } from "./Login";
import type { Organization } from "../types";

export function Setup() {
  const session = useSession();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: "", email: "", password: "", organization: "" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (!session.loading && session.user) return <Navigate to="/" replace />;
  if (!session.loading && !session.needsSetup) return <Navigate to="/login/" replace />;

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: e.target.value }),
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setToken(null);
      await post("/auth/setup/", form, { quiet401: true });
      await session.refresh();
      let org: string | undefined;
      try {
        org = (await get<Organization[]>("/organizations/"))[0]?.slug;
      } catch {
        org = undefined;
      }
      navigate(org ? `/organizations/${org}/projects/new/` : "/", { replace: true });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthShell title="Welcome to Rookery" subtitle="Create the first account and your organization.">
      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      <form onSubmit={submit} className="form">
        <label>
          Your name
          <input name="name" autoComplete="name" required {...field("name")} />
        </label>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required {...field("email")} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="new-password" required minLength={8} {...field("password")} />
        </label>
        <label>
          Organization
          <input name="organization" required placeholder="Acme" {...field("organization")} />
        </label>
        <button className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
    </AuthShell>
  );
}
