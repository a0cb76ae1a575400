-- A conversion's own Meta action_source (an import row's or postback's `action_source`, or an
-- import's default for rows without a registered click); NULL means the campaign's applies.
ALTER TABLE conversions ADD COLUMN action_source TEXT CHECK (action_source IN
    ('website', 'app', 'email', 'phone_call', 'chat', 'physical_store', 'system_generated',
     'business_messaging', 'other'));
-- The import that recorded a conversion, so the import page can count its rows' later fates.
-- Deleting an import keeps its conversions.
ALTER TABLE conversions ADD COLUMN import_id BIGINT REFERENCES imports (id) ON DELETE SET NULL;
CREATE INDEX conversions_import_idx ON conversions (import_id) WHERE import_id IS NOT NULL;
