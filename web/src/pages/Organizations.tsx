import { useEffect, useState } from "react";
import { Link, Navigate } from "react-router-dom";
import { get, isMissing } from "../api";
import { Empty, ErrorBox, Notice, Spinner } from "../components/ui";
import { OpenProject } from "../components/OpenProject";
import type { Organization } from "../types";

export function Organizations({ redirectSingle = false }: { redirectSingle?: boolean }) {
  const [orgs, setOrgs] = useState<Organization[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    get<Organization[]>("/organizations/").then(setOrgs, setError);
  }, []);

  if (error && isMissing(error)) {
    return (
      <section className="page">
        <h1>Open a project</h1>
        <Notice kind="warn">This server cannot list organizations yet. Open a project by its organization and project slugs.</Notice>
        <OpenProject />
      </section>
    );
  }
  if (error) return <ErrorBox error={error} />;
  if (!orgs) return <Spinner />;
  if (redirectSingle && orgs.length === 1) return <Navigate to={`/organizations/${orgs[0].slug}/projects/`} replace />;

  return (
    <section className="page">
      <h1>Organizations</h1>
      {orgs.length === 0 ? (
        <Empty title="No organizations">You are not a member of any organization.</Empty>
      ) : (
        <ul className="cards">
          {orgs.map((org) => (
            <li key={org.id}>
              <Link className="card card-link" to={`/organizations/${org.slug}/projects/`}>
                <span className="avatar">{org.name.slice(0, 1).toUpperCase()}</span>
                <span>
                  <strong>{org.name}</strong>
                  <span className="muted small block">{org.slug}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
