-- visitpay 0006: the session lifecycle in one place (src/domain/session_lifecycle.hpp).
-- Every non-final state has an exit: entering `invoicing` queues the invoice work in the same
-- transition, so the sweeper's claim marker (invoice_queued_at) goes; a session whose link could
-- not be created or sent moves on with reason `link_failed` and the error kept for ops. Order
-- statuses are stored in the core's own words, not the provider's. The CHECK lists here are held
-- against the C++ enums by tests/unit/store/schema_enums_test.cpp.

-- A session the sweeper had claimed (its invoice work queued) is on the invoice path.
UPDATE sessions SET state = 'invoicing', invoice_reason = 'window_expired'
WHERE state = 'awaiting_payment' AND invoice_queued_at IS NOT NULL;

ALTER TABLE sessions DROP CONSTRAINT sessions_invoice_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_invoice_reason_check
  CHECK (invoice_reason IN ('window_expired', 'no_phone', 'sms_rejected', 'sms_undeliverable',
                            'link_failed'));
ALTER TABLE sessions DROP CONSTRAINT sessions_state_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_state_check
  CHECK (state IN ('pending', 'awaiting_payment', 'invoicing', 'paid', 'invoiced', 'cancelled'));

ALTER TABLE sessions
  ADD COLUMN state_since          timestamptz,  -- when the session entered its state
  ADD COLUMN link_error           text,         -- why the link failed (no personal data)
  ADD COLUMN awaiting_since       timestamptz,  -- when the link went out (the SMS was accepted)
  ADD COLUMN next_status_check_at timestamptz;  -- the reconciler's next look at the order
UPDATE sessions SET state_since = updated_at,
                    awaiting_since = CASE WHEN state = 'awaiting_payment' THEN updated_at END,
                    next_status_check_at = CASE WHEN state = 'awaiting_payment'
                                                THEN coalesce(status_checked_at, updated_at) END;
-- The transition sets it from the Clock; the default only serves rows written by hand (seeds).
ALTER TABLE sessions ALTER COLUMN state_since SET NOT NULL,
                     ALTER COLUMN state_since SET DEFAULT now();

DROP INDEX sessions_due;
DROP INDEX sessions_to_invoice;
DROP INDEX sessions_reconcile;
ALTER TABLE sessions DROP COLUMN invoice_queued_at;
CREATE INDEX sessions_due ON sessions (deadline_at) WHERE state = 'awaiting_payment';
CREATE INDEX sessions_status_check ON sessions (next_status_check_at)
  WHERE state = 'awaiting_payment';
-- The repair pass and the watchdog look only at open sessions.
CREATE INDEX sessions_open ON sessions (state, state_since)
  WHERE state IN ('pending', 'awaiting_payment', 'invoicing');

-- Outbox work kinds, as in domain::WorkKind.
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
  CHECK (kind IN ('create_payment_order', 'send_payment_sms', 'payment_callback', 'sync_payment',
                  'abort_payment', 'invoice_session', 'deliver_invoice', 'deliver_credit_note'));

-- Invoicing sessions without live invoice work (a dead `invoice_session` before this version)
-- get it again.
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
SELECT id, 'invoice_session', now(), now(), now() FROM sessions s
WHERE state = 'invoicing'
  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.session_id = s.id AND o.kind = 'invoice_session'
                  AND o.status = 'pending');

-- Order statuses in the core's words (domain::OrderStatus).
UPDATE payment_orders SET status = CASE status
    WHEN 'Initialized' THEN 'open' WHEN 'Paid' THEN 'paid' WHEN 'Aborted' THEN 'aborted'
    WHEN 'Failed' THEN 'failed' WHEN 'Cancelled' THEN 'cancelled' WHEN 'Reversed' THEN 'reversed'
    ELSE 'unknown' END,
  transaction_type = lower(transaction_type);
ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_status_check
  CHECK (status IN ('open', 'paid', 'aborted', 'failed', 'cancelled', 'reversed', 'unknown'));
ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_transaction_type_check
  CHECK (transaction_type IN ('authorization', 'sale'));

ALTER TABLE invoices DROP CONSTRAINT invoices_reason_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_reason_check
  CHECK (reason IN ('window_expired', 'no_phone', 'sms_rejected', 'sms_undeliverable',
                    'link_failed', 'credit'));
-- The order could not be aborted within its budget (the payer kept it open, or the provider
-- refused): the invoice was created all the same, and finance sees that a payment may still come.
ALTER TABLE invoices ADD COLUMN order_not_aborted boolean NOT NULL DEFAULT false;
