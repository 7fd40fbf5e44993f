-- visitpay 0010: payment orders created as numbered attempts, and the payer pages' session token.
--
-- Swedbank Pay documents no way to find an order by its payeeReference, nor what a create with a
-- used payeeReference answers (providers.md §9). So a create whose outcome is unknown is never
-- repeated with the same reference: every attempt gets its own (the attempt number is in it) and
-- is recorded here before it is sent. An order created by an attempt whose answer was lost (an
-- orphan: its link never reached anyone) is left to expire, or aborted when a callback names it
-- and a GET shows its payeeReference is one of this session's attempts. The session's current
-- order stays in payment_orders (one row per session); orders it replaced (a fresh payment the
-- payer started from our page after cancelling) keep their row here.
CREATE TABLE payment_order_attempts (
  session_id      uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  attempt         integer NOT NULL CHECK (attempt BETWEEN 1 AND 999),
  payee_reference text NOT NULL UNIQUE,  -- [A-Za-z0-9]{30}; no personal data
  account         text NOT NULL,         -- the config's payment account
  -- sending: recorded, the request is (about to be) under way; created: the answer named the
  -- order; refused: a definite error answer (no order); unknown: no usable answer (an order may
  -- exist: an orphan if so)
  outcome         text NOT NULL
                  CHECK (outcome IN ('sending', 'created', 'refused', 'unknown')),
  order_id        text UNIQUE,  -- once known: from the answer, or an orphan found later
  seen_status     text,         -- the order's status (domain::OrderStatus) when last looked at
  error           text,         -- provider status or problem type; no personal data
  attempted_at    timestamptz NOT NULL,
  resolved_at     timestamptz,
  PRIMARY KEY (session_id, attempt)
);

-- Orders a callback named that are not the session's current order (an orphan, or an order a
-- fresh payment replaced): the next status check of the session GETs each, aborts it if it is
-- still open, and adopts it if it was paid. A stranger's callback can only add rows for a session
-- with an attempt whose outcome is unknown or an order it replaced, at most a few each.
CREATE TABLE payment_order_checks (
  session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  order_id    text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (session_id, order_id)
);

-- The payer pages (completeUrl, cancelUrl) name the session by a token derived from the session
-- id with the look-up key (never stored); this is its SHA-256, so the database alone cannot open
-- a payer's page.
CREATE TABLE payer_page_tokens (
  token_digest bytea PRIMARY KEY,
  session_id   uuid NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE
);
