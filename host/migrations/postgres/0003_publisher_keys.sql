-- Publisher signing keys the platform trusts, each registered to one publisher name.
CREATE TABLE publisher_keys (
    public_key  TEXT PRIMARY KEY,
    publisher   TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    BIGINT NOT NULL
);
