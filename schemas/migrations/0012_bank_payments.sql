-- visitpay 0012: bank reconciliation. Incoming payments from the banks' files (Nets OCR giro,
-- ISO 20022 camt.054) are matched to invoices by KID and amount. A file is imported whole or not
-- at all (one transaction); the same file twice, or the same payment in another file, changes
-- nothing (the file's digest and each payment's source reference are unique). The CHECK lists are
-- held against the C++ enums by tests/unit/store/schema_enums_test.cpp.

-- Part-paid invoices stay open with the remainder shown; what was paid, and any surplus, is kept.
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check
  CHECK (status IN ('pending_review', 'issued', 'partially_paid', 'paid', 'credited', 'void'));
ALTER TABLE invoices
  ADD COLUMN paid_ore     bigint NOT NULL DEFAULT 0,  -- received by bank (or marked paid)
  ADD COLUMN overpaid_ore bigint NOT NULL DEFAULT 0 CHECK (overpaid_ore >= 0);  -- for refund
-- Invoices marked paid by hand count as paid in full.
UPDATE invoices SET paid_ore = total_ore WHERE status = 'paid' AND kind = 'invoice';
-- Matching looks invoices up by KID (unique per issuing account, not globally: the payment's
-- account decides between equal KIDs).
CREATE INDEX invoices_kid ON invoices (kid) WHERE kind = 'invoice';

CREATE TABLE bank_files (
  id           uuid PRIMARY KEY,
  sha256       text NOT NULL UNIQUE,  -- hex digest of the file's bytes
  format       text NOT NULL,
  -- OCR: data transmitter/transmission number/data recipient (record 10); camt.054: GrpHdr/MsgId
  file_key     text NOT NULL,
  imported_at  timestamptz NOT NULL,
  imported_by  text NOT NULL,  -- the API client's name, or cli:<user>
  payments     integer NOT NULL,
  total_ore    bigint NOT NULL,
  matched      integer NOT NULL DEFAULT 0,
  partial      integer NOT NULL DEFAULT 0,
  overpaid     integer NOT NULL DEFAULT 0,
  reversed     integer NOT NULL DEFAULT 0,
  unmatched    integer NOT NULL DEFAULT 0,
  duplicates   integer NOT NULL DEFAULT 0,  -- payments already imported from another file
  skipped      integer NOT NULL DEFAULT 0,  -- camt.054 entries not booked (PDNG/INFO)
  CONSTRAINT bank_files_format_check CHECK (format IN ('ocr_giro', 'camt054'))
);
CREATE INDEX bank_files_imported ON bank_files (imported_at, id);

-- One row per payment; its outcome against the invoice its KID names (or finance chose).
-- status: matched (paid exactly the open amount), partial (less: the invoice stays open),
-- overpaid (more: the surplus is kept for a refund), reversed (money back to the payer: reopens),
-- unmatched (the manual queue: no KID, unknown KID, or an invoice that cannot take payments).
CREATE TABLE bank_payments (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  file_id          uuid NOT NULL REFERENCES bank_files (id),
  source_ref       text NOT NULL UNIQUE,
  line             integer NOT NULL,
  kid              text,
  amount_ore       bigint NOT NULL,  -- negative for a reversal
  booking_date     date NOT NULL,
  value_date       date,
  bank_reference   text,
  creditor_account text NOT NULL,
  payer_account    text,  -- personal data: shown to finance for a refund, never logged
  status           text NOT NULL,
  unmatched_reason text,
  invoice_id       uuid REFERENCES invoices (id),
  overpaid_ore     bigint NOT NULL DEFAULT 0,
  open_after_ore   bigint,  -- the invoice's open remainder after this payment
  matched_at       timestamptz,
  matched_by       text,
  manual           boolean NOT NULL DEFAULT false,  -- matched by finance from the queue
  CONSTRAINT bank_payments_status_check
    CHECK (status IN ('matched', 'partial', 'overpaid', 'reversed', 'unmatched')),
  CONSTRAINT bank_payments_unmatched_reason_check
    CHECK (unmatched_reason IN ('no_kid', 'unknown_kid', 'invoice_not_issued', 'invoice_closed'))
);
CREATE INDEX bank_payments_file ON bank_payments (file_id);
CREATE INDEX bank_payments_status ON bank_payments (status, id);
CREATE INDEX bank_payments_invoice ON bank_payments (invoice_id) WHERE invoice_id IS NOT NULL;
