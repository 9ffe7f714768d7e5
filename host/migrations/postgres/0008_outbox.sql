-- The durable outbox. `emit` writes one `events` row (in the transaction of the change that
-- caused it, where there is one); the dispatcher fans it out to one `deliveries` row per
-- subscribed, granted installation, then claims due deliveries in batches under a lease.
CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    topic        TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    -- 0 until the dispatcher has written this event's deliveries.
    fanned_out   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX events_to_fan_out ON events (fanned_out, occurred_at);
CREATE INDEX events_by_merchant ON events (merchant_id, occurred_at);

-- One event for one installation. `fence` grows with every claim: an outcome is written only
-- by the holder of the newest claim, so a claim rescued after its lease ran out can never
-- overwrite a newer outcome. `attempts` counts claims (a crash mid-delivery is an attempt).
-- The event's topic, subject and time are copied in, so a claim is one statement.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    merchant_id      TEXT NOT NULL,
    installation_id  TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    topic            TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    occurred_at      BIGINT NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_at          BIGINT NOT NULL,
    fence            BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_code        TEXT,
    last_detail      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (event_id, installation_id)
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);
CREATE INDEX deliveries_by_installation ON deliveries (installation_id, created_at);

-- An installation whose deliveries wait for the merchant (bad credentials, a missing
-- permission, verification, a policy hold): its queued deliveries are kept, not attempted,
-- until the cause is fixed (a key whose health check passes, a re-approved scope).
CREATE TABLE delivery_holds (
    installation_id  TEXT PRIMARY KEY REFERENCES installations (id) ON DELETE CASCADE,
    cause            TEXT NOT NULL,
    detail           TEXT NOT NULL,
    since            BIGINT NOT NULL
);

-- Each plan's retry schedule: seconds between tries, comma separated (NULL: the host default).
ALTER TABLE plans ADD COLUMN retry_schedule TEXT;
