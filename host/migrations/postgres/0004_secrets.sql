-- Each installation's secrets, sealed with XChaCha20-Poly1305 under the platform's vault key
-- (never stored here). `key_id` is the sealing key's fingerprint, so a wrong key is reported
-- as such; nonce and ciphertext are hex.
CREATE TABLE secrets (
    installation_id  TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    nonce            TEXT NOT NULL,
    ciphertext       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    rotated_at       BIGINT NOT NULL,
    rotated_by       TEXT NOT NULL,
    PRIMARY KEY (installation_id, name)
);
