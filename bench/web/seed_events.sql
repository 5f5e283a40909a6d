-- bench/web, seeding step 2 of 3: writes the planned events of part :part of :parts into `events`
-- (several sessions run at once). Each row is what the worker's COPY writes: the columns it
-- derives, the template's payload with this event's own fields, lz4-compressed out of line.
--   psql -v part=0 -v parts=2 -f seed_events.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;
INSERT INTO events (project_id, event_id, day, issue_id, received_at, timestamp, platform, level, title, culprit,
                    environment, release, sdk_name, sdk_version, client_ip, hashes, data)
SELECT e.project_id, e.event_id, (e.ts AT TIME ZONE 'UTC')::date, e.issue_id, e.received, e.ts, t.platform, b.level,
       b.title, b.culprit, e.environment, e.release, t.sdk_name, t.sdk_version,
       ('10.' || (e.pi + 1) || '.' || coalesce(e.user_id, 0) / 256 || '.' || coalesce(e.user_id, 0) % 256)::inet,
       ARRAY[b.hash],
       b.payload || jsonb_build_object(
         'event_id', replace(e.event_id::text, '-', ''),
         'timestamp', to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'environment', e.environment, 'release', e.release, 'server_name', e.server_name,
         'contexts', coalesce(b.payload->'contexts', '{}') || jsonb_build_object('browser', jsonb_build_object(
           'name', e.browser_name, 'version', e.browser_version, 'type', 'browser')))
       || CASE WHEN e.user_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
            'user', jsonb_build_object('id', e.user_id::text, 'email', 'customer' || e.user_id || '@example.com',
                                       'ip_address', '10.' || (e.pi + 1) || '.' || e.user_id / 256 || '.' || e.user_id % 256),
            'tags', jsonb_build_object('customer_tier', e.tier, 'region', e.region))
          END
  FROM bench_events e
  JOIN bench_issues b ON b.id = e.issue_id
  JOIN bench_templates t ON t.t = b.t
 WHERE e.issue_id % :parts = :part;
