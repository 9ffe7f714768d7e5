-- Claims now walk `deliveries_queue`; nothing reads `deliveries_due` any more (a prune, and
-- the rescue of expired leases, use the state prefix of `deliveries_queue`). One index less
-- to keep up on every claim and outcome.
DROP INDEX deliveries_due;
