-- Per-project grouping rules in Sentry's text languages, applied by the worker:
-- fingerprinting ("error.type:DatabaseError -> database-errors") and stack-trace rules
-- ("path:**/vendor/** -app"). Empty means none.
ALTER TABLE projects
  ADD COLUMN fingerprinting_rules text NOT NULL DEFAULT '',
  ADD COLUMN stacktrace_rules text NOT NULL DEFAULT '';
