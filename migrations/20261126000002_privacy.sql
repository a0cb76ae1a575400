-- Privacy operations: event payloads (which carry IP, User-Agent and hashed customer data) are
-- erased by the retention job and by a click erasure request, so the column becomes nullable.
-- A NULL payload is never sent: only pending events are delivered and erasure never leaves an
-- event pending.
ALTER TABLE events ALTER COLUMN payload DROP NOT NULL;

-- The retention job finds old rows by time.
CREATE INDEX events_created_idx ON events (created_at) WHERE payload IS NOT NULL;
CREATE INDEX conversions_received_idx ON conversions (received_at);
