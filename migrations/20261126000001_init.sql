-- capi-bridge schema.
--
-- Four tables follow the life of a conversion: a campaign (tracker campaign -> Meta pixel), the
-- clicks registered by landing pages, the conversions reported by postbacks, and the outbound
-- events (the transactional outbox the delivery worker drains). Personal data is only ever stored
-- as SHA-256 hashes: the application hashes on arrival and the CHECK constraints refuse anything
-- that is not 64 lowercase hex characters, so a bug cannot silently store a raw email.

CREATE TABLE campaigns (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key                TEXT NOT NULL CONSTRAINT campaigns_key_key UNIQUE
                       CHECK (key ~ '^[a-z0-9_-]{1,64}$'),
    name               TEXT NOT NULL,
    pixel_id           TEXT NOT NULL CHECK (pixel_id ~ '^[0-9]{1,32}$'),
    -- Write-only through the API. Stored encrypted ("enc:v1:...") when SECRETS_KEY is set.
    access_token       TEXT NOT NULL,
    test_event_code    TEXT,
    action_source      TEXT NOT NULL DEFAULT 'website',
    -- status word -> Meta event name, or JSON null for "record but do not send".
    event_map          JSONB NOT NULL,
    currency           TEXT NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    -- 'payout', 'none', or a fixed number as text (kept exact, parsed by the application).
    value_source       TEXT NOT NULL DEFAULT 'payout',
    event_id_template  TEXT NOT NULL DEFAULT '{event_name}-{click_id}',
    require_consent    BOOLEAN NOT NULL DEFAULT FALSE,
    limited_data_use   BOOLEAN NOT NULL DEFAULT FALSE,
    enabled            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A click id is the tracker's own id and is globally unique: postbacks carry only the click id,
-- never the campaign, so the click id alone must find the click.
CREATE TABLE clicks (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    click_id           TEXT NOT NULL CONSTRAINT clicks_click_id_key UNIQUE,
    campaign_id        BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    -- When the click was first registered: the creation time of an fbc built from fbclid.
    first_seen_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    fbclid             TEXT,
    fbc                TEXT,
    fbp                TEXT,
    event_source_url   TEXT,
    referrer_url       TEXT,
    client_ip_address  TEXT,
    client_user_agent  TEXT,
    consent            BOOLEAN,
    -- Meta event name -> the eventID the page gave the pixel.
    event_ids          JSONB NOT NULL DEFAULT '{}',
    -- Hashed customer data (SHA-256, lowercase hex).
    external_id        TEXT CHECK (external_id ~ '^[0-9a-f]{64}$'),
    em                 TEXT CHECK (em ~ '^[0-9a-f]{64}$'),
    ph                 TEXT CHECK (ph ~ '^[0-9a-f]{64}$'),
    fn                 TEXT CHECK (fn ~ '^[0-9a-f]{64}$'),
    ln                 TEXT CHECK (ln ~ '^[0-9a-f]{64}$'),
    ge                 TEXT CHECK (ge ~ '^[0-9a-f]{64}$'),
    db                 TEXT CHECK (db ~ '^[0-9a-f]{64}$'),
    ct                 TEXT CHECK (ct ~ '^[0-9a-f]{64}$'),
    st                 TEXT CHECK (st ~ '^[0-9a-f]{64}$'),
    zp                 TEXT CHECK (zp ~ '^[0-9a-f]{64}$'),
    country            TEXT CHECK (country ~ '^[0-9a-f]{64}$')
);
CREATE INDEX clicks_campaign_idx ON clicks (campaign_id);
CREATE INDEX clicks_first_seen_idx ON clicks (first_seen_at);

-- One row per postback that was not ignored. The unique key (click id, mapped status, transaction
-- id) is what makes a tracker's retried postback a duplicate instead of a second conversion.
CREATE TABLE conversions (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    click_id           TEXT NOT NULL,
    -- NULL while unmatched (the click was not registered yet).
    click_row_id       BIGINT REFERENCES clicks (id) ON DELETE SET NULL,
    campaign_id        BIGINT REFERENCES campaigns (id) ON DELETE CASCADE,
    -- Campaign named by the postback itself (optional `campaign` parameter), used when the click
    -- never arrives.
    campaign_hint      TEXT,
    tracker            TEXT NOT NULL,
    raw_status         TEXT NOT NULL,
    status             TEXT NOT NULL,
    txid               TEXT NOT NULL DEFAULT '',
    payout             DOUBLE PRECISION,
    currency           TEXT CHECK (currency ~ '^[A-Z]{3}$'),
    received_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    event_time         TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- unmatched: waiting for the click; skipped: status maps to no event; suppressed: campaign
    -- requires consent the click did not give; queued: an outbound event exists (its state is the
    -- delivery state); failed: could not be turned into an event (reason in failure_reason).
    state              TEXT NOT NULL CHECK (state IN ('unmatched', 'skipped', 'suppressed', 'queued', 'failed')),
    event_name         TEXT,
    failure_reason     TEXT,
    -- What the postback itself carried, used where the click lacks it.
    ip                 TEXT,
    user_agent         TEXT,
    fbclid             TEXT,
    external_id        TEXT CHECK (external_id ~ '^[0-9a-f]{64}$'),
    em                 TEXT CHECK (em ~ '^[0-9a-f]{64}$'),
    ph                 TEXT CHECK (ph ~ '^[0-9a-f]{64}$'),
    fn                 TEXT CHECK (fn ~ '^[0-9a-f]{64}$'),
    ln                 TEXT CHECK (ln ~ '^[0-9a-f]{64}$'),
    ge                 TEXT CHECK (ge ~ '^[0-9a-f]{64}$'),
    db                 TEXT CHECK (db ~ '^[0-9a-f]{64}$'),
    ct                 TEXT CHECK (ct ~ '^[0-9a-f]{64}$'),
    st                 TEXT CHECK (st ~ '^[0-9a-f]{64}$'),
    zp                 TEXT CHECK (zp ~ '^[0-9a-f]{64}$'),
    country            TEXT CHECK (country ~ '^[0-9a-f]{64}$'),
    CONSTRAINT conversions_dedup_key UNIQUE (click_id, status, txid)
);
CREATE INDEX conversions_unmatched_idx ON conversions (received_at) WHERE state = 'unmatched';
CREATE INDEX conversions_campaign_idx ON conversions (campaign_id, id DESC);
CREATE INDEX conversions_click_idx ON conversions (click_id);

-- The outbox. Written in the same transaction as its conversion; drained by the delivery worker,
-- which claims rows with FOR UPDATE SKIP LOCKED and a lease, commits, and only then calls Meta.
CREATE TABLE events (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversion_id      BIGINT NOT NULL CONSTRAINT events_conversion_key UNIQUE
                       REFERENCES conversions (id) ON DELETE CASCADE,
    campaign_id        BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    event_name         TEXT NOT NULL,
    -- Stable for the life of the conversion, so Meta deduplicates a re-send after a crash.
    event_id           TEXT NOT NULL,
    event_time         TIMESTAMPTZ NOT NULL,
    -- The exact server event sent to Meta (never contains the access token).
    payload            JSONB NOT NULL,
    state              TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'expired')),
    -- Why a failed event waits: 'auth' events are re-queued when the campaign's token or pixel
    -- changes; 'invalid' events need a manual retry.
    failure_class      TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_owner        UUID,
    lease_until        TIMESTAMPTZ,
    last_error         TEXT,
    sent_at            TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_due_idx ON events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX events_campaign_state_idx ON events (campaign_id, state);

-- Every call to Meta that carried the event, with Meta's verdict.
CREATE TABLE delivery_attempts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_row_id       BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    attempted_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome            TEXT NOT NULL,
    http_status        INTEGER,
    error_code         INTEGER,
    error_subcode      INTEGER,
    message            TEXT,
    fbtrace_id         TEXT
);
CREATE INDEX delivery_attempts_event_idx ON delivery_attempts (event_row_id);
