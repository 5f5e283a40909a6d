import { useState, type ReactNode } from "react";
import { Link, NavLink, useNavigate, useParams } from "react-router-dom";
import { useSession } from "../session";
import { applyTheme, loadTheme, type Theme } from "../theme";

const NEXT_THEME: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };
const THEME_LABEL: Record<Theme, string> = { system: "Auto", light: "Light", dark: "Dark" };

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(loadTheme);
  return (
    <button
      type="button"
      className="btn btn-ghost theme-toggle"
      title="Colour scheme: follows the system, light, or dark"
      onClick={() => {
        const next = NEXT_THEME[theme];
        applyTheme(next);
        setTheme(next);
      }}
    >
      <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
        <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        <path d="M8 1.5a6.5 6.5 0 0 1 0 13z" fill="currentColor" />
      </svg>
      {THEME_LABEL[theme]}
    </button>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const navigate = useNavigate();
  const { org, project } = useParams();
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Rookery
        </Link>
        <nav className="crumbs" aria-label="Breadcrumb">
          {org && (
            <>
              <span className="sep">/</span>
              <NavLink to={`/organizations/${org}/projects/`} end>
                {org}
              </NavLink>
            </>
          )}
          {org && project && (
            <>
              <span className="sep">/</span>
              <NavLink to={`/organizations/${org}/projects/${project}/`} end>
                {project}
              </NavLink>
            </>
          )}
        </nav>
        {org && (
          <nav className="mainnav">
            <NavLink to={`/organizations/${org}/issues/`}>Issues</NavLink>
            <NavLink to={`/organizations/${org}/projects/`} end>
              Projects
            </NavLink>
            <NavLink to={`/organizations/${org}/settings/`}>Settings</NavLink>
          </nav>
        )}
        <div className="topbar-right">
          <ThemeToggle />
          <NavLink className="who" to="/settings/account/" title={`Account settings (${session.user?.email ?? ""})`}>
            {session.user?.name || session.user?.email}
          </NavLink>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              void session.signOut().then(() => navigate("/login/"));
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
