-- Bearer tokens for the platform's HTTP API: a platform token (merchant_id NULL) may do
-- everything; a merchant token only its own merchant's business. Only a SHA-256 of each
-- secret is kept, so a copy of the database lets no one call the API.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    merchant_id TEXT REFERENCES merchants(id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_by_merchant ON api_tokens (merchant_id, created_at);
