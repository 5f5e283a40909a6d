import { useEffect, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { enc, get, isMissing } from "../api";
import { CodeBlock, CopyButton, ErrorBox, Notice, Spinner } from "../components/ui";
import { PlatformPicker } from "../components/PlatformPicker";
import { guideFor, platformName } from "../platforms";
import type { Project, ProjectKey } from "../types";

export function GettingStarted() {
  const { org = "", project = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const [info, setInfo] = useState<Project | null>(null);
  const [keys, setKeys] = useState<ProjectKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [showPicker, setShowPicker] = useState(false);
  const [keysMissing, setKeysMissing] = useState(false);

  useEffect(() => {
    get<Project>(`/projects/${enc(org)}/${enc(project)}/`).then(setInfo, (e) => {
      if (!isMissing(e)) setError(e);
    });
    get<ProjectKey[]>(`/projects/${enc(org)}/${enc(project)}/keys/`).then(setKeys, (e) => {
      if (!isMissing(e)) return setError(e);
      setKeysMissing(true);
      setKeys([]);
    });
  }, [org, project]);

  const platform = params.get("platform") || info?.platform || "python";
  if (error) return <ErrorBox error={error} />;
  if (!keys) return <Spinner />;
  const key = keys.find((k) => k.isActive) ?? keys[0];
  const dsn = key?.dsn.public ?? "";
  const guide = guideFor(platform, dsn || "<your DSN>", key?.dsn.secret || dsn || "<your DSN>");

  return (
    <section className="page narrow">
      <div className="page-head">
        <div>
          <h1>Set up {platformName(platform)}</h1>
          <p className="muted">
            Project <strong>{info?.name ?? project}</strong>. Events appear under{" "}
            <Link to={`/organizations/${org}/projects/${project}/`}>Issues</Link> as soon as the SDK sends them.
          </p>
        </div>
        <button type="button" className="btn" onClick={() => setShowPicker(!showPicker)}>
          {showPicker ? "Done" : "Other platform"}
        </button>
      </div>
      {showPicker && (
        <PlatformPicker
          value={platform}
          onChange={(id) => {
            setParams({ platform: id }, { replace: true });
            setShowPicker(false);
          }}
        />
      )}
      <div className="card dsn-card">
        <div className="muted small">DSN (Data Source Name): tells the SDK where to send events</div>
        {dsn ? (
          <div className="dsn-row">
            <code className="dsn" data-testid="dsn">
              {dsn}
            </code>
            <CopyButton text={dsn} />
          </div>
        ) : keysMissing ? (
          <Notice kind="warn">
            This server cannot list client keys yet: use the DSN that rookery-admin bootstrap printed.
          </Notice>
        ) : (
          <Notice kind="warn">This project has no client key. Create one with rookery-admin.</Notice>
        )}
      </div>
      <ol className="steps">
        {guide.steps.map((step) => (
          <li key={step.title}>
            <h3>{step.title}</h3>
            {step.text && <p>{step.text}</p>}
            {step.code && <CodeBlock code={step.code} language={step.language} />}
          </li>
        ))}
      </ol>
      {guide.legacy && (
        <details className="legacy card" open>
          <summary>{guide.legacy.title}</summary>
          <p>{guide.legacy.text}</p>
          {guide.legacy.steps.map((step) => (
            <div key={step.title}>
              <h4>{step.title}</h4>
              {step.text && <p>{step.text}</p>}
              {step.code && <CodeBlock code={step.code} language={step.language} />}
            </div>
          ))}
        </details>
      )}
      <p>
        <Link className="btn btn-primary" to={`/organizations/${org}/projects/${project}/`}>
          Go to issues
        </Link>
      </p>
    </section>
  );
}
