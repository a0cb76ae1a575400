-- The value and currency each event carried to its platform (Meta's custom_data, TikTok's
-- properties), kept in columns so the dashboard's lists and money totals read them without
-- parsing JSON, and so they outlive the payload: retention and erasure set the payload to NULL
-- but a value and a currency are not personal data.
ALTER TABLE events ADD COLUMN value DOUBLE PRECISION, ADD COLUMN currency TEXT;

-- One rule for both platforms' payloads; a payload without a (numeric) value leaves NULL.
CREATE FUNCTION events_keep_value() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    v JSONB;
BEGIN
    IF NEW.payload IS NOT NULL THEN
        v := COALESCE(NEW.payload -> 'custom_data', NEW.payload -> 'properties');
        NEW.value := CASE WHEN jsonb_typeof(v -> 'value') = 'number'
                          THEN (v ->> 'value')::float8 END;
        NEW.currency := v ->> 'currency';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_keep_value BEFORE INSERT OR UPDATE OF payload ON events
    FOR EACH ROW EXECUTE FUNCTION events_keep_value();

-- Events written before this migration, while their payload is still there.
UPDATE events SET payload = payload WHERE payload IS NOT NULL;
