import { useEffect, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, errorText, get, isMissing, post, setToken } from "../api";
import { useSession } from "../session";
import { ThemeToggle } from "../components/Layout";

// Only same-site paths: `next` comes from the URL, which anybody can craft.
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function AuthShell({ title, subtitle, children }: { title: string; subtitle?: string; children: React.ReactNode }) {
  return (
    <div className="auth">
      <div className="auth-card">
        <div className="auth-brand">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <span>Rookery</span>
        </div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
        {children}
      </div>
      <div className="auth-foot">
        <ThemeToggle />
      </div>
    </div>
  );
}

export function Login() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [useToken, setUseToken] = useState(params.get("token") === "1");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [token, setTokenText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [passwordLoginMissing, setPasswordLoginMissing] = useState(false);
  const [probed, setProbed] = useState(false);
  const next = safeNext(params.get("next"));

  useEffect(() => {
    // A server without accounts answers 404 here: offer the token right away.
    get<{ needsSetup: boolean }>("/auth/setup/", { quiet401: true })
      .catch((e) => {
        if (isMissing(e)) {
          setPasswordLoginMissing(true);
          setUseToken(true);
        }
      })
      .finally(() => setProbed(true));
  }, []);

  if (!session.loading && session.user) return <Navigate to={next} replace />;
  if (!session.loading && session.needsSetup) return <Navigate to="/setup/" replace />;

  async function submitPassword(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setToken(null);
      await post("/auth/login/", { email, password }, { quiet401: true });
      await session.refresh();
      navigate(next, { replace: true });
    } catch (err) {
      if (isMissing(err)) setPasswordLoginMissing(true);
      setError(
        err instanceof ApiError && (err.status === 401 || err.status === 400)
          ? "That email and password do not match an account."
          : errorText(err),
      );
    } finally {
      setBusy(false);
    }
  }

  async function submitToken(e: FormEvent) {
    e.preventDefault();
    const value = token.trim();
    if (!value) return;
    setBusy(true);
    setError(null);
    setToken(value);
    try {
      await get("/users/me/", { quiet401: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setToken(null);
        setError("The server does not accept this token.");
        setBusy(false);
        return;
      }
      // Any other answer (404 on a server without accounts) leaves the token to be tried by the
      // pages themselves.
    }
    await session.refresh();
    setBusy(false);
    navigate(next, { replace: true });
  }

  return (
    <AuthShell title="Sign in" subtitle="Errors from your apps, grouped into issues.">
      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {!probed ? (
        <div className="spinner" aria-busy="true" />
      ) : !useToken ? (
        <form onSubmit={submitPassword} className="form">
          <label>
            Email
            <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Password
            <input
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <button className="btn btn-primary btn-block" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      ) : (
        <form onSubmit={submitToken} className="form">
          {passwordLoginMissing && (
            <p className="muted small">This server has no password login yet: sign in with an API token.</p>
          )}
          <label>
            API token
            <input
              type="password"
              name="token"
              autoComplete="off"
              spellCheck={false}
              required
              value={token}
              onChange={(e) => setTokenText(e.target.value)}
              placeholder="e.g. from rookery-admin bootstrap"
            />
          </label>
          <p className="muted small">Kept for this browser tab only (sessionStorage) and sent as a bearer token.</p>
          <button className="btn btn-primary btn-block" disabled={busy}>
            {busy ? "Checking…" : "Continue with token"}
          </button>
        </form>
      )}
      <div className="auth-links">
        <button type="button" className="btn btn-link" onClick={() => setUseToken(!useToken)}>
          {useToken ? "Sign in with email and password" : "Use an API token"}
        </button>
        {!useToken && !passwordLoginMissing && (
          <Link className="btn btn-link" to="/forgot-password/">
            Forgot password?
          </Link>
        )}
      </div>
    </AuthShell>
  );
}
