import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { enc, errorText, get, isMissing, linkCursor, request } from "../api";
import { bulkUpdate, type BulkChange } from "../bulk";
import { BarChart, ConfirmButton, Empty, ErrorBox, formatCount, LevelDot, Notice, Spinner, StatusBadge, TimeAgo } from "../components/ui";
import { OpenProject } from "../components/OpenProject";
import type { Issue, Project } from "../types";

const STATUSES = [
  { label: "Unresolved", token: "is:unresolved" },
  { label: "Resolved", token: "is:resolved" },
  { label: "Ignored", token: "is:ignored" },
  { label: "All", token: "" },
];
const SORTS = [
  { id: "date", label: "Last seen" },
  { id: "new", label: "First seen" },
  { id: "freq", label: "Events" },
  { id: "user", label: "Users" },
];
const STATUS_TOKEN = /(^|\s)is:(unresolved|resolved|ignored)(?=\s|$)/g;

export function statusOf(query: string): string {
  const match = query.match(/(?:^|\s)(is:(?:unresolved|resolved|ignored))(?=\s|$)/);
  return match ? match[1] : "";
}

export function withStatus(query: string, token: string): string {
  const rest = query.replace(STATUS_TOKEN, " ").replace(/\s+/g, " ").trim();
  return [token, rest].filter(Boolean).join(" ");
}

// The server sorts; this only keeps one page in the chosen order when it answers unsorted.
function sortPage(issues: Issue[], sort: string): Issue[] {
  const key: Record<string, (i: Issue) => number> = {
    date: (i) => Date.parse(i.lastSeen),
    new: (i) => Date.parse(i.firstSeen),
    freq: (i) => Number(i.count),
    user: (i) => i.userCount,
  };
  const f = key[sort] ?? key.date;
  return [...issues].sort((a, b) => f(b) - f(a));
}

export function IssueList() {
  const { org = "", project } = useParams();
  const [params, setParams] = useSearchParams();
  const query = params.get("query") ?? "is:unresolved";
  const sort = params.get("sort") ?? "date";
  const period = params.get("statsPeriod") ?? "24h";
  const cursor = params.get("cursor") ?? "";
  const [draft, setDraft] = useState(query);
  const [issues, setIssues] = useState<Issue[] | null>(null);
  const [cursors, setCursors] = useState<{ next: string | null; previous: string | null }>({ next: null, previous: null });
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [projects, setProjects] = useState<Project[] | null>(null);

  useEffect(() => setDraft(query), [query]);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    const search = new URLSearchParams({ query, sort, statsPeriod: period });
    if (cursor) search.set("cursor", cursor);
    const path = project
      ? `/projects/${enc(org)}/${enc(project)}/issues/?${search}`
      : `/organizations/${enc(org)}/issues/?${search}`;
    request<Issue[]>("GET", path).then(
      ({ data, headers }) => {
        if (cancelled) return;
        setIssues(sortPage(data, sort));
        setCursors({ next: linkCursor(headers, "next"), previous: linkCursor(headers, "previous") });
        setSelected(new Set());
      },
      (e) => {
        if (cancelled) return;
        setIssues(null);
        setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [org, project, query, sort, period, cursor, reload]);

  useEffect(() => {
    // Organization-wide search may not exist on this server: offer the projects instead.
    if (!project && error && isMissing(error)) {
      get<Project[]>(`/organizations/${enc(org)}/projects/`).then(setProjects, () => setProjects([]));
    }
  }, [org, project, error]);

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) next.delete(key);
      else next.set(key, value);
    }
    if (!("cursor" in changes)) next.delete("cursor");
    setParams(next);
  };

  const selectedIssues = useMemo(() => (issues ?? []).filter((i) => selected.has(i.id)), [issues, selected]);
  const allSelected = !!issues && issues.length > 0 && selected.size === issues.length;

  async function apply(change: BulkChange) {
    setBusy(true);
    setActionError(null);
    try {
      await bulkUpdate(org, selectedIssues, change);
      setReload((n) => n + 1);
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    update({ query: draft.trim() });
  }

  const currentStatus = statusOf(query);

  return (
    <section className="page">
      <div className="page-head">
        <h1>{project ? `Issues · ${project}` : "Issues"}</h1>
        {project && (
          <div className="actions">
            <Link className="btn btn-ghost" to={`/organizations/${org}/projects/${project}/getting-started/`}>
              Setup &amp; DSN
            </Link>
            <Link className="btn btn-ghost" to={`/organizations/${org}/projects/${project}/settings/`}>
              Project settings
            </Link>
          </div>
        )}
      </div>
      <form className="searchbar" onSubmit={submit} role="search">
        <input
          type="search"
          name="query"
          aria-label="Search issues"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="is:unresolved TypeError"
        />
        <button className="btn">Search</button>
      </form>
      <div className="toolbar">
        <div className="tabs" role="tablist" aria-label="Status">
          {STATUSES.map((s) => (
            <button
              key={s.label}
              type="button"
              role="tab"
              aria-selected={currentStatus === s.token}
              className={`tab${currentStatus === s.token ? " active" : ""}`}
              onClick={() => update({ query: withStatus(query, s.token) })}
            >
              {s.label}
            </button>
          ))}
        </div>
        <div className="toolbar-right">
          <label className="inline-label">
            Sort
            <select value={sort} onChange={(e) => update({ sort: e.target.value })} aria-label="Sort by">
              {SORTS.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <div className="segmented" role="group" aria-label="Graph period">
            {["24h", "14d"].map((p) => (
              <button key={p} type="button" className={period === p ? "active" : ""} onClick={() => update({ statsPeriod: p })}>
                {p}
              </button>
            ))}
          </div>
        </div>
      </div>

      {error && isMissing(error) && !project ? (
        <>
          <Notice kind="warn">This server has no organization-wide issue search yet. Pick a project:</Notice>
          {projects && projects.length > 0 ? (
            <ul className="cards">
              {projects.map((p) => (
                <li key={p.id}>
                  <Link className="card card-link" to={`/organizations/${org}/projects/${p.slug}/`}>
                    <strong>{p.name}</strong>
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <OpenProject org={org} />
          )}
        </>
      ) : error ? (
        <ErrorBox error={error} />
      ) : !issues ? (
        <Spinner label="Loading issues" />
      ) : (
        <div className="issue-table" role="table" aria-label="Issues">
          <div className="issue-row issue-head" role="row">
            <label className="check" role="columnheader">
              <input
                type="checkbox"
                aria-label="Select all"
                checked={allSelected}
                onChange={() => setSelected(allSelected ? new Set() : new Set(issues.map((i) => i.id)))}
              />
            </label>
            {selected.size > 0 ? (
              <div className="bulk" role="columnheader">
                <span className="muted small">{selected.size} selected</span>
                <button type="button" className="btn btn-small" disabled={busy} onClick={() => apply({ status: "resolved" })}>
                  Resolve
                </button>
                <button type="button" className="btn btn-small" disabled={busy} onClick={() => apply({ status: "ignored" })}>
                  Ignore
                </button>
                <button type="button" className="btn btn-small" disabled={busy} onClick={() => apply({ status: "unresolved" })}>
                  Unresolve
                </button>
                <ConfirmButton
                  label="Merge"
                  confirm={`Merge ${selected.size} issues?`}
                  title="Merging moves all events into one issue; it cannot be undone here"
                  disabled={busy || selected.size < 2}
                  onConfirm={() => apply({ merge: 1 })}
                />
              </div>
            ) : (
              <div className="col-title muted small" role="columnheader">
                Issue
              </div>
            )}
            <div className="col-graph muted small" role="columnheader">
              Graph ({period})
            </div>
            <div className="col-num muted small" role="columnheader">
              Events
            </div>
            <div className="col-num muted small" role="columnheader">
              Users
            </div>
          </div>
          {actionError && (
            <div className="notice notice-error" role="alert">
              {actionError}
            </div>
          )}
          {issues.length === 0 ? (
            <Empty title="No issues match">
              <p className="muted">{query ? `Nothing for “${query}”.` : "Nothing has been reported yet."}</p>
            </Empty>
          ) : (
            issues.map((issue) => (
              <div className={`issue-row${selected.has(issue.id) ? " selected" : ""}`} role="row" key={issue.id} data-issue-id={issue.id}>
                <label className="check" role="cell">
                  <input
                    type="checkbox"
                    aria-label={`Select ${issue.shortId}`}
                    checked={selected.has(issue.id)}
                    onChange={() => {
                      const next = new Set(selected);
                      if (next.has(issue.id)) next.delete(issue.id);
                      else next.add(issue.id);
                      setSelected(next);
                    }}
                  />
                </label>
                <div className="col-title" role="cell">
                  <Link className="issue-title" to={`/organizations/${org}/issues/${issue.id}/`}>
                    <LevelDot level={issue.level} />
                    <span className="issue-type">{issue.metadata?.type || issue.title}</span>
                    {issue.metadata?.type && issue.metadata.value != null && (
                      <span className="issue-value">{String(issue.metadata.value)}</span>
                    )}
                  </Link>
                  <div className="issue-meta muted small">
                    <span className="mono">{issue.shortId}</span>
                    {issue.culprit && <span className="culprit">{issue.culprit}</span>}
                    <span>
                      <TimeAgo iso={issue.lastSeen} /> · first <TimeAgo iso={issue.firstSeen} />
                    </span>
                    {issue.status !== "unresolved" && <StatusBadge status={issue.status} />}
                  </div>
                </div>
                <div className="col-graph" role="cell">
                  {issue.stats?.[period] && <BarChart points={issue.stats[period]} />}
                </div>
                <div className="col-num" role="cell" title={`${issue.count} events`}>
                  {formatCount(issue.count)}
                </div>
                <div className="col-num" role="cell" title={`${issue.userCount} users`}>
                  {formatCount(issue.userCount)}
                </div>
              </div>
            ))
          )}
        </div>
      )}
      {(cursors.next || cursors.previous) && (
        <div className="pager">
          <button type="button" className="btn" disabled={!cursors.previous} onClick={() => update({ cursor: cursors.previous })}>
            ‹ Previous
          </button>
          <button type="button" className="btn" disabled={!cursors.next} onClick={() => update({ cursor: cursors.next })}>
            Next ›
          </button>
        </div>
      )}
    </section>
  );
}
