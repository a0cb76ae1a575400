-- A conversion fans out to one event per platform (issue 14); its own delivery state is the
-- least advanced of them: pending < failed < expired < sent. One aggregate says so for every
-- read (lists, filters, counts, gauges), so no conversion is counted once per platform.
CREATE FUNCTION least_advanced_state_step(a TEXT, b TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN array_position(ARRAY['pending', 'failed', 'expired', 'sent'], b)
                   < array_position(ARRAY['pending', 'failed', 'expired', 'sent'], a)
                THEN b ELSE a END;

-- STRICT step without an initial value: the first event's state starts the fold; no events
-- gives NULL (callers fall back to the conversion's own state).
CREATE AGGREGATE least_advanced_state(TEXT) (
    SFUNC = least_advanced_state_step,
    STYPE = TEXT,
    PARALLEL = SAFE
);
