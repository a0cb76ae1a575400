-- Dashboard sign-ins. The cookie carries a random id; only its SHA-256 is stored, so a database
-- dump opens no session. Signing out deletes the row.
CREATE TABLE ui_sessions (
    id_hash            TEXT PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    -- Per-session token every dashboard form carries back (CSRF).
    csrf_token         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at);
