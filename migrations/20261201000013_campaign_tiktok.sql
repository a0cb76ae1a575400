-- A campaign advertises on Meta, TikTok or both (issue 14). Meta's settings stay the columns
-- they always were, now optional together; TikTok's are four columns, set or cleared together.
ALTER TABLE campaigns ALTER COLUMN pixel_id DROP NOT NULL;
ALTER TABLE campaigns ALTER COLUMN access_token DROP NOT NULL;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_meta_complete
    CHECK ((pixel_id IS NULL) = (access_token IS NULL));
ALTER TABLE campaigns
    ADD COLUMN tiktok_pixel_code TEXT CHECK (tiktok_pixel_code ~ '^[A-Za-z0-9]{1,64}$'),
    -- Write-only through the API; sealed like access_token.
    ADD COLUMN tiktok_access_token TEXT,
    ADD COLUMN tiktok_test_event_code TEXT,
    -- status word -> TikTok event name, or JSON null for "do not send to TikTok".
    ADD COLUMN tiktok_event_map JSONB;
ALTER TABLE campaigns ADD CONSTRAINT campaigns_tiktok_complete
    CHECK ((tiktok_pixel_code IS NULL) = (tiktok_access_token IS NULL)
       AND (tiktok_pixel_code IS NULL) = (tiktok_event_map IS NULL));
ALTER TABLE campaigns ADD CONSTRAINT campaigns_some_platform
    CHECK (pixel_id IS NOT NULL OR tiktok_pixel_code IS NOT NULL);
