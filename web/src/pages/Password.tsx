// "Forgot password?" and the page a set-password link opens (/accept/<token>/ from an invitation,
// /reset/<token>/ from a reset mail). Loaded on demand: few visits ever need them.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError, errorText, post, put, setToken } from "../api";
import { useSession } from "../session";
import { AuthShell } from "./Login";

const MIN_PASSWORD = 8; // the server's rule (auth.hpp); it checks again

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await post<{ detail: string }>("/auth/password-reset/", { email: email.trim() }, { quiet401: true });
      setDone(answer.detail);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthShell title="Reset your password" subtitle="We mail you a link to choose a new one.">
      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {done ? (
        <div className="notice notice-ok" role="status">
          {done}
        </div>
      ) : (
        <form onSubmit={submit} className="form" aria-label="Reset password">
          <label>
            Email
            <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <button className="btn btn-primary btn-block" disabled={busy}>
            {busy ? "Sending…" : "Send me a link"}
          </button>
        </form>
      )}
      <Link className="btn btn-link" to="/login/">
        Back to sign in
      </Link>
    </AuthShell>
  );
}

interface LinkInfo {
  kind: "invite" | "reset";
  email: string;
  organization: string | null;
}

export function SetPassword() {
  const { token = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const [info, setInfo] = useState<LinkInfo | null>(null);
  const [linkError, setLinkError] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    // The token travels in the body: API paths end up in logs.
    post<LinkInfo>("/auth/password-link/", { token }, { quiet401: true }).then(setInfo, (err) =>
      setLinkError(err instanceof ApiError ? err.detail : errorText(err)),
    );
  }, [token]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== repeat) {
      setError("The two passwords differ.");
      return;
    }
    if ([...password].length < MIN_PASSWORD) {
      setError(`Use at least ${MIN_PASSWORD} characters.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setToken(null);
      await put("/auth/password-link/", { token, password });
      await session.refresh();
      navigate("/", { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (linkError) {
    return (
      <AuthShell title="This link does not work">
        <div className="notice notice-error" role="alert">
          {linkError}
        </div>
        <Link className="btn btn-link" to="/forgot-password/">
          Mail me a new link
        </Link>
      </AuthShell>
    );
  }
  if (!info) {
    return (
      <AuthShell title="Choose a password">
        <div className="spinner" aria-busy="true" />
      </AuthShell>
    );
  }
  const invite = info.kind === "invite";
  return (
    <AuthShell
      title={invite ? "Welcome to Rookery" : "Choose a new password"}
      subtitle={invite ? `Choose a password to join ${info.organization ?? "your team"}.` : "Other sessions of this account end when it is saved."}
    >
      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      <form onSubmit={submit} className="form" aria-label="Choose a password">
        <label>
          Email
          <input type="email" name="email" autoComplete="username" value={info.email} readOnly />
        </label>
        <label>
          New password
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Repeat it
          <input type="password" name="repeat" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        </label>
        <p className="muted small">At least {MIN_PASSWORD} characters.</p>
        <button className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Saving…" : invite ? "Set password and sign in" : "Save and sign in"}
        </button>
      </form>
    </AuthShell>
  );
}
