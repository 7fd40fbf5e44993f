-- visitpay 0019: the visit's line descriptions encrypted under the session's retained key.
--
-- A line's description is health information ("Konsultasjon psykiater"). It is sealed (AES-GCM,
-- common/envelope.hpp) under the session's retained data key, field "line:<line_no>", so it is
-- kept exactly as long as the name and address: the retained purge destroys the key and empties
-- these columns in the same statement. An invoice's or credit note's lines hold the session
-- line's ciphertext (same key, same associated data), as buyer_name_enc does. The invoice fee's
-- line ("Fakturagebyr", is_fee) is the service's own text and stays in plaintext.
--
-- Lines written before this migration are sealed by `visitpay migrate` (and `serve` on start: it
-- needs the master keys), after which their plaintext is NULL. A line never holds both.

ALTER TABLE session_lines
  ALTER COLUMN description DROP NOT NULL,
  ADD COLUMN description_enc bytea,
  ADD CONSTRAINT session_lines_description_once
    CHECK (description IS NULL OR description_enc IS NULL);

ALTER TABLE invoice_lines
  ALTER COLUMN description DROP NOT NULL,
  ADD COLUMN description_enc bytea,
  ADD CONSTRAINT invoice_lines_description_once
    CHECK (description IS NULL OR description_enc IS NULL);
