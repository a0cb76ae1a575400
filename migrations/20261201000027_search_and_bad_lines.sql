-- Issue 22, items 8 and 9: conversions found by transaction id, imports named by their file,
-- and every bad line of an import kept (up to a cap) for its CSV.

-- The list's `txid` filter is an exact match; most postbacks of some trackers carry none.
CREATE INDEX conversions_txid_idx ON conversions (txid) WHERE txid <> '';

-- The uploaded file's name (path stripped, capped); NULL when the upload named none (a plain
-- text/csv body through the API).
ALTER TABLE imports ADD COLUMN file_name TEXT CHECK (char_length(file_name) <= 255);

-- An import's bad lines: refused rows, and rows recorded that cannot be sent. `field` is the
-- column the reason is about, when it is one; `value` its value as the file has it, only for a
-- column that is not personal data. Replaces `imports.errors`, which kept the first 100.
CREATE TABLE import_bad_lines (
    import_id  BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line       BIGINT NOT NULL CHECK (line > 0),
    reason     TEXT NOT NULL,
    field      TEXT,
    value      TEXT,
    PRIMARY KEY (import_id, line)
);
-- The importer kept only the first bad lines (the cap was reached): the CSV says "first N".
ALTER TABLE imports ADD COLUMN bad_lines_cut BOOLEAN NOT NULL DEFAULT false;

INSERT INTO import_bad_lines (import_id, line, reason)
SELECT i.id, (e ->> 'line')::bigint, COALESCE(e ->> 'error', '')
FROM imports i, jsonb_array_elements(i.errors) e
WHERE (e ->> 'line')::bigint > 0
ON CONFLICT DO NOTHING;
UPDATE imports SET bad_lines_cut = true WHERE jsonb_array_length(errors) >= 100;
ALTER TABLE imports DROP COLUMN errors;
