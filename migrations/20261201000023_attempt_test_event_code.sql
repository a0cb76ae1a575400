-- The test event code each delivery attempt carried (NULL: production). The worker reads the
-- campaign's current code at send time, so only the attempt knows where an event went.
ALTER TABLE delivery_attempts ADD COLUMN test_event_code TEXT;

-- An event went to its platform's Test Events when its latest attempt carried a code: the one
-- rule the conversion list, its page and the admin API read.
CREATE FUNCTION event_test_event_code(event_row BIGINT) RETURNS TEXT
    LANGUAGE sql STABLE AS $$
    SELECT test_event_code FROM delivery_attempts
    WHERE event_row_id = event_row ORDER BY id DESC LIMIT 1
$$;
