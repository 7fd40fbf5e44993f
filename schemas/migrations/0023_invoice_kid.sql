-- visitpay 0023: an invoice's KID computed in the statement that takes its number.
--
-- Invoice numbers are gapless per legal entity, so the series row stays locked from the number
-- until the commit, and every invoice of the entity waits for it. When the KID was computed in
-- the service from the number, the lock was held across a round trip and a turn of the service's
-- scheduler; with these functions the number, the KID and the invoice are written by one
-- statement, sent with the COMMIT (tests/bench/sweep_bench.sh measures it).
--
-- They compute what domain::invoice_kid computes (src/domain/kid.cpp, which documents the rules:
-- MOD10 (Luhn) or MOD11 check character, the zero-padded number as the base, and for MOD11 with
-- banks that take no '-' a variant digit 0 or 1 in front). invoice_kid_sql_test holds the two
-- equal for every algorithm, length and dash setting.

-- The check character of a base of digits: MOD10 weights 2,1,2,1,... and MOD11 weights 2..7 from
-- the rightmost digit; MOD11's remainder 1 gives '-'.
CREATE FUNCTION kid_check(base text, algorithm text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  total integer := 0;
  weight integer := 2;
  product integer;
BEGIN
  FOR i IN REVERSE length(base)..1 LOOP
    product := (ascii(substr(base, i, 1)) - 48) * weight;
    IF algorithm = 'mod10' THEN
      total := total + CASE WHEN product >= 10 THEN product - 9 ELSE product END;
      weight := 3 - weight;
    ELSE
      total := total + product;
      weight := CASE WHEN weight = 7 THEN 2 ELSE weight + 1 END;
    END IF;
  END LOOP;
  IF algorithm = 'mod10' THEN
    RETURN ((10 - total % 10) % 10)::text;
  END IF;
  RETURN CASE total % 11 WHEN 0 THEN '0' WHEN 1 THEN '-' ELSE (11 - total % 11)::text END;
END $$;

-- The KID printed on invoice `number`: exactly `kid_length` characters. A number that does not
-- fit is an error (22003), never a truncated KID that could name another invoice.
CREATE FUNCTION invoice_kid(number bigint, algorithm text, kid_length integer, allow_dash boolean)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  plain boolean := algorithm = 'mod10' OR allow_dash;
  width integer := kid_length - CASE WHEN plain THEN 1 ELSE 2 END;
  base text;
  check_char text;
BEGIN
  IF algorithm NOT IN ('mod10', 'mod11') OR kid_length NOT BETWEEN 4 AND 25 OR number < 0
     OR length(number::text) > width THEN
    RAISE EXCEPTION 'invoice number % does not fit a % KID of length %', number, algorithm,
                    kid_length USING ERRCODE = 'numeric_value_out_of_range';
  END IF;
  base := lpad(number::text, width, '0');
  IF plain THEN
    RETURN base || kid_check(base, algorithm);
  END IF;
  check_char := kid_check('0' || base, algorithm);
  IF check_char <> '-' THEN
    RETURN '0' || base || check_char;
  END IF;
  RETURN '1' || base || kid_check('1' || base, algorithm);
END $$;
