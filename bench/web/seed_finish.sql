-- bench/web, seeding step 3 of 3: the issues of the seeded events and everything the worker counts
-- for them, computed from the events as the worker does (event_store.cpp): first and last seen and
-- the tags' first and last seen from received_at and timestamp respectively, distinct users by
-- their key, events per hour of their timestamp, one grouping hash per issue, a "new" activity.
\set ON_ERROR_STOP on
SET work_mem = '256MB';
SET synchronous_commit = off;
SELECT setseed(0.43);

CREATE UNLOGGED TABLE bench_issue_counts AS
SELECT issue_id, count(*) AS n, min(received) AS first_received, max(received) AS last_received, min(ts) AS first_ts,
       max(ts) AS last_ts, count(DISTINCT user_id) AS users
  FROM bench_events GROUP BY issue_id;

INSERT INTO issues (id, project_id, short_id, title, culprit, level, type, metadata, status, times_seen, first_seen,
                    last_seen, platform, logger, user_count, resolved_at, ignore_until, ignore_until_times_seen,
                    status_changed_at, assigned_to)
SELECT b.id, b.project_id, b.short_id, b.title, b.culprit, b.level, t.type,
       jsonb_build_object('type', t.exception_type, 'value', b.value), b.status, c.n, c.first_received, c.last_received,
       t.platform, t.logger, c.users,
       CASE WHEN b.status = 'resolved' THEN least(now(), c.last_received + interval '3 hours') END,
       -- Ignored issues: half until a date (mostly to come), half until a count is reached.
       CASE WHEN b.status = 'ignored' AND b.k % 2 = 0 THEN c.last_received + interval '7 days' END,
       CASE WHEN b.status = 'ignored' AND b.k % 2 = 1 THEN c.n + 100 END,
       CASE WHEN b.status <> 'unresolved' THEN least(now(), c.last_received + interval '3 hours') END,
       CASE WHEN b.assigned THEN (SELECT min(user_id) FROM organization_members) END
  FROM bench_issues b JOIN bench_issue_counts c ON c.issue_id = b.id JOIN bench_templates t ON t.t = b.t
 ORDER BY b.id;
SELECT setval('issues_id_seq', (SELECT max(id) FROM issues));
INSERT INTO project_counters (project_id, next_short_id)
SELECT project_id, max(short_id) FROM bench_issues GROUP BY project_id
    ON CONFLICT (project_id) DO UPDATE SET next_short_id = excluded.next_short_id;

INSERT INTO group_hashes (project_id, hash, issue_id, config)
SELECT b.project_id, b.hash, b.id, t.config FROM bench_issues b JOIN bench_templates t ON t.t = b.t;

INSERT INTO issue_hourly_counts (project_id, issue_id, hour, count)
SELECT project_id, issue_id, date_trunc('hour', ts, 'UTC'), count(*) FROM bench_events GROUP BY 1, 2, 3;

INSERT INTO issue_users (project_id, issue_id, user_key, first_seen)
SELECT project_id, issue_id, 'id:' || user_id, min(received) FROM bench_events WHERE user_id IS NOT NULL
 GROUP BY 1, 2, 3;

-- The tags that vary per event, counted from the events ...
INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, last_seen)
SELECT e.project_id, e.issue_id, v.key, v.value, count(*), min(e.ts), max(e.ts)
  FROM bench_events e
 CROSS JOIN LATERAL (VALUES ('environment', e.environment), ('release', e.release), ('server_name', e.server_name),
                            ('user', 'id:' || e.user_id), ('browser', e.browser_name || ' ' || e.browser_version),
                            ('browser.name', e.browser_name), ('customer_tier', CASE WHEN e.user_id IS NOT NULL THEN e.tier END),
                            ('region', CASE WHEN e.user_id IS NOT NULL THEN e.region END)) AS v(key, value)
 WHERE v.value IS NOT NULL
 GROUP BY 1, 2, 3, 4;
-- ... and those every event of the issue shares: its level and URL, and the template's own.
INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, last_seen)
SELECT b.project_id, b.id, v.key, v.value, c.n, c.first_ts, c.last_ts
  FROM bench_issues b JOIN bench_issue_counts c ON c.issue_id = b.id JOIN bench_templates t ON t.t = b.t
 CROSS JOIN LATERAL (SELECT 'level', b.level UNION ALL SELECT 'url', b.url
                     UNION ALL SELECT x->>0, x->>1 FROM jsonb_array_elements(t.constant_tags) x) AS v(key, value);

-- The outbox row of each issue's first event, already delivered.
INSERT INTO issue_activities (project_id, issue_id, kind, event_id, created_at, dispatched_at, level, environment, tags)
SELECT DISTINCT ON (e.issue_id) e.project_id, e.issue_id, 'new', e.event_id, e.received, e.received + interval '5 seconds',
       b.level, e.environment,
       jsonb_build_object('level', b.level, 'environment', e.environment, 'release', e.release)
  FROM bench_events e JOIN bench_issues b ON b.id = e.issue_id
 ORDER BY e.issue_id, e.received, e.event_id;

DROP TABLE bench_issue_counts, bench_events, bench_issues, bench_templates;
SELECT count(*) AS issues, sum(times_seen) AS events FROM issues;
