-- visitpay 0014: reminders and collection (inkassoloven § 9, inkassoforskriften §§ 1-1..1-3).
-- An issued invoice left unpaid gets a purring, then an inkassovarsel (or a second purring), then
-- is handed to the clinic's collection agency; each step is a row here, an event on the invoice's
-- history, and an outbox `deliver_invoice` item for the invoice's session: that work delivers
-- whatever of the invoice is not delivered yet (the invoice, then its letters and the hand-off
-- export), so no new outbox kind is needed. A bank payment stops the schedule. The CHECK lists
-- are held against the C++ enums by tests/unit/store/schema_enums_test.cpp.

ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check
  CHECK (status IN ('pending_review', 'issued', 'partially_paid', 'paid', 'credited', 'void',
                    'sent_to_collection'));

ALTER TABLE invoices
  -- reminder fees charged (purregebyr, inkassovarsel fee): part of what the debtor owes
  ADD COLUMN reminder_fees_ore bigint NOT NULL DEFAULT 0 CHECK (reminder_fees_ore >= 0),
  -- the Oslo date the schedule next looks at this invoice (NULL: 14 days after the due date)
  ADD COLUMN reminder_due_on   date,
  -- a payment arrived after the hand-off: the agency must be told
  ADD COLUMN paid_after_collection boolean NOT NULL DEFAULT false;

-- What the reminder worker scans: issued and partly paid invoices whose next look is due.
CREATE INDEX invoices_reminder_due ON invoices ((coalesce(reminder_due_on, due_date + 14)))
  WHERE status IN ('issued', 'partially_paid') AND kind = 'invoice';

CREATE TABLE invoice_reminders (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  invoice_id    uuid NOT NULL REFERENCES invoices (id),
  kind          text NOT NULL,
  sequence      integer NOT NULL CHECK (sequence > 0),  -- 1-based per kind
  sent_at       timestamptz NOT NULL,
  sent_on       date NOT NULL,  -- Oslo date of sending (the letter's date)
  deadline      date,           -- the new payment deadline (none for collection)
  fee_ore       bigint NOT NULL DEFAULT 0 CHECK (fee_ore >= 0),
  open_ore      bigint NOT NULL,  -- what the letter asks for, fee included
  document_name text NOT NULL,    -- "<org>-purring-<number>-<sequence>": no personal data
  delivery_reference text,
  delivered_at  timestamptz,
  CONSTRAINT invoice_reminders_kind_check CHECK (kind IN ('purring', 'inkassovarsel', 'collection')),
  -- one step of a kind and number per invoice: two instances cannot both send it
  CONSTRAINT invoice_reminders_step_key UNIQUE (invoice_id, kind, sequence),
  -- letters give at least 14 days (inkassoforskriften § 1-2, inkassoloven § 9); a hand-off none
  CONSTRAINT invoice_reminders_deadline_check
    CHECK ((kind = 'collection') = (deadline IS NULL)
           AND (deadline IS NULL OR deadline >= sent_on + 14))
);
