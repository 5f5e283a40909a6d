-- Accounts and tenancy: browser sessions, login throttling, teams, and an id for memberships.

-- Sentry's member endpoints address a membership by an id of its own, not by the user's.
ALTER TABLE organization_members ADD COLUMN id bigserial UNIQUE;

-- Logins look emails up case-insensitively.
CREATE INDEX users_email_lower ON users (lower(email));

-- Browser sessions. Only the SHA-256 of the session id (the cookie) is stored, so a leaked table
-- does not log anybody in. expires_at moves forward on every request (the idle timeout).
CREATE TABLE user_sessions (
  id_hash       bytea PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires ON user_sessions (expires_at);

-- Failed logins, in a table rather than in memory so that every web replica counts the same ones.
-- Rows older than the throttling window are pruned by the logins themselves.
CREATE TABLE login_failures (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL,  -- lower-cased as typed; need not be a user's
  client_ip     text NOT NULL,
  attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, attempted_at);
CREATE INDEX login_failures_ip ON login_failures (client_ip, attempted_at);
CREATE INDEX login_failures_time ON login_failures (attempted_at);

CREATE TABLE teams (
  id               bigserial PRIMARY KEY,
  organization_id  bigint NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  slug             text NOT NULL,
  name             text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, slug)
);

CREATE TABLE team_members (
  team_id     bigint NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE project_teams (
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  team_id     bigint NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, team_id)
);
CREATE INDEX project_teams_team ON project_teams (team_id);
