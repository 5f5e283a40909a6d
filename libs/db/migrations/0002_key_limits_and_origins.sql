-- Per-key rate limits and allowed origins, enforced by the relay from its in-memory key cache.
ALTER TABLE project_keys
  ADD COLUMN rate_limit_count integer CHECK (rate_limit_count > 0),
  ADD COLUMN rate_limit_window_seconds integer CHECK (rate_limit_window_seconds BETWEEN 1 AND 86400),
  -- Host patterns browsers may send events from: '*' (any), 'example.com', '*.example.com'.
  ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{*}',
  ADD CONSTRAINT project_keys_rate_limit_complete
    CHECK ((rate_limit_count IS NULL) = (rate_limit_window_seconds IS NULL));
