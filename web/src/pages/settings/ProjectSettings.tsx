import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { enc, errorText, put } from "../../api";
import { ErrorBox, Spinner } from "../../components/ui";
import type { ProjectDetails } from "../../types";
import { FormError, ProjectSettingsNav, Section, splitLines, useResource } from "./common";

interface Draft {
  name: string;
  platform: string;
  retentionDays: string;
  dataScrubber: boolean;
  scrubIPAddresses: boolean;
  sensitiveFields: string;
  safeFields: string;
  fingerprintingRules: string;
  groupingEnhancements: string;
}

function toDraft(p: ProjectDetails): Draft {
  return {
    name: p.name ?? "",
    platform: p.platform ?? "",
    retentionDays: p.retentionDays == null ? "" : String(p.retentionDays),
    dataScrubber: p.dataScrubber ?? true,
    scrubIPAddresses: p.scrubIPAddresses ?? false,
    sensitiveFields: (p.sensitiveFields ?? []).join("\n"),
    safeFields: (p.safeFields ?? []).join("\n"),
    fingerprintingRules: p.fingerprintingRules ?? "",
    groupingEnhancements: p.groupingEnhancements ?? "",
  };
}

export default function ProjectSettings() {
  const { org = "", project = "" } = useParams();
  const navigate = useNavigate();
  const path = `/projects/${enc(org)}/${enc(project)}/`;
  const { data, error, set } = useResource<ProjectDetails>(path);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (data) setDraft(toDraft(data));
  }, [data]);

  const change = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setSaved(false);
    setDraft((d) => (d ? { ...d, [key]: value } : d));
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!draft) return;
    setBusy(true);
    setSaveError(null);
    setSaved(false);
    const retention = draft.retentionDays.trim();
    try {
      const updated = await put<ProjectDetails>(path, {
        name: draft.name.trim(),
        ...(draft.platform.trim() ? { platform: draft.platform.trim() } : {}),
        retentionDays: retention === "" ? null : Number(retention),
        dataScrubber: draft.dataScrubber,
        scrubIPAddresses: draft.scrubIPAddresses,
        sensitiveFields: splitLines(draft.sensitiveFields),
        safeFields: splitLines(draft.safeFields),
        fingerprintingRules: draft.fingerprintingRules,
        groupingEnhancements: draft.groupingEnhancements,
      });
      set(updated);
      setSaved(true);
      if (updated.slug && updated.slug !== project) navigate(`/organizations/${org}/projects/${updated.slug}/settings/`, { replace: true });
    } catch (err) {
      setSaveError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page settings">
      <div className="page-head">
        <h1>Project settings · {project}</h1>
        <Link className="btn btn-ghost" to={`/organizations/${org}/projects/${project}/`}>
          Back to issues
        </Link>
      </div>
      <ProjectSettingsNav org={org} project={project} />
      {error ? (
        <ErrorBox error={error} />
      ) : !draft ? (
        <Spinner />
      ) : (
        <form className="form settings-form" onSubmit={submit} aria-label="Project settings">
          <Section title="General">
            <div className="form-grid">
              <label>
                Name
                <input name="name" required value={draft.name} onChange={(e) => change("name", e.target.value)} />
              </label>
              <label>
                Platform
                <input name="platform" value={draft.platform} onChange={(e) => change("platform", e.target.value)} placeholder="python" />
              </label>
              <label>
                Retention (days)
                <input
                  name="retentionDays"
                  type="number"
                  value={draft.retentionDays}
                  onChange={(e) => change("retentionDays", e.target.value)}
                  placeholder="organization default"
                />
              </label>
            </div>
          </Section>
          <Section
            title="Data scrubbing"
            description="Values of sensitive fields (passwords, credit cards, the fields below) are replaced before events are stored."
          >
            <label className="checkbox">
              <input type="checkbox" name="dataScrubber" checked={draft.dataScrubber} onChange={(e) => change("dataScrubber", e.target.checked)} />
              Scrub data
            </label>
            <label className="checkbox">
              <input
                type="checkbox"
                name="scrubIPAddresses"
                checked={draft.scrubIPAddresses}
                onChange={(e) => change("scrubIPAddresses", e.target.checked)}
              />
              Don't store IP addresses
            </label>
            <div className="form-grid">
              <label>
                Additional sensitive fields (one a line)
                <textarea name="sensitiveFields" rows={4} value={draft.sensitiveFields} onChange={(e) => change("sensitiveFields", e.target.value)} />
              </label>
              <label>
                Safe fields (one a line)
                <textarea name="safeFields" rows={4} value={draft.safeFields} onChange={(e) => change("safeFields", e.target.value)} />
              </label>
            </div>
          </Section>
          <Section title="Grouping" description="Sentry's rule syntax: fingerprint rules (matcher -> fingerprint) and stack-trace rules (matcher +app / -app / -group).">
            <label>
              Fingerprint rules
              <textarea
                name="fingerprintingRules"
                className="mono"
                rows={5}
                value={draft.fingerprintingRules}
                onChange={(e) => change("fingerprintingRules", e.target.value)}
                placeholder="error.type:DatabaseUnavailable -> database-unavailable"
              />
            </label>
            <label>
              Stack trace rules
              <textarea
                name="groupingEnhancements"
                className="mono"
                rows={5}
                value={draft.groupingEnhancements}
                onChange={(e) => change("groupingEnhancements", e.target.value)}
                placeholder="stack.module:vendor.** -app"
              />
            </label>
          </Section>
          <div className="form-actions">
            <button className="btn btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save changes"}
            </button>
            {saved && (
              <span className="saved" role="status">
                Saved
              </span>
            )}
            <FormError error={saveError} />
          </div>
        </form>
      )}
    </section>
  );
}
