import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";

/** For servers that cannot list organizations or projects yet: go to a project by its slugs. */
export function OpenProject({ org: initialOrg = "" }: { org?: string }) {
  const navigate = useNavigate();
  const [org, setOrg] = useState(initialOrg);
  const [project, setProject] = useState("");
  function submit(e: FormEvent) {
    e.preventDefault();
    if (org.trim() && project.trim()) {
      navigate(`/organizations/${encodeURIComponent(org.trim())}/projects/${encodeURIComponent(project.trim())}/`);
    }
  }
  return (
    <form className="form form-inline card" onSubmit={submit} aria-label="Open a project">
      <label>
        Organization
        <input name="org" required value={org} onChange={(e) => setOrg(e.target.value)} placeholder="acme" />
      </label>
      <label>
        Project
        <input name="project" required value={project} onChange={(e) => setProject(e.target.value)} placeholder="backend" />
      </label>
      <button className="btn btn-primary">Open issues</button>
    </form>
  );
}
