-- Alerts: rules per project, the notifications they produce from the activity outbox, and the
-- deliveries (one email or webhook call each) that carry them, with retry state and a dedupe key.

CREATE TABLE alert_rules (
  id               bigserial PRIMARY KEY,
  project_id       bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name             text NOT NULL,
  enabled          boolean NOT NULL DEFAULT true,
  -- Triggers: any of them fires the rule.
  on_new           boolean NOT NULL DEFAULT false,
  on_regression    boolean NOT NULL DEFAULT false,
  on_resurfaced    boolean NOT NULL DEFAULT false,
  -- "seen more than frequency_count times in frequency_minutes minutes"; NULL = no such trigger.
  frequency_count    integer CHECK (frequency_count > 0),
  frequency_minutes  integer CHECK (frequency_minutes BETWEEN 1 AND 10080),
  -- Filters, all of which must hold: the event's level at least this, its environment, its tags.
  min_level        text CHECK (min_level IN ('debug', 'info', 'warning', 'error', 'fatal')),
  environment      text,
  tag_filters      jsonb NOT NULL DEFAULT '{}',  -- {"key": "value", ...}
  -- Actions.
  email_members    boolean NOT NULL DEFAULT false,  -- the project's team: its organization's members
  email_addresses  text[] NOT NULL DEFAULT '{}',
  webhook_url      text,
  webhook_secret   text,                              -- HMAC-SHA256 key for X-Rookery-Signature
  slack_url        text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((frequency_count IS NULL) = (frequency_minutes IS NULL))
);
CREATE INDEX alert_rules_project ON alert_rules (project_id);

-- Every project starts with Sentry's default: email the team on new and regressed issues.
CREATE FUNCTION rookery_default_alert_rule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO alert_rules (project_id, name, on_new, on_regression, email_members)
    VALUES (NEW.id, 'Email the team on new and regressed issues', true, true, true);
  RETURN NULL;
END $$;
CREATE TRIGGER projects_default_alert_rule AFTER INSERT ON projects
  FOR EACH ROW EXECUTE FUNCTION rookery_default_alert_rule();
INSERT INTO alert_rules (project_id, name, on_new, on_regression, email_members)
  SELECT id, 'Email the team on new and regressed issues', true, true, true FROM projects;

-- Per-user email settings: a row per project the user changed (project_id NULL = all projects).
CREATE TABLE notification_settings (
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id   bigint REFERENCES projects(id) ON DELETE CASCADE,
  email_alerts boolean NOT NULL,
  UNIQUE NULLS NOT DISTINCT (user_id, project_id)
);

-- One issue to tell one channel about. `dedupe_key` makes producing it idempotent (cron may
-- re-read an activity after a crash); a delivery later carries one or many (a digest).
CREATE TABLE alert_notifications (
  id           bigserial PRIMARY KEY,
  project_id   bigint NOT NULL,
  issue_id     bigint NOT NULL,
  rule_id      bigint NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  channel      text NOT NULL,  -- 'email:<address>', 'webhook:<rule id>', 'slack:<rule id>'
  reason       text NOT NULL,  -- 'new', 'regression', 'resurfaced', 'frequency'
  event_id     uuid,
  dedupe_key   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  delivery_id  bigint,         -- NULL while waiting for the channel's next message
  suppressed   boolean NOT NULL DEFAULT false,  -- the issue already went to the channel this window
  FOREIGN KEY (project_id, issue_id) REFERENCES issues (project_id, id) ON DELETE CASCADE
);
CREATE INDEX alert_notifications_waiting ON alert_notifications (project_id, channel)
  WHERE delivery_id IS NULL AND NOT suppressed;

-- One message to one channel. Sent at most once: a row is claimed, sent, then marked; a failed
-- transient send is retried at next_attempt_at with backoff.
CREATE TABLE alert_deliveries (
  id               bigserial PRIMARY KEY,
  project_id       bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  rule_id          bigint REFERENCES alert_rules(id) ON DELETE SET NULL,
  channel          text NOT NULL,
  issue_ids        bigint[] NOT NULL,
  reasons          text[] NOT NULL,  -- why each issue is in it, parallel to issue_ids
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_channel ON alert_deliveries (project_id, channel, created_at DESC);

-- What alert filters look at: the triggering event's level, environment and tags, copied into
-- the outbox row so cron never has to find the event among the partitions.
ALTER TABLE issue_activities
  ADD COLUMN level text NOT NULL DEFAULT 'error',
  ADD COLUMN environment text NOT NULL DEFAULT '',
  ADD COLUMN tags jsonb NOT NULL DEFAULT '{}';
