import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { enc, errorText, get, isMissing, put } from "../api";
import { EventView } from "../components/EventView";
import { ErrorBox, formatCount, LevelDot, Spinner, StatusBadge, TimeAgo } from "../components/ui";
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


type GraphPeriod = "24h" | "30d";
const PERIOD_LABEL: Record<GraphPeriod, string> = { "24h": "last 24 hours", "30d": "last 30 days" };

/** The issue's events over time (the `stats` of GET /issues/{id}/): hourly for 24h, daily for 30d. */
export function IssueGraph({ stats }: { stats: Issue["stats"] }) {
  const [period, setPeriod] = useState<GraphPeriod>("24h");
  const points = stats?.[period] ?? null;
  const available = (["24h", "30d"] as GraphPeriod[]).filter((p) => Array.isArray(stats?.[p]));
  const width = 720;
  const height = 80;
  const total = points ? points.reduce((sum, [, count]) => sum + (Number(count) || 0), 0) : 0;
  const max = points ? Math.max(1, ...points.map(([, count]) => Number(count) || 0)) : 1;
  const bar = points && points.length > 0 ? width / points.length : width;
  const label = (ts: number) =>
    period === "24h"
      ? new Date(ts * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
      : new Date(ts * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return (
    <div className="card issue-graph" data-period={period}>
      <div className="issue-graph-head">
        <span className="small">
          <strong>{points ? formatCount(total) : "—"}</strong> <span className="muted">events, {PERIOD_LABEL[period]}</span>
        </span>
        <div className="segmented" role="group" aria-label="Event graph period">
          {(["24h", "30d"] as GraphPeriod[]).map((p) => (
            <button key={p} type="button" className={period === p ? "active" : ""} aria-pressed={period === p} onClick={() => setPeriod(p)}>
              {p}
            </button>
          ))}
        </div>
      </div>
      {!points || points.length === 0 ? (
        <p className="muted small issue-graph-empty" data-testid="graph-empty">
          {available.length === 0 ? "This server does not send the event graph yet." : "No data for this period."}
        </p>
      ) : (
        <>
          <svg
            className="chart issue-chart"
            viewBox={`0 0 ${width} ${height}`}
            preserveAspectRatio="none"
            role="img"
            aria-label={`${total} events, ${PERIOD_LABEL[period]}`}
          >
            {points.map(([ts, raw], i) => {
              const count = Number(raw) || 0;
              const h = count === 0 ? 1 : Math.max(3, (count / max) * (height - 4));
              return (
                <rect key={ts} data-count={count} x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h} rx={1.5}>
                  <title>{`${new Date(ts * 1000).toLocaleString()}: ${count}`}</title>
                </rect>
              );
            })}
          </svg>
          <div className="issue-graph-axis muted small">
            <span>{label(points[0][0])}</span>
            <span>max {formatCount(max)}</span>
            <span>{label(points[points.length - 1][0])}</span>
          </div>
        </>
      )}
    </div>
  );
}

/** A tag's top values as bars, each with its share of the events that carry the tag. */
function TagFacet({ tag }: { tag: TagSummary }) {
  const values = tag.topValues ?? [];
  const sum = values.reduce((acc, v) => acc + (Number(v.count) || 0), 0);
  const total = Math.max(Number(tag.totalValues) || 0, sum, 1);
  return (
    <div className="tag-summary" data-tag={tag.key}>
      <div className="small strong">{tag.name || tag.key}</div>
      {values.slice(0, 5).map((value) => {
        const share = (Number(value.count) || 0) / total;
        const percent = share >= 0.995 ? "100%" : share < 0.01 ? "<1%" : `${Math.round(share * 100)}%`;
        return (
          <div className="tag-facet small" key={value.value} title={`${value.value || "(empty)"}: ${value.count} events (${percent})`}>
            <div className="tag-facet-fill" style={{ width: `${Math.max(share * 100, 1)}%` }} />
            <span className="tag-bar-label">{value.name || value.value || "(empty)"}</span>
            <span className="tag-facet-percent">{percent}</span>
          </div>
        );
      })}
    </div>
  );
}

type EventWithLinks = Event & { previousEventID?: string | null; nextEventID?: string | null };
const eventKey = (e: Event) => e.eventID || e.id;

export function IssueDetail() {
  const { org = "", issueId = "", eventId = "" } = useParams();
  const navigate = useNavigate();
  const [issue, setIssue] = useState<Issue | null>(null);
  const [event, setEvent] = useState<EventWithLinks | null | undefined>(undefined);
  const [events, setEvents] = useState<Event[] | null>(null);
  const [tags, setTags] = useState<TagSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [ignoreOpen, setIgnoreOpen] = useState(false);

  useEffect(() => {
    setIssue(null);
    setError(null);
    get<Issue>(`/issues/${enc(issueId)}/`).then(setIssue, setError);
    // Newer endpoints; their sections stay hidden on a server without them.
    get<TagSummary[]>(`/issues/${enc(issueId)}/tags/`).then(setTags, () => setTags(null));
    get<Event[]>(`/issues/${enc(issueId)}/events/`).then(setEvents, () => setEvents(null));
  }, [issueId]);

  // The event the URL names (/issues/{id}/events/{eventId}/), else the latest.
  useEffect(() => {
    let cancelled = false;
    setEvent(undefined);
    const which = eventId ? enc(eventId) : "latest";
    get<EventWithLinks>(`/issues/${enc(issueId)}/events/${which}/`).then(
      (e) => !cancelled && setEvent(e),
      (e) => !cancelled && (isMissing(e) ? setEvent(null) : setError(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [issueId, eventId]);

  // Older and newer: the event's own links when the server sends them, else its neighbours in
  // the issue's event list (newest first).
  const ordered = events
    ? [...events].sort((a, b) => Date.parse(b.dateCreated ?? "") - Date.parse(a.dateCreated ?? "") || eventKey(b).localeCompare(eventKey(a)))
    : null;
  const position = event && ordered ? ordered.findIndex((e) => eventKey(e) === eventKey(event)) : -1;
  const neighbour = (step: number) => (position >= 0 && ordered ? (ordered[position + step] ? eventKey(ordered[position + step]) : null) : null);
  const olderId = event ? (event.previousEventID !== undefined ? event.previousEventID : neighbour(1)) : null;
  const newerId = event ? (event.nextEventID !== undefined ? event.nextEventID : neighbour(-1)) : null;
  const eventUrl = (id: string) => `/organizations/${org}/issues/${issueId}/events/${id}/`;

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
      <IssueGraph stats={issue.stats} />
      <div className={`issue-body${(tags && tags.length > 0) || (events && events.length > 0) ? " has-side" : ""}`}>
        <div className="issue-main">
          <div className="event-nav" role="group" aria-label="Events of this issue">
            <button type="button" className="btn btn-small" disabled={!olderId} onClick={() => olderId && navigate(eventUrl(olderId))}>
              ← Older
            </button>
            <button type="button" className="btn btn-small" disabled={!newerId} onClick={() => newerId && navigate(eventUrl(newerId))}>
              Newer →
            </button>
            {eventId && (
              <Link className="btn btn-small btn-ghost" to={`/organizations/${org}/issues/${issueId}/`}>
                Latest
              </Link>
            )}
            {position >= 0 && ordered && (
              <span className="muted small" data-testid="event-position">
                {ordered.length - position} of {ordered.length}
                {Number(issue.count) > ordered.length ? "+" : ""}
              </span>
            )}
          </div>
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
                <TagFacet tag={tag} key={tag.key} />
              ))}
            </div>
          )}
          {events && events.length > 0 && (
            <div className="card">
              <h3>Recent events</h3>
              <ul className="event-list">
                {events.slice(0, 20).map((e) => (
                  <li key={e.eventID || e.id}>
                    <Link
                      className={`btn-link-plain${event && eventKey(event) === eventKey(e) ? " strong" : ""}`}
                      to={eventUrl(eventKey(e))}
                    >
                      <span className="mono">{eventKey(e).slice(0, 8)}</span>
                    </Link>{" "}
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
