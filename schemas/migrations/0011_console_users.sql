-- visitpay 0011: people who log in to the browser console, their web sessions and failed logins.

-- A person's account. Roles map onto the API scopes (app/console_auth.cpp), so one authorisation
-- check serves API tokens and people alike. Only an Argon2id hash of the password is kept.
CREATE TABLE console_users (
  id              uuid PRIMARY KEY,
  username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._@+-]{2,128}$'),
  password_hash   text NOT NULL,  -- libsodium crypto_pwhash_str (Argon2id, $argon2id$...)
  roles           text[] NOT NULL CHECK (roles <@ ARRAY['finance', 'dpo', 'ops', 'admin']::text[]),
  clinic_ids      text[] NOT NULL DEFAULT '{}',  -- empty: every clinic
  totp_secret     text,  -- base32 (RFC 4648); NULL: no second factor enrolled
  totp_last_step  bigint,  -- the last accepted time step: a code is accepted once
  created_at      timestamptz NOT NULL,
  disabled_at     timestamptz
);

-- Web sessions. Only a SHA-256 of the cookie's random id is stored.
CREATE TABLE console_sessions (
  id_sha256     bytea PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX console_sessions_user ON console_sessions (user_id) WHERE revoked_at IS NULL;

-- Failed logins, for throttling per account ('user:<name>') and per address ('addr:<ip>').
CREATE TABLE console_login_failures (
  key  text NOT NULL,
  at   timestamptz NOT NULL
);
CREATE INDEX console_login_failures_key_at ON console_login_failures (key, at);
