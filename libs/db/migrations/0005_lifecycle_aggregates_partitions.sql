-- Schema for scale and for the issue lifecycle:
--  * events partitioned by UTC day, so retention drops whole partitions and gives the disk back;
--  * per-issue aggregates kept exact by the worker (distinct users, tag values, hourly counts);
--  * ignore conditions on issues, and an activity outbox cron turns into alerts.
-- Every event-side table leads its keys with project_id: the distribution column if the schema
-- is ever spread over Citus workers.

-- Issues get a (project_id, id) key so aggregates can reference it by both columns: a cascading
-- delete then probes their (project_id, issue_id, ...) primary keys instead of scanning.
ALTER TABLE issues
  ADD CONSTRAINT issues_project_id_id UNIQUE (project_id, id),
  ADD COLUMN user_count bigint NOT NULL DEFAULT 0,
  ADD COLUMN resolved_at timestamptz,
  -- Ignore conditions; any one that is met re-surfaces the issue on its next event.
  ADD COLUMN ignore_until timestamptz,
  ADD COLUMN ignore_until_times_seen bigint,
  ADD COLUMN ignore_until_user_count bigint,
  ADD COLUMN status_changed_at timestamptz;

-- The day a row lives in is the UTC date of the event's timestamp (after clamping), which an SDK
-- keeps when it retries: a retried event lands on the same key and is stored once.
ALTER TABLE events RENAME TO events_unpartitioned;
ALTER INDEX events_issue_received RENAME TO events_unpartitioned_issue_received;
ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_pkey TO events_unpartitioned_pkey;

CREATE TABLE events (
  project_id    bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  event_id      uuid NOT NULL,
  day           date NOT NULL,
  issue_id      bigint NOT NULL,  -- no foreign key: deleting an issue deletes its events explicitly
  received_at   timestamptz NOT NULL,
  timestamp     timestamptz NOT NULL,
  platform      text NOT NULL,
  level         text NOT NULL,
  title         text NOT NULL,
  culprit       text NOT NULL DEFAULT '',
  environment   text NOT NULL DEFAULT '',
  release       text NOT NULL DEFAULT '',
  sdk_name      text NOT NULL DEFAULT '',
  sdk_version   text NOT NULL DEFAULT '',
  client_ip     inet,
  hashes        text[] NOT NULL,
  -- The payload: TOASTed out of line (see toast_tuple_target below) and lz4-compressed, so the
  -- hot columns above stay small and listing events never reads it.
  data          jsonb COMPRESSION lz4 NOT NULL,
  PRIMARY KEY (project_id, event_id, day)
) PARTITION BY RANGE (day);
CREATE INDEX events_issue_received ON events (project_id, issue_id, received_at DESC);

-- Creates the partition for one day if missing. Worker (for the days in a batch) and cron (for
-- tomorrow) both call it; two callers racing on the same day is harmless.
CREATE FUNCTION rookery_ensure_events_partition(for_day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  partition_name text := 'events_' || to_char(for_day, 'YYYYMMDD');
BEGIN
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN false;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L) '
                   'WITH (toast_tuple_target = 512)', partition_name, for_day, for_day + 1);
  EXCEPTION WHEN duplicate_table OR unique_violation THEN
    RETURN false;
  END;
  RETURN true;
END $$;

SELECT rookery_ensure_events_partition(d)
  FROM (SELECT DISTINCT (timestamp AT TIME ZONE 'UTC')::date AS d FROM events_unpartitioned) AS days;
SELECT rookery_ensure_events_partition((now() AT TIME ZONE 'UTC')::date + offset_days)
  FROM generate_series(-1, 1) AS offset_days;

INSERT INTO events (project_id, event_id, day, issue_id, received_at, timestamp, platform, level, title, culprit,
                    environment, release, sdk_name, sdk_version, client_ip, hashes, data)
  SELECT project_id, event_id, (timestamp AT TIME ZONE 'UTC')::date, issue_id, received_at, timestamp, platform,
         level, title, culprit, environment, release, sdk_name, sdk_version, client_ip, hashes, data
    FROM events_unpartitioned
  ON CONFLICT DO NOTHING;
DROP TABLE events_unpartitioned;

-- Distinct users per issue: `user_key` is Sentry's user tag value ("id:42", "email:a@b", ...).
CREATE TABLE issue_users (
  project_id  bigint NOT NULL,
  issue_id    bigint NOT NULL,
  user_key    text NOT NULL,
  first_seen  timestamptz NOT NULL,
  PRIMARY KEY (project_id, issue_id, user_key),
  FOREIGN KEY (project_id, issue_id) REFERENCES issues (project_id, id) ON DELETE CASCADE
);

CREATE TABLE issue_tag_values (
  project_id  bigint NOT NULL,
  issue_id    bigint NOT NULL,
  key         text NOT NULL,
  value       text NOT NULL,
  times_seen  bigint NOT NULL,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  PRIMARY KEY (project_id, issue_id, key, value),
  FOREIGN KEY (project_id, issue_id) REFERENCES issues (project_id, id) ON DELETE CASCADE
);

-- Events per issue per hour of their timestamp, for the issue's graph.
CREATE TABLE issue_hourly_counts (
  project_id  bigint NOT NULL,
  issue_id    bigint NOT NULL,
  hour        timestamptz NOT NULL,
  count       bigint NOT NULL,
  PRIMARY KEY (project_id, issue_id, hour),
  FOREIGN KEY (project_id, issue_id) REFERENCES issues (project_id, id) ON DELETE CASCADE
);

INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count)
  SELECT project_id, issue_id, date_trunc('hour', timestamp, 'UTC'), count(*) FROM events
   GROUP BY project_id, issue_id, date_trunc('hour', timestamp, 'UTC');

-- The outbox: written in the transaction that stored the event which caused it, so an alert is
-- neither lost (the event committed) nor invented (it did not). Cron marks rows dispatched.
CREATE TABLE issue_activities (
  id             bigserial PRIMARY KEY,
  project_id     bigint NOT NULL,
  issue_id       bigint NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('new', 'regression', 'resurfaced')),
  event_id       uuid NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  dispatched_at  timestamptz,
  FOREIGN KEY (project_id, issue_id) REFERENCES issues (project_id, id) ON DELETE CASCADE
);
CREATE INDEX issue_activities_pending ON issue_activities (id) WHERE dispatched_at IS NULL;
CREATE INDEX issue_activities_issue ON issue_activities (project_id, issue_id, id);

-- Per-project data scrubbing, on by default (Sentry's defaults).
ALTER TABLE projects
  ADD COLUMN scrub_data boolean NOT NULL DEFAULT true,
  ADD COLUMN scrub_ip_addresses boolean NOT NULL DEFAULT false,
  ADD COLUMN sensitive_fields text[] NOT NULL DEFAULT '{}',
  ADD COLUMN safe_fields text[] NOT NULL DEFAULT '{}';

-- Retention in days: the organization's, unless the project sets a shorter or longer one.
ALTER TABLE organizations
  ADD COLUMN retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 3650);
ALTER TABLE projects
  ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 1 AND 3650);
