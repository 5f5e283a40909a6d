// Renders one event. Everything in an event comes from whoever holds the DSN (or a page that
// an attacker controls), so every value is rendered as a React text node: no HTML, no
// dangerouslySetInnerHTML, no URLs turned into links.
import { useMemo, useState } from "react";
import type { Breadcrumb, Event, ExceptionValue, Frame } from "../types";
import { TimeAgo } from "./ui";

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function pairs(value: unknown): [string, unknown][] {
  if (!value) return [];
  if (Array.isArray(value)) {
    return value
      .filter((item): item is [unknown, unknown] => Array.isArray(item) && item.length === 2)
      .map(([k, v]) => [text(k), v]);
  }
  if (typeof value === "object") return Object.entries(value as Record<string, unknown>);
  return [["", value]];
}

export function KeyValues({ data, label }: { data: unknown; label?: string }) {
  const rows = pairs(data);
  if (rows.length === 0) return null;
  return (
    <table className="kv" aria-label={label}>
      <tbody>
        {rows.map(([key, value], i) => (
          <tr key={`${key}-${i}`}>
            <th scope="row">{key}</th>
            <td>
              <pre className="kv-value">{text(value)}</pre>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Section({ title, children, id }: { title: string; children: React.ReactNode; id?: string }) {
  return (
    <section className="event-section card" data-section={id}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}

function FrameRow({ frame, open, onToggle }: { frame: Frame; open: boolean; onToggle: () => void }) {
  const where = frame.filename || frame.absPath || frame.module || frame.package || "<unknown>";
  const hasDetail = (frame.context && frame.context.length > 0) || (frame.vars && Object.keys(frame.vars).length > 0);
  return (
    <li className={`frame${frame.inApp ? " in-app" : " system"}${open ? " open" : ""}`} data-in-app={frame.inApp ? "true" : "false"}>
      <button type="button" className="frame-head" onClick={onToggle} disabled={!hasDetail} aria-expanded={hasDetail ? open : undefined}>
        <span className="frame-file">{where}</span>
        {frame.function && (
          <>
            <span className="muted"> in </span>
            <span className="frame-fn">{frame.function}</span>
          </>
        )}
        {frame.lineNo != null && (
          <>
            <span className="muted"> at line </span>
            <span className="frame-line">
              {frame.lineNo}
              {frame.colNo != null ? `:${frame.colNo}` : ""}
            </span>
          </>
        )}
        {frame.inApp && <span className="chip">In app</span>}
      </button>
      {open && hasDetail && (
        <div className="frame-body">
          {frame.context && frame.context.length > 0 && (
            <ol className="context" start={frame.context[0][0]}>
              {frame.context.map(([line, code]) => (
                <li key={line} className={line === frame.lineNo ? "current" : undefined} value={line}>
                  <span className="ln">{line}</span>
                  <code>{code ?? ""}</code>
                </li>
              ))}
            </ol>
          )}
          {frame.vars && Object.keys(frame.vars).length > 0 && <KeyValues data={frame.vars} label="Local variables" />}
        </div>
      )}
    </li>
  );
}

type Block = { kind: "frame"; index: number } | { kind: "system"; indexes: number[] };

export function Stacktrace({ frames, newestFirst }: { frames: Frame[]; newestFirst: boolean }) {
  const ordered = useMemo(() => {
    const indexes = frames.map((_, i) => i);
    return newestFirst ? indexes.reverse() : indexes;
  }, [frames, newestFirst]);
  const anyInApp = frames.some((f) => f.inApp);
  // The newest in-app frame is where the bug most likely is: open it from the start.
  const firstOpen = useMemo(() => {
    for (let i = frames.length - 1; i >= 0; i--) if (frames[i].inApp) return i;
    return frames.length - 1;
  }, [frames]);
  const [open, setOpen] = useState<Set<number>>(() => new Set([firstOpen]));
  const [expanded, setExpanded] = useState<Set<number>>(new Set());

  // Runs of system frames collapse into one row, but only when the trace has in-app frames to
  // show instead; the frame that raised is never hidden.
  const blocks: Block[] = [];
  for (const index of ordered) {
    const hide = anyInApp && !frames[index].inApp && index !== frames.length - 1;
    const last = blocks[blocks.length - 1];
    if (hide && last && last.kind === "system") last.indexes.push(index);
    else if (hide) blocks.push({ kind: "system", indexes: [index] });
    else blocks.push({ kind: "frame", index });
  }

  const toggle = (i: number) => {
    const next = new Set(open);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setOpen(next);
  };

  return (
    <ul className="frames">
      {blocks.map((block) => {
        if (block.kind === "frame") {
          return <FrameRow key={block.index} frame={frames[block.index]} open={open.has(block.index)} onToggle={() => toggle(block.index)} />;
        }
        const key = block.indexes[0];
        if (expanded.has(key)) {
          return block.indexes.map((i) => <FrameRow key={i} frame={frames[i]} open={open.has(i)} onToggle={() => toggle(i)} />);
        }
        return (
          <li key={`system-${key}`} className="frame-collapsed">
            <button type="button" className="frame-collapsed-button small" onClick={() => setExpanded(new Set(expanded).add(key))}>
              Show {block.indexes.length} system frame{block.indexes.length === 1 ? "" : "s"}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function ExceptionEntry({ values }: { values: ExceptionValue[] }) {
  const [newestFirst, setNewestFirst] = useState(true);
  // Sentry lists a chain innermost cause first; the exception that surfaced comes last.
  const chain = [...values].reverse();
  return (
    <Section title={chain.length > 1 ? "Exceptions" : "Exception"} id="exception">
      <div className="section-tools">
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setNewestFirst(!newestFirst)}>
          {newestFirst ? "Newest frame first" : "Oldest frame first"}
        </button>
      </div>
      {chain.map((exception, i) => (
        <div className="exception" key={i}>
          {i > 0 && <div className="chain-note muted small">caused by / during handling of the above:</div>}
          <h4 className="exception-title">
            <span className="exception-type">{exception.type || "Error"}</span>
            {exception.module && <span className="muted small"> ({exception.module})</span>}
          </h4>
          {exception.value != null && <pre className="exception-value">{text(exception.value)}</pre>}
          {exception.mechanism && (
            <div className="muted small">
              mechanism: {text(exception.mechanism.type)}
              {exception.mechanism.handled === false && <span className="chip chip-warn">unhandled</span>}
            </div>
          )}
          {exception.stacktrace?.frames && exception.stacktrace.frames.length > 0 ? (
            <Stacktrace frames={exception.stacktrace.frames} newestFirst={newestFirst} />
          ) : (
            <p className="muted small">No stack trace.</p>
          )}
        </div>
      ))}
    </Section>
  );
}

function breadcrumbTime(value: unknown): string {
  if (typeof value === "number") return new Date(value * 1000).toISOString().slice(11, 23);
  if (typeof value === "string") {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? value : new Date(parsed).toISOString().slice(11, 23);
  }
  return "";
}

function Breadcrumbs({ crumbs }: { crumbs: Breadcrumb[] }) {
  const [all, setAll] = useState(false);
  const shown = all ? crumbs : crumbs.slice(-10);
  return (
    <Section title="Breadcrumbs" id="breadcrumbs">
      {!all && crumbs.length > shown.length && (
        <button type="button" className="btn-link-plain small" onClick={() => setAll(true)}>
          Show {crumbs.length - shown.length} older
        </button>
      )}
      <table className="crumbs-table">
        <tbody>
          {shown.map((crumb, i) => (
            <tr key={i} className={`crumb level-row-${text(crumb.level) || "info"}`}>
              <td className="mono small muted">{breadcrumbTime(crumb.timestamp)}</td>
              <td className="small">
                <span className="chip">{text(crumb.category || crumb.type || "default")}</span>
              </td>
              <td>
                {crumb.message && <pre className="kv-value">{text(crumb.message)}</pre>}
                {crumb.data && Object.keys(crumb.data).length > 0 && <pre className="kv-value muted">{text(crumb.data)}</pre>}
              </td>
              <td className="small muted">{text(crumb.level)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function RequestEntry({ data }: { data: Record<string, unknown> }) {
  const rows: [string, unknown][] = [];
  if (data.query_string || data.query) rows.push(["Query", data.query_string ?? data.query]);
  if (data.data != null) rows.push(["Body", data.data]);
  if (data.cookies) rows.push(["Cookies", data.cookies]);
  if (data.env) rows.push(["Environment", data.env]);
  return (
    <Section title="Request" id="request">
      <p className="mono request-line">
        <strong>{text(data.method)}</strong> {text(data.url)}
      </p>
      {rows.length > 0 && <KeyValues data={rows} />}
      {data.headers != null && (
        <>
          <h4>Headers</h4>
          <KeyValues data={data.headers} label="Headers" />
        </>
      )}
    </Section>
  );
}

export function EventView({ event }: { event: Event }) {
  const entries = event.entries ?? [];
  const exception = entries.find((e) => e.type === "exception")?.data as { values?: ExceptionValue[] } | undefined;
  const message = entries.find((e) => e.type === "message")?.data as { formatted?: string } | undefined;
  const breadcrumbs = entries.find((e) => e.type === "breadcrumbs")?.data as { values?: Breadcrumb[] } | undefined;
  const req = entries.find((e) => e.type === "request")?.data as Record<string, unknown> | undefined;
  const contexts = Object.entries(event.contexts ?? {});
  const user = event.user && Object.keys(event.user).length > 0 ? event.user : null;

  return (
    <div className="event" data-event-id={event.eventID}>
      <div className="event-meta muted small">
        <span>
          Event <span className="mono">{event.eventID}</span>
        </span>
        <span>
          <TimeAgo iso={event.dateCreated} />
        </span>
        {event.platform && <span>{event.platform}</span>}
      </div>
      {event.tags && event.tags.length > 0 && (
        <div className="tags" aria-label="Tags">
          {event.tags.map((tag, i) => (
            <span className="tag" key={`${tag.key}-${i}`}>
              <span className="tag-key">{tag.key}</span>
              <span className="tag-value">{tag.value}</span>
            </span>
          ))}
        </div>
      )}
      {message?.formatted && (
        <Section title="Message" id="message">
          <pre className="message">{text(message.formatted)}</pre>
        </Section>
      )}
      {exception?.values && exception.values.length > 0 && <ExceptionEntry values={exception.values} />}
      {breadcrumbs?.values && breadcrumbs.values.length > 0 && <Breadcrumbs crumbs={breadcrumbs.values} />}
      {req && <RequestEntry data={req} />}
      {user && (
        <Section title="User" id="user">
          <KeyValues data={user} />
        </Section>
      )}
      {contexts.length > 0 && (
        <Section title="Contexts" id="contexts">
          <div className="contexts">
            {contexts.map(([name, value]) => (
              <div className="context-card" key={name}>
                <h4>{name}</h4>
                <KeyValues data={value} />
              </div>
            ))}
          </div>
        </Section>
      )}
      {event.sdk && (event.sdk.name || event.sdk.version) && (
        <Section title="SDK" id="sdk">
          <p className="mono">
            {text(event.sdk.name)} {text(event.sdk.version)}
          </p>
          {event.sdk.integrations && event.sdk.integrations.length > 0 && (
            <p className="small muted">Integrations: {event.sdk.integrations.map(text).join(", ")}</p>
          )}
        </Section>
      )}
      <details className="card raw">
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(event, null, 2)}</pre>
      </details>
    </div>
  );
}
