-- The action source an import applied to its rows without a registered click (issue 20, 4b),
-- shown on its page; NULL when the uploader chose none. Written only from the program's
-- ActionSource values (the conversions table checks the same list where it matters).
ALTER TABLE imports ADD COLUMN default_action_source TEXT;
