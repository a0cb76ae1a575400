-- When each platform of a campaign gets a conversion (issue 20, item 10b): 'always', or
-- 'platform_click' (only when the click carries that platform's own signal). NULL: the default,
-- platform_click for a campaign on Meta and TikTok, always for one on a single platform, so the
-- default follows the platforms as they are added or removed.
ALTER TABLE campaigns
    ADD COLUMN meta_send_when TEXT CHECK (meta_send_when IN ('always', 'platform_click')),
    ADD COLUMN tiktok_send_when TEXT CHECK (tiktok_send_when IN ('always', 'platform_click'));
-- The platforms a conversion was not sent to by their send_when: [{"platform", "reason"}]. NULL
-- when none (most rows); such a platform has no event row.
ALTER TABLE conversions ADD COLUMN skipped_platforms JSONB;
