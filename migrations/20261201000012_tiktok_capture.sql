-- TikTok's click identifiers and digests (issue 14, capture). Identifiers are kept as given
-- (TikTok wants them raw); the phone digest is TikTok's own normalisation (E.164 with '+'),
-- computed on arrival next to Meta's `ph`, since the raw number is never stored.
ALTER TABLE clicks
    ADD COLUMN ttclid           TEXT CHECK (length(ttclid) BETWEEN 1 AND 512),
    ADD COLUMN ttp              TEXT CHECK (length(ttp) BETWEEN 1 AND 512),
    ADD COLUMN tiktok_event_ids JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN tiktok_ph        TEXT CHECK (tiktok_ph ~ '^[0-9a-f]{64}$');

ALTER TABLE conversions
    ADD COLUMN ttclid           TEXT CHECK (length(ttclid) BETWEEN 1 AND 512),
    ADD COLUMN tiktok_ph        TEXT CHECK (tiktok_ph ~ '^[0-9a-f]{64}$');
