-- The fields of a postback, import row or click registration that were dropped or changed
-- ([{"field": ..., "reason": ...}]): shown in the admin views and counted by the quality
-- report. NULL when nothing was dropped (most rows), so clean rows cost nothing.
ALTER TABLE conversions ADD COLUMN dropped JSONB;
ALTER TABLE clicks ADD COLUMN dropped JSONB;
-- An import's rows that were recorded with fields dropped: [{"line", "field", "reason"}],
-- capped by the importer like its errors.
ALTER TABLE imports ADD COLUMN dropped JSONB NOT NULL DEFAULT '[]'::jsonb;
