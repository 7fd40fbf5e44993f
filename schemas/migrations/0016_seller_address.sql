-- visitpay 0016: the seller's business address on every invoice, credit note and letter.
--
-- Copied from the clinic's legal entity when the invoice is made (as its name and org number
-- are), so a later change of address leaves issued documents as they were sent. Invoices made
-- before this migration have none ('').

ALTER TABLE invoices
  ADD COLUMN seller_street      text NOT NULL DEFAULT '',
  ADD COLUMN seller_postal_code text NOT NULL DEFAULT '',
  ADD COLUMN seller_city        text NOT NULL DEFAULT '';
