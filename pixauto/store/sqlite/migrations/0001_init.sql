-- The Initiator's tables. Timestamps are TEXT in UTC, fixed width with
-- microseconds (2006-01-02T15:04:05.000000Z), so that they sort as text;
-- dates are TEXT YYYY-MM-DD; amounts are INTEGER centavos. NULL stands for a
-- zero time or date.

CREATE TABLE pixauto_consent (
    id              TEXT    NOT NULL PRIMARY KEY,
    receiver_id     TEXT    NOT NULL,
    holder_id       TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    consent         TEXT,   -- JSON of consent.Consent; NULL when nil
    idempotency_key TEXT    NOT NULL,
    next_check_at   TEXT,
    created_at      TEXT,
    updated_at      TEXT,
    version         INTEGER NOT NULL
) STRICT;

CREATE INDEX pixauto_consent_receiver ON pixauto_consent (receiver_id, id);
CREATE INDEX pixauto_consent_check ON pixauto_consent (next_check_at) WHERE next_check_at IS NOT NULL;

-- Authorizations in progress. No foreign key: the Initiator may keep the
-- authorization before or after the consent.
CREATE TABLE pixauto_authorization (
    state      TEXT NOT NULL PRIMARY KEY,
    consent_id TEXT NOT NULL,
    holder_id  TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    expires_at TEXT,
    created_at TEXT
) STRICT;

CREATE TABLE pixauto_secret (
    key   TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE pixauto_charge (
    id           TEXT    NOT NULL PRIMARY KEY,
    receiver_id  TEXT    NOT NULL,
    consent_id   TEXT    NOT NULL REFERENCES pixauto_consent (id),
    holder_id    TEXT    NOT NULL,
    reference    TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    due_date     TEXT,
    status       TEXT    NOT NULL,
    failure_code TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    created_at   TEXT,
    updated_at   TEXT,
    version      INTEGER NOT NULL
) STRICT;

-- At most one live charge per consent cycle.
CREATE UNIQUE INDEX pixauto_charge_live ON pixauto_charge (consent_id, reference)
    WHERE status NOT IN ('FAILED', 'CANCELLED');
-- The receiver's own id is unique per receiver when set.
CREATE UNIQUE INDEX pixauto_charge_external ON pixauto_charge (receiver_id, external_id)
    WHERE external_id <> '';
CREATE INDEX pixauto_charge_receiver ON pixauto_charge (receiver_id, id);
CREATE INDEX pixauto_charge_consent ON pixauto_charge (consent_id, id);
CREATE INDEX pixauto_charge_due ON pixauto_charge (due_date);
CREATE INDEX pixauto_charge_updated ON pixauto_charge (updated_at);

CREATE TABLE pixauto_attempt (
    id              TEXT    NOT NULL PRIMARY KEY,
    charge_id       TEXT    NOT NULL REFERENCES pixauto_charge (id),
    consent_id      TEXT    NOT NULL REFERENCES pixauto_consent (id),
    seq             INTEGER NOT NULL,
    kind            INTEGER NOT NULL,
    end_to_end_id   TEXT    NOT NULL UNIQUE,
    idempotency_key TEXT    NOT NULL UNIQUE,
    date            TEXT,
    state           TEXT    NOT NULL,
    submit_at       TEXT,
    payment_id      TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    rejection_code  TEXT    NOT NULL,
    request         BLOB,
    next_check_at   TEXT,
    created_at      TEXT,
    updated_at      TEXT,
    version         INTEGER NOT NULL,
    UNIQUE (charge_id, seq)
) STRICT;

-- The bank's id names one attempt.
CREATE UNIQUE INDEX pixauto_attempt_payment ON pixauto_attempt (payment_id) WHERE payment_id <> '';
CREATE INDEX pixauto_attempt_consent ON pixauto_attempt (consent_id);
CREATE INDEX pixauto_attempt_submit ON pixauto_attempt (submit_at, id) WHERE submit_at IS NOT NULL;
CREATE INDEX pixauto_attempt_check ON pixauto_attempt (next_check_at) WHERE next_check_at IS NOT NULL;
