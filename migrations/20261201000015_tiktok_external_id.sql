-- TikTok's external_id digest (issue 14): SHA-256 of the id as given, case kept, where Meta's
-- `external_id` hashes it lowercased. Computed on arrival, since the raw id is never stored.
ALTER TABLE clicks
    ADD COLUMN tiktok_external_id TEXT CHECK (tiktok_external_id ~ '^[0-9a-f]{64}$');

ALTER TABLE conversions
    ADD COLUMN tiktok_external_id TEXT CHECK (tiktok_external_id ~ '^[0-9a-f]{64}$');
