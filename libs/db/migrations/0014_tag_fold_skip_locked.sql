-- Two corrections to the tag fold of 0013, found by review.
-- A fold takes pending deltas with SKIP LOCKED: rows a merge is re-pointing (or a delete or an
-- unmerge is dropping) are left for the next fold instead of waited for. Waiting there, while
-- holding tag rows written earlier in the same transaction, deadlocked with a merge that waited
-- for those tag rows. (The worker also commits each chunk on its own now.)
CREATE OR REPLACE FUNCTION rookery_fold_tag_deltas(max_rows integer, wait boolean) RETURNS integer
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
     WHERE ctid = ANY (ARRAY(SELECT ctid FROM issue_tag_deltas LIMIT max_rows FOR UPDATE SKIP LOCKED))
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

-- A row whose arrays differ in length would unnest to NULL keys or values and fail every fold
-- after it; refuse it at the door instead.
ALTER TABLE issue_tag_deltas ADD CONSTRAINT issue_tag_deltas_aligned CHECK (
  cardinality(keys) = cardinality("values") AND cardinality(keys) = cardinality(counts)
  AND cardinality(keys) = cardinality(first_ms) AND cardinality(keys) = cardinality(last_ms));
