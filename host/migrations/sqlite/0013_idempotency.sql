-- The platform API's `Idempotency-Key`s: the answer to a POST, kept for 24 hours under the
-- calling token's hash and the key it chose, so a retried request is answered from here
-- instead of being done twice. `request_hash` fingerprints the request (method, path, query,
-- body): the same key sent with another request is refused, not answered with the first's
-- result. A row with a NULL status is a request still running.
CREATE TABLE api_idempotency (
    token_hash   TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (token_hash, idem_key)
);
CREATE INDEX api_idempotency_by_age ON api_idempotency (created_at);
