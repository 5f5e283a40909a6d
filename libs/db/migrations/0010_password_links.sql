-- Set-password links: the invitation an invited member gets (they have no password yet), and
-- "forgot password". Only the SHA-256 of a link's token is stored, as for sessions, so a leaked
-- table opens no account. A link works once (used_at), until expires_at; issuing a new link to a
-- user marks the older unused ones used, so only the latest mail works.
CREATE TABLE password_links (
  id               bigserial PRIMARY KEY,
  token_hash       bytea NOT NULL UNIQUE,
  user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind             text NOT NULL CHECK (kind IN ('invite', 'reset')),
  organization_id  bigint REFERENCES organizations(id) ON DELETE CASCADE,  -- invite: the inviting one
  invited_by       bigint REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz
);
CREATE INDEX password_links_user ON password_links (user_id, created_at);

-- The mail carrying a link, sent by cron's alert leader with retries (like alert_deliveries), so
-- web answers at once whatever the mail server does. `link` holds the one copy of the token
-- outside the mail: it is cleared when the mail is sent, given up, or its link is used or replaced.
CREATE TABLE account_mails (
  id               bigserial PRIMARY KEY,
  link_id          bigint NOT NULL REFERENCES password_links(id) ON DELETE CASCADE,
  to_address       text NOT NULL,
  link             text,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
CREATE INDEX account_mails_due ON account_mails (next_attempt_at) WHERE status = 'pending';
CREATE INDEX account_mails_link ON account_mails (link_id);

-- "Forgot password" requests per client address, for throttling, in a table so that every web
-- replica counts the same ones. Pruned by the requests themselves.
CREATE TABLE password_reset_requests (
  id            bigserial PRIMARY KEY,
  client_ip     text NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_ip ON password_reset_requests (client_ip, requested_at);
CREATE INDEX password_reset_requests_time ON password_reset_requests (requested_at);
