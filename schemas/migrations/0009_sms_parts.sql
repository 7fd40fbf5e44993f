-- visitpay 0009: LINK Mobility reports each part of a long SMS on its own ("abc$0", "abc$1"; the
-- payment SMS always has two parts), so a message is delivered only when every part is, and
-- failed when any part finally fails. And reports can be forged (LINK signs nothing): a report
-- that names only our reference is believed only with the secret in it.

-- One row per part that has been reported on; a final outcome is never overwritten.
CREATE TABLE sms_parts (
  sms_id      bigint NOT NULL REFERENCES sms_messages (id) ON DELETE CASCADE,
  part        integer NOT NULL CHECK (part >= 0 AND part < 255),
  result_code integer NOT NULL,  -- the vendor's code, as reported
  outcome     text NOT NULL
              CHECK (outcome IN ('in_progress', 'delivered', 'failed', 'undetermined')),
  reported_at timestamptz NOT NULL,
  PRIMARY KEY (sms_id, part)
);

-- The secret half of our reference ("sms-<id>-<ref_token>", LINK's refId), which every report
-- echoes. Only LINK and we know it, so a report for an attempt whose send answer was lost (no
-- gateway message id yet) can be matched by it and nothing else. Rows from before this
-- migration have none: they are matched by the gateway's message id only.
ALTER TABLE sms_messages ADD COLUMN ref_token text;
ALTER TABLE sms_messages ALTER COLUMN ref_token SET DEFAULT replace(gen_random_uuid()::text, '-', '');

-- undetermined: every part reached a final state, not all of them delivered, none failed (LINK
-- codes 4, 5, 1010: delivery unknown): no fee is disclosed, the deadline decides.
ALTER TABLE sms_messages DROP CONSTRAINT sms_messages_status_check;
ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check
  CHECK (status IN ('sending', 'unknown', 'not_sent', 'rejected', 'accepted', 'delivered', 'failed',
                    'undetermined'));
