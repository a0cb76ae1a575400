-- The hashed customer columns were checked with `~ '^[0-9a-f]{64}$'`. PostgreSQL's regex engine
-- expands the bounded repetition into a large automaton: measured here at about 15 us per
-- non-NULL value, a third of the cost of inserting a click. A length test plus an unbounded
-- character class accepts exactly the same strings (64 lowercase hex digits) for about 2 us.
DO $$
DECLARE
    t TEXT;
    c TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['clicks', 'conversions'] LOOP
        FOREACH c IN ARRAY ARRAY['external_id', 'em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st',
                                 'zp', 'country'] LOOP
            EXECUTE format(
                'ALTER TABLE %1$I DROP CONSTRAINT %2$I, '
                'ADD CONSTRAINT %2$I CHECK (octet_length(%3$I) = 64 AND %3$I ~ ''^[0-9a-f]*$'')',
                t, t || '_' || c || '_check', c);
        END LOOP;
    END LOOP;
END
$$;
