-- Keep in step with ../postgres/0006_publisher_limits.sql.
-- Connector limit overrides belong to a publisher's connector, not to whoever uses its id: a
-- manifest of another publisher with the same id inherits nothing. An override set before this
-- migration is kept only where one publisher alone has artifacts with that connector id; any
-- other is dropped (set it again with `airlock limits set --connector ID --publisher NAME`).
CREATE TABLE publisher_connector_limits (
    publisher     TEXT NOT NULL,
    connector_id  TEXT NOT NULL,
    limits        TEXT NOT NULL,
    set_by        TEXT NOT NULL,
    set_at        BIGINT NOT NULL,
    PRIMARY KEY (publisher, connector_id)
);

INSERT INTO publisher_connector_limits (publisher, connector_id, limits, set_by, set_at)
SELECT (SELECT MIN(a.publisher) FROM artifacts a WHERE a.connector_id = c.connector_id),
       c.connector_id, c.limits, c.set_by, c.set_at
FROM connector_limits c
WHERE (SELECT COUNT(DISTINCT a.publisher) FROM artifacts a WHERE a.connector_id = c.connector_id) = 1;

DROP TABLE connector_limits;
