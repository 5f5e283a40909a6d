import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { enc, get, isMissing } from "../api";
import { Empty, ErrorBox, Notice, Spinner } from "../components/ui";
import { OpenProject } from "../components/OpenProject";
import { platformName, PlatformIcon } from "../platforms";
import type { Project } from "../types";

export function Projects() {
  const { org = "" } = useParams();
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setProjects(null);
    setError(null);
    get<Project[]>(`/organizations/${enc(org)}/projects/`).then(setProjects, setError);
  }, [org]);

  return (
    <section className="page">
      <div className="page-head">
        <h1>Projects</h1>
        <div className="actions">
          <Link className="btn" to={`/organizations/${org}/issues/`}>
            All issues
          </Link>
          <Link className="btn" to={`/organizations/${org}/settings/`}>
            Organization settings
          </Link>
          <Link className="btn btn-primary" to={`/organizations/${org}/projects/new/`}>
            New project
          </Link>
        </div>
      </div>
      {error && isMissing(error) ? (
        <>
          <Notice kind="warn">This server cannot list projects yet. Open one by its slug.</Notice>
          <OpenProject org={org} />
        </>
      ) : error ? (
        <ErrorBox error={error} />
      ) : !projects ? (
        <Spinner />
      ) : projects.length === 0 ? (
        <Empty title="No projects yet">
          <p>Create a project to get a DSN for your application's SDK.</p>
          <Link className="btn btn-primary" to={`/organizations/${org}/projects/new/`}>
            Create a project
          </Link>
        </Empty>
      ) : (
        <ul className="cards">
          {projects.map((project) => (
            <li key={project.id}>
              <div className="card project-card">
                <Link className="project-card-main" to={`/organizations/${org}/projects/${project.slug}/`}>
                  <PlatformIcon platform={project.platform} />
                  <span>
                    <strong>{project.name}</strong>
                    <span className="muted small block">
                      {project.slug} · {platformName(project.platform)}
                    </span>
                  </span>
                </Link>
                <span className="actions">
                  <Link className="btn btn-small btn-ghost" to={`/organizations/${org}/projects/${project.slug}/getting-started/`}>
                    Setup
                  </Link>
                  <Link
                    className="btn btn-small btn-ghost"
                    to={`/organizations/${org}/projects/${project.slug}/settings/`}
                    aria-label={`Settings of ${project.name}`}
                  >
                    Settings
                  </Link>
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
