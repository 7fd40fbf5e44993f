-- visitpay 0005: the payer's personal data encrypted at rest (envelope encryption) and purged on
-- schedule. Each session has two data keys (transient: national id, phone; retained: name,
-- address), stored only wrapped by a master key that lives outside the database. Purging a class
-- deletes its wrapped key and its ciphertexts in one transaction (crypto-shredding: backups of
-- the ciphertext become unreadable too).

CREATE TABLE payer_keys (
  session_id    uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  key_class     text NOT NULL CHECK (key_class IN ('transient', 'retained')),
  master_key_id text NOT NULL,  -- which master key wraps it (rotation rewraps)
  wrapped_key   bytea NOT NULL,
  created_at    timestamptz NOT NULL,
  rewrapped_at  timestamptz,
  PRIMARY KEY (session_id, key_class)
);
CREATE INDEX payer_keys_master ON payer_keys (master_key_id);

-- Ciphertexts (common/envelope.hpp format) replace the plaintext columns. Rows written before
-- this migration are encrypted by `visitpay migrate` (it needs the master key), after which the
-- plaintext columns are empty; a later migration drops them.
ALTER TABLE payers
  ALTER COLUMN name DROP NOT NULL,
  ALTER COLUMN street DROP NOT NULL,
  ALTER COLUMN postal_code DROP NOT NULL,
  ALTER COLUMN city DROP NOT NULL,
  ALTER COLUMN country DROP NOT NULL,
  -- HMAC-SHA256 (the look-up key) of the normalised national id: finds a person's rows for
  -- data-subject requests without decrypting anything
  ADD COLUMN national_id_hmac    bytea,
  ADD COLUMN national_id_enc     bytea,
  ADD COLUMN phone_enc           bytea,
  ADD COLUMN name_enc            bytea,
  ADD COLUMN address_enc         bytea,
  ADD COLUMN transient_purged_at timestamptz,
  ADD COLUMN retained_purged_at  timestamptz,
  ADD COLUMN purge_rule          text;
CREATE INDEX payers_national_id_hmac ON payers (national_id_hmac)
  WHERE national_id_hmac IS NOT NULL;
-- The purger's rules look only at payers still holding data (a few days of payments and the
-- invoices in their bookkeeping period), not at every session ever seen.
CREATE INDEX payers_holding ON payers (session_id)
  WHERE transient_purged_at IS NULL OR retained_purged_at IS NULL;
-- The safety net: sessions by age.
CREATE INDEX sessions_created ON sessions (created_at);

-- The invoice's copy of the buyer's name and address: the session's retained ciphertexts (same
-- key, same associated data), kept for the bookkeeping period.
ALTER TABLE invoices
  ADD COLUMN buyer_name_enc    bytea,
  ADD COLUMN buyer_address_enc bytea;

-- The payment link (its token lets anyone pay, and reach the payer's order) is transient data
-- too: encrypted under the transient key, destroyed with it.
ALTER TABLE payment_orders
  ALTER COLUMN payment_url DROP NOT NULL,
  ADD COLUMN payment_url_enc bytea;

-- Proof of purge for the data protection officer: which classes of which session were destroyed,
-- under which rule, when. No personal data.
CREATE TABLE purge_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id uuid NOT NULL,
  classes    text[] NOT NULL,
  rule       text NOT NULL,
  actor      text NOT NULL,  -- "purger", or the API client of a data-subject request
  at         timestamptz NOT NULL
);
CREATE INDEX purge_events_session ON purge_events (session_id);

-- Data-subject requests (GDPR Art. 15 access, Art. 17 erasure), audited: who asked, when, which
-- sessions were found. Nothing identifies the person (not even the look-up hash).
CREATE TABLE privacy_requests (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('access', 'erasure')),
  actor       text NOT NULL,  -- the API client (the data protection officer's token)
  at          timestamptz NOT NULL,
  session_ids uuid[] NOT NULL
);
