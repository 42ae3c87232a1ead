-- The reference server's tables (pixauto/server): receivers, their API keys
-- (hashed), webhook subscriptions (secrets sealed by the server) and
-- deliveries with their attempts. Same conventions as 0001: UTC TEXT times
-- with microseconds, NULL for a zero time.

CREATE TABLE pixauto_receiver (
    id                  TEXT NOT NULL PRIMARY KEY,
    name                TEXT NOT NULL,
    cnpj                TEXT NOT NULL,
    account_ispb        TEXT NOT NULL,
    account_issuer      TEXT NOT NULL,
    account_number      TEXT NOT NULL,
    account_type        TEXT NOT NULL,
    created_at          TEXT
) STRICT;

CREATE TABLE pixauto_api_key (
    id          TEXT NOT NULL PRIMARY KEY,
    receiver_id TEXT NOT NULL REFERENCES pixauto_receiver (id),
    hash        BLOB NOT NULL,
    created_at  TEXT,
    revoked_at  TEXT
) STRICT;

CREATE TABLE pixauto_webhook_subscription (
    id          TEXT NOT NULL PRIMARY KEY,
    receiver_id TEXT NOT NULL REFERENCES pixauto_receiver (id),
    url         TEXT NOT NULL,
    description TEXT NOT NULL,
    secret      BLOB NOT NULL,
    created_at  TEXT,
    deleted_at  TEXT
) STRICT;

CREATE INDEX pixauto_webhook_subscription_receiver ON pixauto_webhook_subscription (receiver_id, id)
    WHERE deleted_at IS NULL;

CREATE TABLE pixauto_webhook_delivery (
    id              TEXT    NOT NULL PRIMARY KEY,
    subscription_id TEXT    NOT NULL REFERENCES pixauto_webhook_subscription (id),
    receiver_id     TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT,
    created_at      TEXT,
    updated_at      TEXT,
    version         INTEGER NOT NULL,
    UNIQUE (subscription_id, event_id)
) STRICT;

CREATE INDEX pixauto_webhook_delivery_subscription ON pixauto_webhook_delivery (subscription_id, id);
CREATE INDEX pixauto_webhook_delivery_due ON pixauto_webhook_delivery (next_attempt_at, id)
    WHERE status = 'PENDING';

CREATE TABLE pixauto_webhook_attempt (
    delivery_id TEXT    NOT NULL REFERENCES pixauto_webhook_delivery (id),
    seq         INTEGER NOT NULL,
    at          TEXT,
    status_code INTEGER NOT NULL,
    error       TEXT    NOT NULL,
    duration_us INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, seq)
) STRICT;
