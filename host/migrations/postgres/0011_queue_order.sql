-- Claims take each installation's deliveries in (next_at, id) order. The queue's index ended
-- at next_at, so a backlog fanned out in one go (every delivery due at the same millisecond)
-- was read and sorted whole to take the first few: the id goes in the index.
DROP INDEX deliveries_queue;
CREATE INDEX deliveries_queue ON deliveries (state, installation_id, next_at, id);

-- Fan-out reads `events_unfanned`; a prune reads it too (its `fanned_out = 1` range). One
-- index less to keep up on every event written and fanned out.
DROP INDEX events_to_fan_out;
