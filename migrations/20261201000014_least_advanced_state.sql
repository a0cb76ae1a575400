-- A conversion fans out to one event per platform (issue 14); its own delivery state is the
-- least advanced of them: pending < failed < expired < sent. One aggregate says so for every
-- read (lists, filters, counts, gauges), so no conversion is counted once per platform.
-- An event cancelled because its platform left the campaign (failure_class
-- 'platform_removed') counts only when nothing else does: Meta sent and TikTok removed is sent.
CREATE FUNCTION least_advanced_state_step(acc TEXT, state TEXT, failure_class TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN state IS NULL THEN acc
        WHEN acc IS NULL THEN
            CASE WHEN failure_class = 'platform_removed' THEN 'removed' ELSE state END
        WHEN failure_class = 'platform_removed' THEN acc
        WHEN array_position(ARRAY['pending', 'failed', 'expired', 'sent', 'removed'], state)
           < array_position(ARRAY['pending', 'failed', 'expired', 'sent', 'removed'], acc)
        THEN state ELSE acc END;

CREATE FUNCTION least_advanced_state_final(acc TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN acc = 'removed' THEN 'failed' ELSE acc END;

-- No events gives NULL (callers fall back to the conversion's own state).
CREATE AGGREGATE least_advanced_state(TEXT, TEXT) (
    SFUNC = least_advanced_state_step,
    STYPE = TEXT,
    FINALFUNC = least_advanced_state_final,
    PARALLEL = SAFE
);
