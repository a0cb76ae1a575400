-- Each outbound event belongs to one ad platform, so a conversion can fan out to one event per
-- platform its campaign advertises on (issue 14). Every event so far is Meta's.
ALTER TABLE events
    ADD COLUMN platform TEXT NOT NULL DEFAULT 'meta' CONSTRAINT events_platform_check CHECK (platform IN ('meta'));
ALTER TABLE events DROP CONSTRAINT events_conversion_key;
ALTER TABLE events ADD CONSTRAINT events_conversion_platform_key UNIQUE (conversion_id, platform);
