-- TikTok's Events API is the second platform an event can belong to (issue 14).
ALTER TABLE events DROP CONSTRAINT events_platform_check;
ALTER TABLE events
    ADD CONSTRAINT events_platform_check CHECK (platform IN ('meta', 'tiktok'));
