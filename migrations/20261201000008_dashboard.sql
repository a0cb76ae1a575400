-- The dashboard. Sign-ins: the cookie carries a random id; only its SHA-256 is stored, so a
-- dump opens no session. Signing out deletes the row.
CREATE TABLE ui_sessions (
    id_hash            TEXT PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    -- Per-session token every dashboard form carries back (CSRF).
    csrf_token         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at);

-- The dashboard's overview counts the last 7 days of events and delivery attempts. Both tables
-- grow in time order, so block-range indexes keep those counts off full scans at almost no cost
-- to delivery's writes.
CREATE INDEX events_created_brin ON events USING brin (created_at);
CREATE INDEX delivery_attempts_attempted_brin ON delivery_attempts USING brin (attempted_at);
