-- Rookery schema, version 1: tenancy, keys, tokens, issues and events.
-- Forward-only: never edit a migration that has shipped; add the next number instead.

CREATE TABLE organizations (
  id          bigserial PRIMARY KEY,
  slug        text NOT NULL UNIQUE,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id             bigserial PRIMARY KEY,
  email          text NOT NULL UNIQUE,
  name           text NOT NULL DEFAULT '',
  password_hash  text,  -- argon2id (libsodium); NULL until a password is set
  is_superuser   boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organization_members (
  organization_id  bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id)
);

CREATE TABLE projects (
  id               bigserial PRIMARY KEY,
  organization_id  bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  slug             text NOT NULL,
  name             text NOT NULL,
  platform         text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, slug)
);

-- DSN keys. The relay caches this table in memory and reloads on NOTIFY rookery_project_keys.
CREATE TABLE project_keys (
  id          bigserial PRIMARY KEY,
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  public_key  char(32) NOT NULL UNIQUE,
  secret_key  char(32) NOT NULL,
  label       text NOT NULL DEFAULT 'Default',
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION rookery_notify_project_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('rookery_project_keys', '');
  RETURN NULL;
END $$;

CREATE TRIGGER project_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON project_keys
  FOR EACH STATEMENT EXECUTE FUNCTION rookery_notify_project_keys();

-- API tokens: only the SHA-256 of the token is stored; the token itself is shown once.
CREATE TABLE api_tokens (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE,
  name        text NOT NULL DEFAULT '',
  scopes      text[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE issues (
  id          bigserial PRIMARY KEY,
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  short_id    bigint NOT NULL,  -- per-project counter: PROJECT-1, PROJECT-2, ...
  title       text NOT NULL,
  culprit     text NOT NULL DEFAULT '',
  level       text NOT NULL,
  type        text NOT NULL,     -- 'error' or 'default'
  metadata    jsonb NOT NULL DEFAULT '{}',
  status      text NOT NULL DEFAULT 'unresolved' CHECK (status IN ('unresolved', 'resolved', 'ignored')),
  times_seen  bigint NOT NULL DEFAULT 0,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  UNIQUE (project_id, short_id)
);
CREATE INDEX issues_project_last_seen ON issues (project_id, last_seen DESC);

CREATE TABLE project_counters (
  project_id     bigint PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  next_short_id  bigint NOT NULL DEFAULT 1
);

-- Every grouping hash an event produced points at one issue; merging issues repoints hashes.
CREATE TABLE group_hashes (
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  hash        char(32) NOT NULL,
  issue_id    bigint NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
  config      text NOT NULL,
  PRIMARY KEY (project_id, hash)
);
CREATE INDEX group_hashes_issue ON group_hashes (issue_id);

-- (project_id, event_id) is the idempotency key: a replayed Kafka message inserts nothing.
CREATE TABLE events (
  project_id    bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  event_id      uuid NOT NULL,
  issue_id      bigint NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
  received_at   timestamptz NOT NULL,
  timestamp     timestamptz NOT NULL,
  platform      text NOT NULL,
  level         text NOT NULL,
  title         text NOT NULL,
  culprit       text NOT NULL DEFAULT '',
  environment   text NOT NULL DEFAULT '',
  release       text NOT NULL DEFAULT '',
  sdk_name      text NOT NULL DEFAULT '',
  sdk_version   text NOT NULL DEFAULT '',
  client_ip     inet,
  hashes        text[] NOT NULL,
  data          jsonb NOT NULL,  -- the event as the SDK sent it
  PRIMARY KEY (project_id, event_id)
);
CREATE INDEX events_issue_received ON events (issue_id, received_at DESC);

-- Messages the worker could not process, with the reason; they never block their partition.
CREATE TABLE dead_letters (
  id           bigserial PRIMARY KEY,
  topic        text NOT NULL,
  partition    integer NOT NULL,
  "offset"     bigint NOT NULL,
  reason       text NOT NULL,
  payload      bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, partition, "offset")
);
