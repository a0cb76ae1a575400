-- A dashboard session opens only while the ADMIN_TOKEN that signed it in is the current one:
-- each keeps an HMAC-SHA256 of that token keyed by the session's id (which only the browser's
-- cookie holds), never the token. Sessions from before cannot be checked, so they end.
DELETE FROM ui_sessions;
ALTER TABLE ui_sessions
    ADD COLUMN token_fingerprint TEXT NOT NULL CHECK (token_fingerprint ~ '^[0-9a-f]{64}$');
