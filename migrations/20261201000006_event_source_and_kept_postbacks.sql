-- Meta requires event_source_url for website events: a campaign's landing page stands in when
-- neither the click nor the postback carried one.
ALTER TABLE campaigns ADD COLUMN landing_url TEXT;

-- What the postback carried: the page of the conversion (`url` / `event_source_url`) and its
-- parameters without the key and personal data, so a user can see why a status was skipped.
ALTER TABLE conversions ADD COLUMN event_source_url TEXT, ADD COLUMN params JSONB;

-- Postbacks that carried the key but were refused (an unfilled status macro, a missing click id,
-- an invalid value): nothing was recorded for them, so they are kept here for the user to see.
CREATE TABLE refused_postbacks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    tracker      TEXT NOT NULL,
    code         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    params       JSONB NOT NULL
);
CREATE INDEX refused_postbacks_received_idx ON refused_postbacks (received_at);
