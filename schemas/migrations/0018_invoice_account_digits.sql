-- visitpay 0018: a bank payment names the account it was paid to as 11 digits; an invoice keeps its
-- seller's account as printed ('1503.20.80003'). The digits are stored beside it, so matching a
-- file's payments by KID and account joins on a plain column instead of rewriting every candidate
-- invoice's account with a regular expression on each import.
ALTER TABLE invoices
  ADD COLUMN seller_account_digits text
    GENERATED ALWAYS AS (regexp_replace(seller_bank_account, '[^0-9]', '', 'g')) STORED;
