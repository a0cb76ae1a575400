-- Issue 21: only the browser that registered a click (or a caller with the postback key) may
-- change it, and click ids are unique per campaign instead of globally.

-- The SHA-256 of the click's update token; the token itself is never stored. A public
-- registration changes the click only when it presents the token. NULL on clicks registered
-- before this migration: only a caller with the postback key may change those.
ALTER TABLE clicks ADD COLUMN update_token_sha256 BYTEA
    CHECK (octet_length(update_token_sha256) = 32);

-- Two trackers, or two campaigns, may issue the same click id: it is unique per campaign. The
-- click id leads, so a postback's lookup by click id alone uses the same index.
ALTER TABLE clicks DROP CONSTRAINT clicks_click_id_key;
ALTER TABLE clicks ADD CONSTRAINT clicks_click_id_campaign_key UNIQUE (click_id, campaign_id);

-- A postback naming one campaign is not a repeat of one naming another campaign with the same
-- click id, status and transaction id.
ALTER TABLE conversions DROP CONSTRAINT conversions_dedup_key;
ALTER TABLE conversions ADD CONSTRAINT conversions_dedup_key
    UNIQUE NULLS NOT DISTINCT (click_id, campaign_hint, status, txid);

-- The postback named no campaign and several campaigns held its click id: it joined the most
-- recently registered of those clicks, which may be the wrong one.
ALTER TABLE conversions ADD COLUMN click_ambiguous BOOLEAN NOT NULL DEFAULT false;
