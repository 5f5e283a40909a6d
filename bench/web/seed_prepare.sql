-- bench/web, seeding step 1 of 3: plans :events events in :issues issues over the projects, from
-- the templates the real pipeline (relay contract → worker) stored for a few events.
--   psql -v events=1000000 -v issues=20000 -v days=30 -f seed_prepare.sql
-- The issues and events already in the database are the templates: the worker's own rows for a
-- few sentry-python events, one issue per group. They stay, and count towards the totals. Every
-- other event is one of those payloads with what varies between events of an issue replaced
-- (event id, timestamp, environment, release, server, user, browser, custom tags), and every
-- aggregate (issue counters, tag values, users, hourly counts, hashes, the outbox) is computed
-- from the seeded events the way the worker counts them.
\set ON_ERROR_STOP on
SET work_mem = '256MB';
SET client_min_messages = warning;
SELECT setseed(0.42);

DROP TABLE IF EXISTS bench_templates, bench_issues, bench_events;

-- Tags the seed sets per event or per issue; a template's other tags (handled, mechanism, os,
-- runtime, logger, ...) are the same for every event of its issues, as they are for the worker.
CREATE FUNCTION pg_temp.seeded_tag(key text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT key IN ('level', 'environment', 'release', 'server_name', 'url', 'user', 'browser', 'browser.name',
                 'customer_tier', 'region')
$$;

CREATE UNLOGGED TABLE bench_templates AS
SELECT (row_number() OVER (ORDER BY i.id) - 1)::int AS t, i.metadata->>'type' AS exception_type, i.culprit,
       i.platform, i.logger, i.type, e.sdk_name, e.sdk_version, g.config,
       jsonb_array_length(e.data->'exception'->'values') - 1 AS last_exception,
       e.data - ARRAY['event_id', 'timestamp', 'environment', 'release', 'server_name', 'user', 'tags', 'level']
         AS data,
       coalesce((SELECT jsonb_agg(jsonb_build_array(key, value)) FROM (
                   SELECT v.key, min(v.value) AS value FROM issue_tag_values v
                    WHERE v.project_id = i.project_id AND v.issue_id = i.id AND NOT pg_temp.seeded_tag(v.key)
                    GROUP BY v.key HAVING count(*) = 1) constant), '[]') AS constant_tags
  FROM issues i
  JOIN LATERAL (SELECT * FROM events x WHERE x.project_id = i.project_id AND x.issue_id = i.id
                 ORDER BY x.received_at DESC LIMIT 1) e ON true
  JOIN LATERAL (SELECT config FROM group_hashes h WHERE h.project_id = i.project_id AND h.issue_id = i.id
                 LIMIT 1) g ON true
 WHERE i.type = 'error' AND e.data->'exception'->'values' IS NOT NULL;
SELECT count(*) > 0 AS have_templates FROM bench_templates \gset
\if :have_templates
\else
  \warn 'no templates: the pipeline stored no error events'
  \quit 3
\endif

-- The issues to add. Event counts follow a power law over the issues' rank (rank 1 about 3 % of
-- all events, the tail a dozen each), and rank k belongs to project k mod P, so every project has
-- hot issues. Each issue lives from its first event to its last, somewhere in the last :days days:
-- about 40 % were seen in the last 24 hours.
CREATE UNLOGGED TABLE bench_issues AS
WITH params AS (
  SELECT :issues - (SELECT count(*) FROM issues) AS n_issues, :events - (SELECT count(*) FROM events) AS n_events,
         (SELECT count(*) FROM projects) AS n_projects, :days AS days
), ranked AS (
  SELECT k, power(k, -0.8) AS w, sum(power(k, -0.8)) OVER () AS total, n_issues, n_events, n_projects, days
    FROM params, generate_series(1, (SELECT n_issues FROM params)) AS k
), counted AS (
  SELECT *, 1 + floor((n_events - n_issues) * w / total)::bigint AS base FROM ranked
), spread AS (
  SELECT *, (n_events - n_issues) - sum(base - 1) OVER () AS remainder FROM counted
), projects_ranked AS (
  SELECT (row_number() OVER (ORDER BY id) - 1)::int AS pi, id FROM projects
), drawn AS (
  SELECT s.k, pr.id AS project_id, pr.pi, (s.k % (SELECT count(*) FROM bench_templates))::int AS t,
         s.base + CASE WHEN s.k <= s.remainder THEN 1 ELSE 0 END AS n, s.days,
         now() - s.days * interval '1 day' * random() AS start, random() AS r_end, random() AS r_level,
         random() AS r_status, random() AS r_assign
    FROM spread s JOIN projects_ranked pr ON pr.pi = s.k % s.n_projects
)
SELECT k, project_id, pi, t, n,
       date_trunc('milliseconds', start) AS start,
       date_trunc('milliseconds', now() - (now() - start) * power(r_end, 3)) AS finish,
       CASE WHEN r_level < 0.75 THEN 'error' WHEN r_level < 0.87 THEN 'warning' WHEN r_level < 0.92 THEN 'fatal'
            ELSE 'info' END AS level,
       CASE WHEN r_status < 0.12 THEN 'resolved' WHEN r_status < 0.16 THEN 'ignored' ELSE 'unresolved' END AS status,
       r_assign < 0.05 AS assigned,
       (ARRAY['could not load order', 'timed out waiting for the payment gateway', 'invalid cart state',
              'connection reset by peer', 'permission denied for invoice', 'unexpected None in price',
              'quota exceeded for tenant', 'division by zero in refund total', 'missing key sku',
              'index out of range in shipping rates', 'failed to decode session token',
              'report generation failed'])[1 + k % 12] || ' ' || (k * 7919 % 1000003) AS value,
       'https://shop.example.com/api/v2/' ||
         (ARRAY['orders', 'cart', 'checkout', 'search', 'accounts', 'catalog', 'invoices', 'shipping'])[1 + k % 8] ||
         '/' AS url
  FROM drawn;

-- Ids and short ids in order of creation, continuing the sequences.
ALTER TABLE bench_issues ADD COLUMN id bigint, ADD COLUMN short_id bigint, ADD COLUMN title text,
  ADD COLUMN culprit text, ADD COLUMN hash text, ADD COLUMN payload jsonb;
WITH numbered AS (
  SELECT k, (SELECT coalesce(max(id), 0) FROM issues) + row_number() OVER (ORDER BY start, k) AS id,
         coalesce((SELECT next_short_id FROM project_counters c WHERE c.project_id = b.project_id), 0) +
           row_number() OVER (PARTITION BY project_id ORDER BY start, k) AS short_id
    FROM bench_issues b
)
UPDATE bench_issues b SET id = n.id, short_id = n.short_id FROM numbered n WHERE n.k = b.k;
-- The payload every event of the issue shares: its exception value, level and request URL.
UPDATE bench_issues b
   SET title = t.exception_type || ': ' || b.value, culprit = t.culprit, hash = md5('bench/web issue ' || b.id),
       payload = jsonb_set(jsonb_set(t.data, ARRAY['exception', 'values', t.last_exception::text, 'value'],
                                     to_jsonb(b.value)),
                           '{request,url}', to_jsonb(b.url), true) || jsonb_build_object('level', b.level)
  FROM bench_templates t WHERE t.t = b.t;
ALTER TABLE bench_issues ADD PRIMARY KEY (id);

-- The events: a uniform spread over the issue's life, received up to 2 s after their timestamp.
-- 60 % carry a user (of 5,000 per project, a few much more often than the rest) and with it the
-- SDK's custom tags; every one carries a browser context (Chrome 60 %, Firefox, Safari, Edge). Releases follow time: a new one every two
-- days per project.
CREATE UNLOGGED TABLE bench_events AS
SELECT b.id AS issue_id, b.project_id, b.pi, gen_random_uuid() AS event_id, e.ts,
       e.ts + date_trunc('milliseconds', random() * interval '2 seconds') AS received,
       (ARRAY['production', 'production', 'production', 'production', 'production', 'production',
              'production', 'staging', 'staging', 'development'])[1 + floor(random() * 10)::int] AS environment,
       'p' || (b.pi + 1) || '@2.' || floor(extract(epoch FROM e.ts - (now() - :days * interval '1 day')) / 172800)::int
         || '.0' AS release,
       'web-' || (1 + floor(random() * 8)::int) AS server_name,
       CASE WHEN random() < 0.6 THEN 1 + floor(5000 * power(random(), 2))::int END AS user_id,
       (ARRAY['Chrome', 'Firefox', 'Safari', 'Edge'])[1 + (e.b >= 12)::int + (e.b >= 15)::int + (e.b >= 18)::int]
         AS browser_name,
       (ARRAY['119.0.0', '120.0.0', '120.0', '17.1', '119.0.2151'])[
         1 + (e.b >= 7)::int + (e.b >= 12)::int + (e.b >= 15)::int + (e.b >= 18)::int] AS browser_version,
       (ARRAY['free', 'pro', 'enterprise'])[1 + floor(random() * 3)::int] AS tier,
       (ARRAY['eu-west-1', 'us-east-1', 'ap-southeast-2'])[1 + floor(random() * 3)::int] AS region
  FROM bench_issues b
  CROSS JOIN LATERAL (SELECT date_trunc('milliseconds', b.start + (b.finish - b.start) * random()) AS ts,
                             floor(random() * 20)::int AS b
                        FROM generate_series(1, b.n)) e;

-- The days the events fall on, for their partitions.
SELECT count(*) AS partitions_created FROM (
  SELECT rookery_ensure_events_partition(day)
    FROM (SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS day FROM bench_events) days) created;
SELECT count(*) AS seeded_issues, sum(n) AS seeded_events, max(n) AS hottest_issue FROM bench_issues;
