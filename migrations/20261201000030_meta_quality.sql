-- Meta's Dataset Quality API, per pixel: when to fetch next, and what came back.

-- One row per pixel: the schedule and the on-demand limit live here, not in a process, so
-- several `serve` processes fetch a pixel once per round (a claim moves next_fetch_at forward
-- in the same statement that takes it).
CREATE TABLE meta_quality_pixels (
    pixel_id TEXT PRIMARY KEY,
    next_fetch_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Someone pressed refresh; taken by the next round whatever the schedule.
    refresh_requested BOOLEAN NOT NULL DEFAULT false,
    -- The last accepted refresh request: at most one a minute per pixel.
    refresh_requested_at TIMESTAMPTZ,
    -- A process is fetching it until then (a crashed one gives it back by expiry).
    claimed_until TIMESTAMPTZ
);

-- Every fetch's outcome, successful or not, with what the user should do about it.
CREATE TABLE meta_quality_fetches (
    id BIGSERIAL PRIMARY KEY,
    pixel_id TEXT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome TEXT NOT NULL CHECK (outcome IN
        ('scored', 'no_score_yet', 'token_invalid', 'missing_rights', 'graph_error',
         'unreachable', 'no_readable_token')),
    message TEXT,
    -- Meta's error code, when Meta answered with one.
    graph_code BIGINT,
    -- The campaign whose token answered (or was tried last).
    campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL
);
CREATE INDEX meta_quality_fetches_pixel ON meta_quality_fetches (pixel_id, fetched_at DESC);

-- One row per (pixel, event name, fetch): Meta's figures as columns, its element as received.
-- No personal data: aggregate percentages and Meta's texts only.
CREATE TABLE meta_quality_snapshots (
    id BIGSERIAL PRIMARY KEY,
    fetch_id BIGINT NOT NULL REFERENCES meta_quality_fetches (id) ON DELETE CASCADE,
    pixel_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    emq DOUBLE PRECISION,
    event_coverage_percent DOUBLE PRECISION,
    acr_percent DOUBLE PRECISION,
    -- dedupe_key_feedback for the key `event_id`, the one the tag and the server share.
    dedupe_browser_percent DOUBLE PRECISION,
    dedupe_server_percent DOUBLE PRECISION,
    upload_frequency TEXT,
    raw JSONB NOT NULL,
    UNIQUE (pixel_id, event_name, fetched_at)
);
