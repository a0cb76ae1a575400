-- Where a campaign's visitors are (issue 20, item 7): national phone numbers get the calling code
-- of default_country (ISO 3166-1 alpha-2, lowercase; never sent as user_data.country), and
-- slashed dates of birth are read by date_order (NULL: mdy for us, dmy for other countries, and
-- only dates that read one way without a country).
ALTER TABLE campaigns
    ADD COLUMN default_country TEXT CHECK (default_country ~ '^[a-z]{2}$'),
    ADD COLUMN date_order TEXT CHECK (date_order IN ('mdy', 'dmy'));
