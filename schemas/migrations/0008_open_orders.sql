-- visitpay 0008: orders still open at the provider although their session ended (an invoice made
-- after the abort's bound, an abort that failed after a cancel). The reconciler keeps asking the
-- provider about them, so a late payment is recorded and flags the invoice instead of being lost
-- when its callback's work gave up.
CREATE INDEX payment_orders_open ON payment_orders (updated_at) WHERE status IN ('open', 'unknown');
