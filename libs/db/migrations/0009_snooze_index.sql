-- Cron re-surfaces issues whose ignore duration ran out even when no event arrives (Sentry does
-- the same periodically); this keeps finding them cheap however many issues there are.
CREATE INDEX issues_snooze_expiry ON issues (ignore_until) WHERE status = 'ignored' AND ignore_until IS NOT NULL;
