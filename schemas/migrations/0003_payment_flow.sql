-- visitpay 0003: the payment-link flow: payment orders, the SMS that carries the link, and the
-- session facts the invoice path needs (deadline, the invoice fee disclosed, why an invoice).

-- `invoicing`: marked for the invoice path (no phone, or the link SMS could not be delivered);
-- the invoice worker turns it into `invoiced` once the invoice exists.
ALTER TABLE sessions DROP CONSTRAINT sessions_state_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_state_check
  CHECK (state IN ('pending', 'awaiting_payment', 'paid', 'invoicing', 'invoiced', 'cancelled'));

ALTER TABLE sessions
  ADD COLUMN deadline_at       timestamptz,  -- awaiting_payment: unpaid after this -> invoice
  ADD COLUMN fee_disclosed_ore bigint,       -- the invoice fee the accepted SMS disclosed
  ADD COLUMN invoice_reason    text
             CHECK (invoice_reason IN ('no_phone', 'sms_rejected', 'sms_undeliverable')),
  ADD COLUMN paid_at           timestamptz,
  ADD COLUMN cancelled_at      timestamptz,
  -- when the provider was last asked about this session's order (the reconciler's cursor)
  ADD COLUMN status_checked_at timestamptz;

CREATE INDEX sessions_reconcile ON sessions (status_checked_at) WHERE state = 'awaiting_payment';

-- At most one payment order per session (invariant 3). The provider's view, as last fetched.
CREATE TABLE payment_orders (
  session_id       uuid PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
  account          text NOT NULL,  -- the config's payment account
  order_id         text NOT NULL UNIQUE,
  payment_url      text NOT NULL,  -- the payer's link (no personal data in it)
  status           text NOT NULL,  -- Initialized, Paid, Aborted, ...
  instrument       text,
  transaction_type text,
  captured_ore     bigint NOT NULL DEFAULT 0,
  -- a payment the provider confirmed after the session was closed otherwise (cancelled):
  -- recorded, never dropped, for finance to settle
  paid_after_close boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

-- Every attempt to send a payment-link SMS (invariant 4: a duplicate can only come from an
-- attempt whose outcome was unknown, and it is counted). No phone number and no text here.
CREATE TABLE sms_messages (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id         uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  account            text NOT NULL,
  status             text NOT NULL
                     -- sending: under way; unknown: no usable answer (may have been sent);
                     -- not_sent: an error answer; rejected: refused for good;
                     -- accepted -> delivered | failed: by the gateway, then delivery reports
                     CHECK (status IN ('sending', 'unknown', 'not_sent', 'rejected', 'accepted',
                                       'delivered', 'failed')),
  gateway_message_id text UNIQUE,
  segments           integer,
  result_code        integer,  -- the last delivery report's code
  fee_disclosed_ore  bigint NOT NULL,
  deadline_at        timestamptz NOT NULL,  -- the deadline the text states
  error              text,                  -- provider status or problem type; no personal data
  attempted_at       timestamptz NOT NULL,
  accepted_at        timestamptz,
  final_at           timestamptz
);

CREATE INDEX sms_messages_session ON sms_messages (session_id);

-- Sessions accepted before this migration get their payment link now (or, without a phone,
-- wait for the invoice).
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
SELECT id, 'create_payment_order', now(), now(), now()
FROM sessions WHERE state = 'pending' AND has_phone;
UPDATE sessions SET state = 'invoicing', invoice_reason = 'no_phone'
WHERE state = 'pending' AND NOT has_phone;
