-- visitpay 0002: durable outbox of work that talks to the outside world (payment orders, SMS).
-- At-least-once: an item is claimed with a short lease (FOR UPDATE SKIP LOCKED), renewed while
-- the work runs; a crashed instance's items are taken over when the lease runs out. Completing
-- or failing an item is fenced by the lease owner, so a worker that lost its lease cannot
-- overwrite the new owner's result.
CREATE TABLE outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id      uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  kind            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'done', 'dead', 'cancelled')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_owner     text,
  lease_until     timestamptz,
  last_error      text,  -- never personal data: provider status, problem type, SQLSTATE
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  completed_at    timestamptz
);

-- What the dispatcher scans: only live items, in due order.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
-- At most one live item of a kind per session (a burst of callbacks makes one status sync).
CREATE UNIQUE INDEX outbox_one_live_per_kind ON outbox (session_id, kind) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';
