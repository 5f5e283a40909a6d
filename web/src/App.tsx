import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { Layout } from "./components/Layout";
import { useSession } from "./session";
import { Login } from "./pages/Login";
import { Setup } from "./pages/Setup";
import { Organizations } from "./pages/Organizations";
import { Projects } from "./pages/Projects";
import { NewProject } from "./pages/NewProject";
import { GettingStarted } from "./pages/GettingStarted";
import { IssueList } from "./pages/IssueList";
import { IssueDetail } from "./pages/IssueDetail";
import { NotFound } from "./pages/NotFound";
import { lazy, Suspense, type ReactNode } from "react";
import { Spinner } from "./components/ui";

// Settings are visited rarely: their code loads on demand, outside the first-load bundle.
const ProjectSettings = lazy(() => import("./pages/settings/ProjectSettings"));
const ProjectKeys = lazy(() => import("./pages/settings/ProjectKeys"));
const AlertRules = lazy(() => import("./pages/settings/AlertRules"));
const OrgSettings = lazy(() => import("./pages/settings/OrgSettings"));
const AccountSettings = lazy(() => import("./pages/settings/AccountSettings"));
const ForgotPassword = lazy(() => import("./pages/Password").then((m) => ({ default: m.ForgotPassword })));
const SetPassword = lazy(() => import("./pages/Password").then((m) => ({ default: m.SetPassword })));

function RequireUser({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session.loading) return <div className="splash" aria-busy="true" />;
  if (!session.user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={session.needsSetup ? "/setup/" : `/login/?next=${next}`} replace />;
  }
  return <Layout>{children}</Layout>;
}

export function App() {
  const guard = (page: ReactNode) => <RequireUser>{page}</RequireUser>;
  const lazyGuard = (page: ReactNode) => guard(<Suspense fallback={<Spinner />}>{page}</Suspense>);
  const lazyOpen = (page: ReactNode) => <Suspense fallback={<div className="splash" aria-busy="true" />}>{page}</Suspense>;
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      <Route path="/setup" element={<Setup />} />
      <Route path="/forgot-password" element={lazyOpen(<ForgotPassword />)} />
      <Route path="/accept/:token" element={lazyOpen(<SetPassword />)} />
      <Route path="/reset/:token" element={lazyOpen(<SetPassword />)} />
      <Route path="/" element={guard(<Organizations redirectSingle />)} />
      <Route path="/organizations" element={guard(<Organizations />)} />
      <Route path="/organizations/:org" element={guard(<Projects />)} />
      <Route path="/organizations/:org/projects" element={guard(<Projects />)} />
      <Route path="/organizations/:org/projects/new" element={guard(<NewProject />)} />
      <Route path="/organizations/:org/projects/:project" element={guard(<IssueList />)} />
      <Route path="/organizations/:org/projects/:project/getting-started" element={guard(<GettingStarted />)} />
      <Route path="/organizations/:org/projects/:project/settings" element={lazyGuard(<ProjectSettings />)} />
      <Route path="/organizations/:org/projects/:project/settings/keys" element={lazyGuard(<ProjectKeys />)} />
      <Route path="/organizations/:org/projects/:project/settings/alerts" element={lazyGuard(<AlertRules />)} />
      <Route path="/organizations/:org/settings" element={lazyGuard(<OrgSettings />)} />
      <Route path="/settings/account" element={lazyGuard(<AccountSettings />)} />
      <Route path="/organizations/:org/issues" element={guard(<IssueList />)} />
      <Route path="/organizations/:org/issues/:issueId" element={guard(<IssueDetail />)} />
      <Route path="/organizations/:org/issues/:issueId/events/:eventId" element={guard(<IssueDetail />)} />
      <Route path="*" element={guard(<NotFound />)} />
    </Routes>
  );
}
