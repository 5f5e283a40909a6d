-- Tag value counts as deltas folded in later, as Sentry's buffers do for its tag counters.
-- Upserting every tag of every event into issue_tag_values was half of PostgreSQL's CPU per event
-- (bench/worker: ~7.8 upserted rows per event, ~58 of ~115 µs) and the rows every batch contended
-- on. The worker now appends one row per issue per batch here, in the batch's transaction (so a
-- replay adds nothing: only newly stored events are counted), and rookery_fold_tag_deltas sums
-- what has piled up into issue_tag_values: folded every second under load, a value seen many
-- times is one upsert instead of one per batch. When it is not under load (a batch that did not
-- fill up) the worker folds in the batch's own transaction, so the counts are exact at commit.
-- No index: the table holds seconds of data, and folds take it whole.
CREATE TABLE issue_tag_deltas (
  project_id  bigint NOT NULL,
  issue_id    bigint NOT NULL,
  keys        text[] NOT NULL,
  "values"    text[] NOT NULL,
  counts      bigint[] NOT NULL,
  first_ms    bigint[] NOT NULL,  -- event timestamps, unix milliseconds
  last_ms     bigint[] NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- One fold at a time: two would only queue on the same tag rows. `wait` false skips the fold when
-- another is running (it will take these deltas too). Returns the delta rows taken, -1 if skipped.
-- Deltas of an issue deleted meanwhile are dropped (rookery_drop_issue_aggregates removed its rows).
-- The memory lets a fold of max_rows (the worker asks for 5,000 rows, ~12,000 events) sum and sort
-- in memory instead of spilling to disk.
CREATE FUNCTION rookery_fold_tag_deltas(max_rows integer, wait boolean) RETURNS integer
LANGUAGE plpgsql SET work_mem = '32MB' AS $$
DECLARE
  taken integer;
BEGIN
  IF wait THEN
    PERFORM pg_advisory_xact_lock(hashtext('rookery_fold_tag_deltas'));
  ELSIF NOT pg_try_advisory_xact_lock(hashtext('rookery_fold_tag_deltas')) THEN
    RETURN -1;
  END IF;
  -- Rows in key order, as a merge writes them too, so the two wait for each other rather than deadlock.
  WITH moved AS (
    DELETE FROM issue_tag_deltas
     WHERE ctid = ANY (ARRAY(SELECT ctid FROM issue_tag_deltas LIMIT max_rows))
    RETURNING project_id, issue_id, keys, "values", counts, first_ms, last_ms
  ), summed AS (
    SELECT m.project_id, m.issue_id, t.key, t.value, sum(t.n) AS n, min(t.f) AS f, max(t.l) AS l
      FROM moved m
      CROSS JOIN LATERAL unnest(m.keys, m."values", m.counts, m.first_ms, m.last_ms) AS t(key, value, n, f, l)
     GROUP BY 1, 2, 3, 4
  ), written AS (
    INSERT INTO issue_tag_values (project_id, issue_id, key, value, times_seen, first_seen, last_seen)
    SELECT s.project_id, s.issue_id, s.key, s.value, s.n,
           timestamptz 'epoch' + s.f * interval '1 millisecond', timestamptz 'epoch' + s.l * interval '1 millisecond'
      FROM summed s
     WHERE EXISTS (SELECT 1 FROM issues i WHERE i.id = s.issue_id AND i.project_id = s.project_id)
     ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, issue_id, key, value) DO UPDATE SET
      times_seen = issue_tag_values.times_seen + excluded.times_seen,
      first_seen = LEAST(issue_tag_values.first_seen, excluded.first_seen),
      last_seen = GREATEST(issue_tag_values.last_seen, excluded.last_seen)
    RETURNING 1
  )
  SELECT count(*) INTO taken FROM moved;
  RETURN taken;
END
$$;

-- The foreign keys from the per-issue aggregates to issues were checked on every inserted row
-- (bench/worker: ~5 µs per event for issue_users alone, ~1.2 µs per tag row); a trigger gives
-- deletion the same cascade, pending tag deltas included. A worker batch that routed an event to
-- an issue deleted meanwhile still fails, when it locks the issue to count the event, and is
-- retried whole. Tag deltas go first, in their own statement: a fold that has taken some is waited
-- for, and the tag rows it wrote are then visible to the next statement.
ALTER TABLE issue_tag_values DROP CONSTRAINT issue_tag_values_project_id_issue_id_fkey;
ALTER TABLE issue_users DROP CONSTRAINT issue_users_project_id_issue_id_fkey;
ALTER TABLE issue_hourly_counts DROP CONSTRAINT issue_hourly_counts_project_id_issue_id_fkey;

CREATE FUNCTION rookery_drop_issue_aggregates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM issue_tag_deltas d USING gone g WHERE d.project_id = g.project_id AND d.issue_id = g.id;
  DELETE FROM issue_tag_values t USING gone g WHERE t.project_id = g.project_id AND t.issue_id = g.id;
  DELETE FROM issue_users u USING gone g WHERE u.project_id = g.project_id AND u.issue_id = g.id;
  DELETE FROM issue_hourly_counts h USING gone g WHERE h.project_id = g.project_id AND h.issue_id = g.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER issues_drop_aggregates AFTER DELETE ON issues
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION rookery_drop_issue_aggregates();
