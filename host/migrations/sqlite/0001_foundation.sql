-- Airlock foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql.
CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    app_slots   BIGINT NOT NULL
);

CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    plan_id     TEXT NOT NULL REFERENCES plans (id),
    created_at  BIGINT NOT NULL
);

-- Uploaded components, pinned by sha256; shared by every merchant that installs them.
CREATE TABLE artifacts (
    digest        TEXT PRIMARY KEY,
    connector_id  TEXT NOT NULL,
    version       TEXT NOT NULL,
    publisher     TEXT NOT NULL,
    manifest      TEXT NOT NULL,
    component     BLOB NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE installations (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id),
    connector_id  TEXT NOT NULL,
    digest        TEXT NOT NULL REFERENCES artifacts (digest),
    status        TEXT NOT NULL,
    generation    BIGINT NOT NULL DEFAULT 0,
    installed_at  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (merchant_id, connector_id)
);

-- One row per approved scope: who approved it and when.
CREATE TABLE grants (
    installation_id  TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL,
    approved_by      TEXT NOT NULL,
    approved_at      BIGINT NOT NULL,
    PRIMARY KEY (installation_id, scope)
);

CREATE TABLE customers (
    merchant_id        TEXT NOT NULL REFERENCES merchants (id),
    id                 TEXT NOT NULL,
    orders_count       BIGINT NOT NULL,
    accepts_marketing  BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    name               TEXT NOT NULL,
    email              TEXT,
    phone              TEXT,
    address            TEXT,
    PRIMARY KEY (merchant_id, id)
);

CREATE TABLE orders (
    merchant_id         TEXT NOT NULL REFERENCES merchants (id),
    id                  TEXT NOT NULL,
    number              TEXT NOT NULL,
    customer_id         TEXT,
    financial_status    TEXT NOT NULL,
    fulfillment_status  TEXT NOT NULL,
    currency            TEXT NOT NULL,
    total_minor         BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    line_items          TEXT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX orders_by_created ON orders (merchant_id, created_at);

CREATE TABLE inventory (
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    sku          TEXT NOT NULL,
    title        TEXT NOT NULL,
    available    BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, sku)
);

-- Each installation's own key-value space; goes with the installation.
CREATE TABLE connector_storage (
    installation_id  TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    key              TEXT NOT NULL,
    value            BLOB NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (installation_id, key)
);

-- What happened, never record contents or secrets.
CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               BIGINT NOT NULL,
    merchant_id      TEXT NOT NULL,
    installation_id  TEXT,
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    scope            TEXT,
    outcome          TEXT NOT NULL,
    records          BIGINT NOT NULL DEFAULT 0,
    detail           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_installation ON audit_log (installation_id, id);
