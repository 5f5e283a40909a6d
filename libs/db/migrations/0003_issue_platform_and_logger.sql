-- An issue shows the platform and logger of the event that created it (Sentry does), not the
-- project's platform.
ALTER TABLE issues
  ADD COLUMN platform text NOT NULL DEFAULT 'other',
  ADD COLUMN logger text NOT NULL DEFAULT '';
