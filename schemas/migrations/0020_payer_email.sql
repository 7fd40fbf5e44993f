-- visitpay 0020: the payer's e-mail address, for clinics that send invoices by e-mail. Personal
-- data like the name and address: encrypted under the session's retained key (field "email"),
-- purged with them, never stored in plaintext.
ALTER TABLE payers ADD COLUMN email_enc bytea;

-- What went wrong with an invoice's or letter's delivery, for finance: the channel and the
-- receiving server's reply code (never its text, which may quote the address), cleared when it
-- is delivered. Each failure is also on the invoice's history (invoice_events).
ALTER TABLE invoices
  ADD COLUMN delivery_problem    text,
  ADD COLUMN delivery_problem_at timestamptz;
