import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link, NavLink, useLocation, useNavigate, useParams } from "react-router-dom";
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

/** The navigation for narrow screens, where the main nav and breadcrumbs do not fit. */
function CompactMenu({ org, project }: { org?: string; project?: string }) {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setOpen(false), [location.pathname]);
  const box = useRef<HTMLDivElement>(null);
  // Escape or a click elsewhere closes it.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    const onPointer = (e: PointerEvent) => {
      if (box.current && e.target instanceof Node && !box.current.contains(e.target)) setOpen(false);
    };
    window.addEventListener("keydown", onKey);
    window.addEventListener("pointerdown", onPointer);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);
  return (
    <div className="nav-compact" ref={box}>
      <button
        type="button"
        className="btn btn-ghost nav-toggle"
        aria-expanded={open}
        aria-controls="compact-nav"
        aria-label="Menu"
        onClick={() => setOpen(!open)}
      >
        <svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">
          <path d="M2 4.5h14M2 9h14M2 13.5h14" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </button>
      {open && (
        <nav id="compact-nav" className="nav-drawer" aria-label="Menu">
          {org ? (
            <>
              <div className="nav-drawer-title muted small">{org}</div>
              <NavLink to={`/organizations/${org}/issues/`}>Issues</NavLink>
              <NavLink to={`/organizations/${org}/projects/`} end>
                Projects
              </NavLink>
              <NavLink to={`/organizations/${org}/settings/`}>Organization settings</NavLink>
              {project && (
                <>
                  <div className="nav-drawer-title muted small">{project}</div>
                  <NavLink to={`/organizations/${org}/projects/${project}/`} end>
                    {project} issues
                  </NavLink>
                  <NavLink to={`/organizations/${org}/projects/${project}/settings/`}>Project settings</NavLink>
                </>
              )}
            </>
          ) : (
            <NavLink to="/organizations/" end>
              Organizations
            </NavLink>
          )}
          <NavLink to="/settings/account/">Account settings</NavLink>
        </nav>
      )}
    </div>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const navigate = useNavigate();
  const { org, project } = useParams();
  return (
    <div className="app">
      <header className="topbar">
        <CompactMenu org={org} project={project} />
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
