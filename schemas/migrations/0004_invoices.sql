-- visitpay 0004: invoices. A session not paid within its window (or that never got a usable link)
-- becomes an invoice that finance reviews; numbers come from a gapless series per legal entity.

-- When the deadline sweeper queued the session's invoice work (the claim; NULL = not yet).
ALTER TABLE sessions ADD COLUMN invoice_queued_at timestamptz;

-- What the sweeper scans: sessions past their deadline, and those marked for an invoice at once.
CREATE INDEX sessions_due ON sessions (deadline_at)
  WHERE state = 'awaiting_payment' AND invoice_queued_at IS NULL;
CREATE INDEX sessions_to_invoice ON sessions (updated_at)
  WHERE state = 'invoicing' AND invoice_queued_at IS NULL;

-- One gapless number series per issuing legal entity (bokføringsforskriften: an unbroken series).
-- The row is locked by the transaction that creates the invoice, so a number is used only if that
-- transaction commits; a sequence would leave gaps on rollback.
CREATE TABLE invoice_series (
  org_number  text PRIMARY KEY,
  last_number bigint NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);

-- Invoices and credit notes, with the content the bookkeeping rules require, copied at creation
-- so the document never changes when the configuration does. The buyer's name and address are
-- the only personal data: kept for the bookkeeping period. No national id, no phone.
CREATE TABLE invoices (
  id                        uuid PRIMARY KEY,
  kind                      text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  org_number                text NOT NULL,
  number                    bigint NOT NULL CHECK (number > 0),
  session_id                uuid NOT NULL REFERENCES sessions (id),
  credits_invoice_id        uuid REFERENCES invoices (id),
  status                    text NOT NULL
                            CHECK (status IN ('pending_review', 'issued', 'paid', 'credited', 'void')),
  clinic_id                 text NOT NULL,
  -- why an invoice: the window ran out, or the link could not reach the payer
  reason                    text NOT NULL
                            CHECK (reason IN ('window_expired', 'no_phone', 'sms_rejected',
                                              'sms_undeliverable', 'credit')),
  fee_ore                   bigint NOT NULL DEFAULT 0 CHECK (fee_ore >= 0),
  -- set when no fee is charged although the clinic has one: it was never disclosed in an SMS the
  -- gateway accepted (finansavtaleloven § 2-4)
  fee_not_disclosed         boolean NOT NULL DEFAULT false,
  total_ore                 bigint NOT NULL,  -- negative on a credit note
  kid                       text,
  due_days                  integer NOT NULL CHECK (due_days > 0),
  seller_name               text NOT NULL,
  seller_foretaksregisteret boolean NOT NULL,
  seller_vat_registered     boolean NOT NULL,
  seller_bank_account       text NOT NULL,
  delivery_place            text NOT NULL,
  delivered_on              date NOT NULL,  -- the visit, Oslo date
  buyer_name                text,
  buyer_street              text,
  buyer_postal_code         text,
  buyer_city                text,
  buyer_country             text,
  issue_date                date,  -- set when issued (Oslo date)
  due_date                  date,
  -- flags for finance
  paid_by_link              boolean NOT NULL DEFAULT false,  -- the link was paid after all
  credit_note_needed        boolean NOT NULL DEFAULT false,  -- ... after the invoice was issued
  void_reason               text,
  paid_on                   date,
  payment_reference         text,
  delivery_reference        text,
  delivered_at              timestamptz,
  created_at                timestamptz NOT NULL,
  updated_at                timestamptz NOT NULL,
  CONSTRAINT invoices_number_key UNIQUE (org_number, number),
  CONSTRAINT invoices_kid_check CHECK (kind = 'credit_note' OR kid IS NOT NULL),
  CONSTRAINT invoices_credit_check CHECK ((kind = 'credit_note') = (credits_invoice_id IS NOT NULL))
);

CREATE UNIQUE INDEX invoices_one_per_session ON invoices (session_id) WHERE kind = 'invoice';
CREATE UNIQUE INDEX invoices_one_credit_note ON invoices (credits_invoice_id)
  WHERE kind = 'credit_note';
-- The review queue and the export: keyset pagination on (created_at, id).
CREATE INDEX invoices_queue ON invoices (status, created_at, id);
CREATE INDEX invoices_created ON invoices (created_at, id);

CREATE TABLE invoice_lines (
  invoice_id  uuid NOT NULL REFERENCES invoices (id),
  line_no     integer NOT NULL,
  description text NOT NULL,
  amount_ore  bigint NOT NULL,
  is_fee      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (invoice_id, line_no)
);

-- The audit log: every change of an invoice, by whom (an API client's name, or "system"), from
-- which status, to which. No personal data.
CREATE TABLE invoice_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  invoice_id  uuid NOT NULL REFERENCES invoices (id),
  at          timestamptz NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  from_status text,
  to_status   text,
  detail      text
);

CREATE INDEX invoice_events_invoice ON invoice_events (invoice_id, id);
