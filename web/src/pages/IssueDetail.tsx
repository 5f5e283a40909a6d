import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { enc, errorText, get, isMissing, put } from "../api";
import { EventView } from "../components/EventView";
import { BarChart, ErrorBox, formatCount, LevelDot, Spinner, StatusBadge, TimeAgo } from "../components/ui";
import type { Event, Issue, TagSummary } from "../types";

const IGNORE_CHOICES: { label: string; details?: Record<string, number> }[] = [
  { label: "Forever" },
  { label: "For 30 minutes", details: { ignoreDuration: 30 } },
  { label: "For 24 hours", details: { ignoreDuration: 1440 } },
  { label: "Until 100 more events", details: { ignoreCount: 100 } },
  { label: "Until 10 more users", details: { ignoreUserCount: 10 } },
];

function statusText(issue: Issue): string | null {
  const details = issue.statusDetails ?? {};
  if (issue.status === "resolved") return "This issue is resolved: a new event reopens it as a regression.";
  if (issue.status !== "ignored") return null;
  if (typeof details.ignoreUntil === "string") return `Ignored until ${new Date(details.ignoreUntil).toLocaleString()}.`;
  if (typeof details.ignoreCount === "number") return `Ignored until ${details.ignoreCount} more events.`;
  if (typeof details.ignoreUserCount === "number") return `Ignored until ${details.ignoreUserCount} more users.`;
  return "Ignored: no alerts for this issue.";
}

export function IssueDetail() {
  const { org = "", issueId = "" } = useParams();
  const [issue, setIssue] = useState<Issue | null>(null);
  const [event, setEvent] = useState<Event | null | undefined>(undefined);
  const [events, setEvents] = useState<Event[] | null>(null);
  const [tags, setTags] = useState<TagSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [ignoreOpen, setIgnoreOpen] = useState(false);

  useEffect(() => {
    setIssue(null);
    setEvent(undefined);
    setError(null);
    get<Issue>(`/issues/${enc(issueId)}/`).then(setIssue, setError);
    get<Event>(`/issues/${enc(issueId)}/events/latest/`).then(setEvent, (e) => (isMissing(e) ? setEvent(null) : setError(e)));
    // Newer endpoints; their sections stay hidden on a server without them.
    get<TagSummary[]>(`/issues/${enc(issueId)}/tags/`).then(setTags, () => setTags(null));
    get<Event[]>(`/issues/${enc(issueId)}/events/`).then(setEvents, () => setEvents(null));
  }, [issueId]);

  async function setStatus(status: Issue["status"], statusDetails?: Record<string, unknown>) {
    setBusy(true);
    setActionError(null);
    setIgnoreOpen(false);
    try {
      setIssue(await put<Issue>(`/issues/${enc(issueId)}/`, statusDetails ? { status, statusDetails } : { status }));
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorBox error={error} />;
  if (!issue) return <Spinner label="Loading issue" />;
  const banner = statusText(issue);
  const stats = issue.stats?.["24h"] ?? issue.stats?.["14d"];

  return (
    <section className="page issue-page">
      <div className="issue-header">
        <div className="issue-heading">
          <div className="muted small crumbs-inline">
            <Link to={`/organizations/${org}/projects/${issue.project.slug}/`}>{issue.project.name}</Link>
            <span className="mono">{issue.shortId}</span>
            <StatusBadge status={issue.status} />
          </div>
          <h1 className="issue-h1">
            <LevelDot level={issue.level} />
            <span>{issue.metadata?.type || issue.title}</span>
          </h1>
          {issue.metadata?.type && issue.metadata.value != null && <p className="issue-subtitle">{String(issue.metadata.value)}</p>}
          {issue.culprit && <p className="culprit mono small">{issue.culprit}</p>}
        </div>
        <div className="issue-counts">
          <div>
            <span className="muted small">Events</span>
            <strong data-testid="event-count">{formatCount(issue.count)}</strong>
          </div>
          <div>
            <span className="muted small">Users</span>
            <strong data-testid="user-count">{formatCount(issue.userCount)}</strong>
          </div>
        </div>
      </div>
      <div className="issue-actions">
        {issue.status === "unresolved" ? (
          <>
            <button type="button" className="btn btn-primary" disabled={busy} onClick={() => setStatus("resolved")}>
              Resolve
            </button>
            <div className="menu">
              <button type="button" className="btn" disabled={busy} aria-expanded={ignoreOpen} onClick={() => setIgnoreOpen(!ignoreOpen)}>
                Ignore ▾
              </button>
              {ignoreOpen && (
                <div className="menu-list" role="menu">
                  {IGNORE_CHOICES.map((choice) => (
                    <button type="button" role="menuitem" key={choice.label} onClick={() => setStatus("ignored", choice.details)}>
                      {choice.label}
                    </button>
                  ))}
                </div>
              )}
            </div>
          </>
        ) : (
          <button type="button" className="btn" disabled={busy} onClick={() => setStatus("unresolved")}>
            Unresolve
          </button>
        )}
        <span className="muted small">
          First seen <TimeAgo iso={issue.firstSeen} /> · last seen <TimeAgo iso={issue.lastSeen} />
        </span>
      </div>
      {banner && <div className={`notice notice-${issue.status === "resolved" ? "ok" : "info"}`}>{banner}</div>}
      {actionError && (
        <div className="notice notice-error" role="alert">
          {actionError}
        </div>
      )}
      {stats && (
        <div className="card">
          <BarChart points={stats} width={720} height={60} />
        </div>
      )}
      <div className={`issue-body${(tags && tags.length > 0) || (events && events.length > 0) ? " has-side" : ""}`}>
        <div className="issue-main">
          {event === undefined ? (
            <Spinner label="Loading the latest event" />
          ) : event === null ? (
            <div className="notice notice-info">No event of this issue is stored any more (retention).</div>
          ) : (
            <EventView key={event.eventID} event={event} />
          )}
        </div>
        <aside className="issue-side">
          {tags && tags.length > 0 && (
            <div className="card">
              <h3>Tags</h3>
              {tags.map((tag) => (
                <div className="tag-summary" key={tag.key}>
                  <div className="small strong">{tag.name || tag.key}</div>
                  {(tag.topValues ?? []).slice(0, 3).map((value) => (
                    <div className="tag-bar small" key={value.value}>
                      <span className="tag-bar-label">{value.name || value.value || "(empty)"}</span>
                      <span className="muted">{formatCount(value.count)}</span>
                    </div>
                  ))}
                </div>
              ))}
            </div>
          )}
          {events && events.length > 0 && (
            <div className="card">
              <h3>Recent events</h3>
              <ul className="event-list">
                {events.slice(0, 20).map((e) => (
                  <li key={e.eventID || e.id}>
                    <button
                      type="button"
                      className={`btn-link-plain${event && (event.eventID || event.id) === (e.eventID || e.id) ? " strong" : ""}`}
                      onClick={() => {
                        if (e.entries) setEvent(e);
                      }}
                    >
                      <span className="mono">{(e.eventID || e.id).slice(0, 8)}</span>
                    </button>{" "}
                    <span className="muted small">
                      <TimeAgo iso={e.dateCreated} />
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </aside>
      </div>
    </section>
  );
}
