-- What each installation holds in its own storage (keys plus values, in bytes, and keys),
-- kept up to date by every write in the same transaction: the quota check reads this one row
-- (and locks it, so writes of one installation take turns) instead of summing its keys.
CREATE TABLE connector_storage_usage (
    installation_id  TEXT PRIMARY KEY REFERENCES installations (id) ON DELETE CASCADE,
    byte_count       BIGINT NOT NULL,
    key_count        BIGINT NOT NULL
);

INSERT INTO connector_storage_usage (installation_id, byte_count, key_count)
SELECT installation_id, SUM(length(CAST(key AS BLOB)) + length(value)), COUNT(*)
FROM connector_storage GROUP BY installation_id;
