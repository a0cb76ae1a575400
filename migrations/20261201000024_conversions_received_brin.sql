-- The campaigns list counts each campaign's conversions of today and of the last 7 days by
-- received_at, which no index covered (a scan of every conversion on each page view). Rows
-- arrive in received_at order, so a BRIN index finds the window's blocks for a few pages of
-- index and costs next to nothing on insert, unlike a B-tree on the postback path.
CREATE INDEX conversions_received_brin ON conversions USING brin (received_at);
