-- Every conversion and every event write updates each index of its table, and postbacks are
-- bound by PostgreSQL (see the README's benchmark section). Two indexes cost more than they
-- serve:
--
-- conversions_click_idx repeats the leading column of conversions_dedup_key (click_id, status,
-- txid), which answers lookups by click id as well.
DROP INDEX conversions_click_idx;

-- events_campaign_state_idx held every event under its campaign and state, and was rewritten
-- on each insert and each state change; the lookups by campaign and state are all for failed
-- events (token errors to re-queue, manual replays), a handful at any time. Pending events
-- waiting out a retry have events_backoff_idx. Deleting a campaign now finds its events
-- through their conversions (conversions_campaign_idx, events_conversion_key); the direct
-- cascade from campaigns scans events once, for an admin action that is rare.
CREATE INDEX events_failed_idx ON events (campaign_id) WHERE state = 'failed';
DROP INDEX events_campaign_state_idx;
