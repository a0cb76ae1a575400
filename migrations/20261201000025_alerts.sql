-- Alerts (issue 22, item 11): one row per key (subject, platform, condition), so the loop of
-- any process knows whether a condition's start was already sent, and when the key last fired.
-- subject is a campaign key today (a pixel later); platform is '' when the condition has none.
CREATE TABLE alerts (
    subject TEXT NOT NULL,
    platform TEXT NOT NULL,
    condition TEXT NOT NULL,
    state TEXT NOT NULL CONSTRAINT alerts_state_check CHECK (state IN ('firing', 'cleared')),
    -- When the current (or last) episode of the condition began, as the health check saw it.
    started_at TIMESTAMPTZ NOT NULL,
    -- When this episode's start was sent; NULL while held back by the hourly limit. A clear is
    -- sent only when this is set.
    start_sent_at TIMESTAMPTZ,
    -- The last start sent for the key, any episode: at most one per hour.
    last_fired_at TIMESTAMPTZ,
    cleared_at TIMESTAMPTZ,
    PRIMARY KEY (subject, platform, condition)
);

-- Every message sent or attempted, per channel: the dashboard's list of alerts sent.
CREATE TABLE alerts_sent (
    id BIGSERIAL PRIMARY KEY,
    sent_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    subject TEXT NOT NULL,
    platform TEXT NOT NULL,
    condition TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT alerts_sent_kind_check CHECK (kind IN ('firing', 'resolved', 'test')),
    channel TEXT NOT NULL CONSTRAINT alerts_sent_channel_check CHECK (channel IN ('webhook', 'telegram')),
    delivered BOOLEAN NOT NULL,
    -- The message (no secret, no personal data) and, when not delivered, why.
    text TEXT NOT NULL,
    error TEXT
);
CREATE INDEX alerts_sent_sent_at ON alerts_sent (sent_at DESC, id DESC);
