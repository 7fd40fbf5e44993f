-- visitpay 0001: API clients, payment sessions, their lines, and the payer's personal data.

-- Integration clients (a clinic's check-out system, finance, operators). Only a SHA-256 of the
-- bearer token is stored; the token itself is shown once when the client is created.
CREATE TABLE api_clients (
  id           uuid PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  token_sha256 bytea NOT NULL UNIQUE,
  scopes       text[] NOT NULL,
  clinic_ids   text[] NOT NULL DEFAULT '{}',  -- empty: every clinic
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);

-- One payment session per (clinic, visit). Facts of the visit only; no personal data here.
CREATE TABLE sessions (
  id                  uuid PRIMARY KEY,
  clinic_id           text NOT NULL,
  visit_id            text NOT NULL,
  state               text NOT NULL
                      CHECK (state IN ('pending', 'awaiting_payment', 'paid', 'invoiced', 'cancelled')),
  currency            text NOT NULL CHECK (currency = 'NOK'),
  amount_ore          bigint NOT NULL CHECK (amount_ore > 0),
  vat_amount_ore      bigint NOT NULL CHECK (vat_amount_ore >= 0 AND vat_amount_ore <= amount_ore),
  checked_out_at      timestamptz NOT NULL,
  has_phone           boolean NOT NULL,
  -- HMAC (keyed) of the whole request: tells an idempotent replay from a conflicting one
  -- without keeping a copy of the payer data that could be looked up by brute force.
  request_fingerprint bytea NOT NULL,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  CONSTRAINT sessions_clinic_visit_key UNIQUE (clinic_id, visit_id)
);

CREATE TABLE session_lines (
  session_id     uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  line_no        integer NOT NULL,
  description    text NOT NULL,
  amount_ore     bigint NOT NULL CHECK (amount_ore > 0),
  vat_amount_ore bigint NOT NULL CHECK (vat_amount_ore >= 0 AND vat_amount_ore <= amount_ore),
  PRIMARY KEY (session_id, line_no)
);

-- The payer's personal data, kept apart from the session facts so that it can be encrypted and
-- purged on its own schedule without touching the bookkeeping facts.
CREATE TABLE payers (
  session_id  uuid PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
  name        text NOT NULL,
  national_id text,
  phone       text,
  street      text NOT NULL,
  postal_code text NOT NULL,
  city        text NOT NULL,
  country     text NOT NULL
);
