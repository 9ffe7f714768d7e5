-- Per-plan and per-connector overrides of the host's per-call limits, as JSON
-- (LimitOverrides): a field set there replaces the host's default; the connector's wins.
ALTER TABLE plans ADD COLUMN limits TEXT;

CREATE TABLE connector_limits (
    connector_id  TEXT PRIMARY KEY,
    limits        TEXT NOT NULL,
    set_by        TEXT NOT NULL,
    set_at        BIGINT NOT NULL
);
