-- Two costs of the outbox measured while 100,000 postbacks were accepted and delivered:
--
-- After each request to Meta the worker asks whether the campaign has events backing off
-- (`attempts > 0` and a retry time still to come) and, after a success, sends those at once.
-- Both read the campaign's pending events through events_campaign_state_idx and filtered out
-- all but the rare failed-before ones: 28 ms per call with a backlog of a few thousand. This
-- partial index holds only the events that failed before and wait for a retry, so it is
-- nearly empty and costs nothing to keep when Meta is up.
CREATE INDEX events_backoff_idx ON events (campaign_id, next_attempt_at)
    WHERE state = 'pending' AND attempts > 0;

-- Claiming an event writes its lease (lease_owner, lease_until), columns no index covers; with
-- room left on the page PostgreSQL makes that a heap-only update instead of adding an entry to
-- every index of the table. Applies to pages written from now on.
ALTER TABLE events SET (fillfactor = 70);
