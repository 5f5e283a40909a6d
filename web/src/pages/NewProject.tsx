import { useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { enc, errorText, post } from "../api";
import { PlatformPicker } from "../components/PlatformPicker";
import { platformName } from "../platforms";
import type { Project } from "../types";

export function NewProject() {
  const { org = "" } = useParams();
  const navigate = useNavigate();
  const [platform, setPlatform] = useState("");
  const [name, setName] = useState("");
  const [nameTouched, setNameTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function pick(id: string) {
    setPlatform(id);
    if (!nameTouched) setName(id);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!platform) {
      setError("Pick a platform first.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const project = await post<Project>(`/organizations/${enc(org)}/projects/`, { name: name.trim(), platform });
      navigate(`/organizations/${org}/projects/${project.slug}/getting-started/?platform=${enc(platform)}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <section className="page">
      <h1>Create a project</h1>
      <p className="muted">A project receives the errors of one application. Pick its platform for setup instructions.</p>
      <form onSubmit={submit} className="form">
        <h2 className="step">1. Platform</h2>
        <PlatformPicker value={platform} onChange={pick} />
        <h2 className="step">2. Name</h2>
        <div className="form-inline">
          <label>
            Project name
            <input
              name="name"
              required
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setNameTouched(true);
              }}
              placeholder="my-app"
            />
          </label>
          <button className="btn btn-primary" disabled={busy || !platform}>
            {busy ? "Creating…" : platform ? `Create ${platformName(platform)} project` : "Create project"}
          </button>
        </div>
        {error && (
          <div className="notice notice-error" role="alert">
            {error}
          </div>
        )}
      </form>
    </section>
  );
}
