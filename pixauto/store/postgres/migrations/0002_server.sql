-- The reference server's tables (pixauto/server): receivers, their API keys
-- (hashed), webhook subscriptions (secrets sealed by the server) and
-- deliveries with their attempts. NULL stands for a zero time.

CREATE TABLE pixauto_receiver (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    cnpj           text NOT NULL,
    account_ispb   text NOT NULL,
    account_issuer text NOT NULL,
    account_number text NOT NULL,
    account_type   text NOT NULL,
    created_at     timestamptz
);

CREATE TABLE pixauto_api_key (
    id          text PRIMARY KEY,
    receiver_id text  NOT NULL REFERENCES pixauto_receiver (id),
    hash        bytea NOT NULL,
    created_at  timestamptz,
    revoked_at  timestamptz
);

CREATE TABLE pixauto_webhook_subscription (
    id          text PRIMARY KEY,
    receiver_id text  NOT NULL REFERENCES pixauto_receiver (id),
    url         text  NOT NULL,
    description text  NOT NULL,
    secret      bytea NOT NULL,
    created_at  timestamptz,
    deleted_at  timestamptz
);

CREATE INDEX pixauto_webhook_subscription_receiver ON pixauto_webhook_subscription (receiver_id, id)
    WHERE deleted_at IS NULL;

CREATE TABLE pixauto_webhook_delivery (
    id              text    PRIMARY KEY,
    subscription_id text    NOT NULL REFERENCES pixauto_webhook_subscription (id),
    receiver_id     text    NOT NULL,
    event_id        text    NOT NULL,
    event_type      text    NOT NULL,
    payload         bytea   NOT NULL,
    status          text    NOT NULL,
    attempts        integer NOT NULL,
    next_attempt_at timestamptz,
    created_at      timestamptz,
    updated_at      timestamptz,
    version         bigint  NOT NULL,
    UNIQUE (subscription_id, event_id)
);

CREATE INDEX pixauto_webhook_delivery_subscription ON pixauto_webhook_delivery (subscription_id, id);
CREATE INDEX pixauto_webhook_delivery_due ON pixauto_webhook_delivery (next_attempt_at, id)
    WHERE status = 'PENDING';

CREATE TABLE pixauto_webhook_attempt (
    delivery_id text    NOT NULL REFERENCES pixauto_webhook_delivery (id),
    seq         integer NOT NULL,
    at          timestamptz,
    status_code integer NOT NULL,
    error       text    NOT NULL,
    duration_us bigint  NOT NULL,
    PRIMARY KEY (delivery_id, seq)
);
