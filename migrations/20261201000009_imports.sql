-- Offline conversion imports (CSV uploads). The rows become conversions through the postback
-- path; this table only tracks each upload's progress, counts by outcome and first errors.
CREATE TABLE imports (
    id              BIGSERIAL PRIMARY KEY,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    state           TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    failure_reason  TEXT,
    -- Data lines in the file (known once the upload is spooled).
    rows_total      BIGINT NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    rows_done       BIGINT NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    accepted        BIGINT NOT NULL DEFAULT 0,
    duplicate       BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    unmatched       BIGINT NOT NULL DEFAULT 0,
    invalid         BIGINT NOT NULL DEFAULT 0,
    -- Touched every few seconds by the task importing it. Several `serve` processes may share
    -- the database, so a running import is known dead only when this stops moving.
    heartbeat_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The first errors, [{"line": n, "error": "..."}], capped by the importer.
    errors          JSONB NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX imports_running_idx ON imports (heartbeat_at) WHERE state = 'running';
