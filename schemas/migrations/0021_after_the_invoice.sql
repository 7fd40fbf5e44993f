-- visitpay 0021: after the invoice (issue 14).

-- Work queued for a session while its live outbox item of that kind is being carried out: the
-- handler may have read its inputs before the new work committed. The enqueue
-- (store/outbox_queue.hpp) marks that item `rerun` instead of adding nothing, and its completion
-- puts it back to pending, due at once, instead of done. A claim, a failure or a wait clears
-- the mark (the next run reads afresh).
ALTER TABLE outbox ADD COLUMN rerun boolean NOT NULL DEFAULT false;

-- The payer's e-mail address goes when its purpose ends: the claim is settled (the invoice paid,
-- credited, void or with the collection agency) and no letter is left to deliver (purge rule
-- claim_settled), while the name and address stay for the bookkeeping. The rule looks only at
-- payers still holding an address.
CREATE INDEX payers_email_held ON payers (session_id) WHERE email_enc IS NOT NULL;
