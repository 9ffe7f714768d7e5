-- A claim walks the installations with queued deliveries (one index seek each) and takes each
-- one's oldest due deliveries (an index range), so its cost follows the installations with
-- work and the batch size, never the length of a backlog.
CREATE INDEX deliveries_queue ON deliveries (state, installation_id, next_at);

-- Fan-out takes each merchant's oldest new events in turn, so one merchant's burst of events
-- is not fanned out (and queued) before another merchant's single one.
CREATE INDEX events_unfanned ON events (fanned_out, merchant_id, occurred_at);
