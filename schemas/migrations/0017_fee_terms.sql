-- visitpay 0017: the invoice fee only with terms the payer accepted before the visit.
--
-- finansavtaleloven § 2-4 (1) and forbrukerkjøpsloven § 37 (3) (the standard for services): a fee
-- for issuing and sending a bill needs a clear agreement made beforehand. The check-out says when
-- the payer accepted the clinic's terms naming the fee, and which version of them. A session
-- without them is never charged the fee: the payment SMS discloses none and the invoice carries
-- none. Sessions made before this migration have none; their fees were disclosed in the SMS and
-- invoices already made keep them.

ALTER TABLE sessions
  ADD COLUMN fee_terms_accepted_at timestamptz,
  ADD COLUMN fee_terms_version     text,
  ADD CONSTRAINT sessions_fee_terms_whole
    CHECK ((fee_terms_accepted_at IS NULL) = (fee_terms_version IS NULL)),
  ADD CONSTRAINT sessions_fee_terms_before_visit
    CHECK (fee_terms_accepted_at IS NULL OR fee_terms_accepted_at <= checked_out_at);
