-- Event payloads as the worker's zstd-compressed JSON (bytea) instead of jsonb. PostgreSQL no
-- longer parses, re-encodes and lz4-compresses ~5 KB of JSON per event on the write path — that
-- was most of the database's CPU per event (docs/benchmarks.md, bench/worker) — and the rows, WAL
-- and COPY stream shrink to about a quarter. Nothing in SQL reads inside a payload except the
-- frequency-rule tag filters, which read the new small `tags` column instead.
-- Rows written before keep `data`; readers take whichever is set.
ALTER TABLE events ALTER COLUMN data DROP NOT NULL;
ALTER TABLE events ADD COLUMN payload bytea;
ALTER TABLE events ADD COLUMN tags jsonb;
-- Already compressed: TOAST moves it out of line without trying to compress it again. Existing
-- and future partitions take this setting from the parent.
ALTER TABLE events ALTER COLUMN payload SET STORAGE EXTERNAL;

