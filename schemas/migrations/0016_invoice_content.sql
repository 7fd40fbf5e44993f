-- visitpay 0016: invoice content as the law asks (bokføringsforskriften § 5-1-1 ff.).
--
-- The seller's business address on every invoice, credit note and letter, copied from the
-- clinic's legal entity when the invoice is made (as its name and org number are), so a later
-- change of address leaves issued documents as they were sent. Invoices made before this
-- migration have none ('').
--
-- VAT per line: the check-out's vat_amount of each line, and for the invoice fee the VAT of the
-- main supply it follows (see kInsertInvoice). Lines made before this migration carry 0, as
-- their documents said ("unntatt mva.").

ALTER TABLE invoices
  ADD COLUMN seller_street      text NOT NULL DEFAULT '',
  ADD COLUMN seller_postal_code text NOT NULL DEFAULT '',
  ADD COLUMN seller_city        text NOT NULL DEFAULT '';

ALTER TABLE invoice_lines
  ADD COLUMN vat_ore bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT invoice_lines_vat_within_amount
    CHECK (abs(vat_ore) <= abs(amount_ore) AND (vat_ore = 0 OR sign(vat_ore) = sign(amount_ore)));
