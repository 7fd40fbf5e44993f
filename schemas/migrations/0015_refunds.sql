-- visitpay 0015: money going back to the payer through the payment provider.
--
-- A payment the provider confirms after its session was cancelled is released (a `cancel` of
-- the authorisation, never captured; a one-phase Sale is reversed instead), and finance can
-- refund a payment made through the link (`reversal`, in full or in parts). Each operation is
-- recorded here, with its own payeeReference, before it is sent; the outbox carries it out
-- (cancel_payment / reverse_payment) and a lost answer is settled by the payeeReference the
-- order's financial transactions show (providers.md §7, §9). The CHECK lists are held against
-- the C++ enums by tests/unit/store/schema_enums_test.cpp.

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
  CHECK (kind IN ('create_payment_order', 'send_payment_sms', 'payment_callback', 'sync_payment',
                  'abort_payment', 'invoice_session', 'deliver_invoice', 'deliver_credit_note',
                  'cancel_payment', 'reverse_payment'));

CREATE TABLE payment_operations (
  id                 uuid PRIMARY KEY,
  session_id         uuid NOT NULL REFERENCES sessions (id),
  kind               text NOT NULL,
  -- release: the system's, for a payment after a cancel (one per session); refund: finance's
  purpose            text NOT NULL CONSTRAINT payment_operations_purpose_check
                     CHECK (purpose IN ('release', 'refund')),
  amount_ore         bigint NOT NULL CHECK (amount_ore > 0),
  vat_amount_ore     bigint NOT NULL DEFAULT 0 CHECK (vat_amount_ore >= 0),
  currency           text NOT NULL DEFAULT 'NOK' CHECK (currency = 'NOK'),
  payee_reference    text NOT NULL UNIQUE,  -- [A-Za-z0-9]{30}; no personal data
  status             text NOT NULL,
  reason             text,  -- finance's words (no personal data, by the API's contract)
  -- the caller's Idempotency-Key (or client reference): the same key returns the same refund
  idempotency_key    text,
  requested_by       text NOT NULL,  -- an API client's name, "user:<name>", or "system"
  requested_at       timestamptz NOT NULL,
  provider_reference text,  -- the provider's id of the transaction, once done (opaque)
  error              text,  -- why it failed: provider status or problem type; no personal data
  completed_at       timestamptz,
  updated_at         timestamptz NOT NULL,
  CONSTRAINT payment_operations_kind_check CHECK (kind IN ('cancel', 'reversal')),
  CONSTRAINT payment_operations_status_check CHECK (status IN ('requested', 'done', 'failed')),
  CONSTRAINT payment_operations_cancel_has_no_part CHECK (kind = 'reversal' OR vat_amount_ore = 0)
);

CREATE INDEX payment_operations_session ON payment_operations (session_id, requested_at);
-- The repair pass looks for requested operations whose work was lost.
CREATE INDEX payment_operations_requested ON payment_operations (updated_at)
  WHERE status = 'requested';
CREATE UNIQUE INDEX payment_operations_one_release ON payment_operations (session_id)
  WHERE purpose = 'release';
CREATE UNIQUE INDEX payment_operations_idempotency ON payment_operations (session_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- The audit log of payment operations, as invoice_events is of invoices: who asked, what the
-- provider made of it. No personal data.
CREATE TABLE payment_operation_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  operation_id uuid NOT NULL REFERENCES payment_operations (id),
  at           timestamptz NOT NULL,
  actor        text NOT NULL,
  action       text NOT NULL,  -- request | done | fail
  from_status  text,
  to_status    text,
  detail       text
);

CREATE INDEX payment_operation_events_operation ON payment_operation_events (operation_id, id);
