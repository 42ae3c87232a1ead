-- The Initiator's tables. IDs are compared in byte order (COLLATE "C"), as
-- in Go and SQLite, so that keyset paging does not depend on the database's
-- locale. Timestamps are timestamptz (microseconds), dates are date, amounts
-- are bigint centavos; NULL stands for a zero time or date.

CREATE TABLE pixauto_consent (
    id              text COLLATE "C" PRIMARY KEY,
    receiver_id     text   NOT NULL,
    holder_id       text   NOT NULL,
    status          text   NOT NULL,
    consent         json,  -- consent.Consent as encoded (json keeps the text as is); NULL when nil
    idempotency_key text   NOT NULL,
    next_check_at   timestamptz,
    created_at      timestamptz,
    updated_at      timestamptz,
    version         bigint NOT NULL
);

CREATE INDEX pixauto_consent_receiver ON pixauto_consent (receiver_id, id);
CREATE INDEX pixauto_consent_check ON pixauto_consent (next_check_at) WHERE next_check_at IS NOT NULL;

-- Authorizations in progress. No foreign key: the Initiator may keep the
-- authorization before or after the consent.
CREATE TABLE pixauto_authorization (
    state      text  PRIMARY KEY,
    consent_id text  NOT NULL,
    holder_id  text  NOT NULL,
    sealed     bytea NOT NULL,
    expires_at timestamptz,
    created_at timestamptz
);

CREATE TABLE pixauto_secret (
    key   text  PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE pixauto_charge (
    id           text COLLATE "C" PRIMARY KEY,
    receiver_id  text   NOT NULL,
    consent_id   text COLLATE "C" NOT NULL REFERENCES pixauto_consent (id),
    holder_id    text   NOT NULL,
    reference    text   NOT NULL,
    amount       bigint NOT NULL,
    due_date     date,
    status       text   NOT NULL,
    failure_code text   NOT NULL,
    description  text   NOT NULL,
    external_id  text   NOT NULL,
    created_at   timestamptz,
    updated_at   timestamptz,
    version      bigint NOT NULL
);

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
    id              text COLLATE "C" PRIMARY KEY,
    charge_id       text COLLATE "C" NOT NULL REFERENCES pixauto_charge (id),
    consent_id      text COLLATE "C" NOT NULL REFERENCES pixauto_consent (id),
    seq             integer NOT NULL,
    kind            integer NOT NULL,
    end_to_end_id   text    NOT NULL UNIQUE,
    idempotency_key text    NOT NULL UNIQUE,
    date            date,
    state           text    NOT NULL,
    submit_at       timestamptz,
    payment_id      text    NOT NULL,
    status          text    NOT NULL,
    rejection_code  text    NOT NULL,
    request         bytea,
    next_check_at   timestamptz,
    created_at      timestamptz,
    updated_at      timestamptz,
    version         bigint  NOT NULL,
    UNIQUE (charge_id, seq)
);

-- The bank's id names one attempt.
CREATE UNIQUE INDEX pixauto_attempt_payment ON pixauto_attempt (payment_id) WHERE payment_id <> '';
CREATE INDEX pixauto_attempt_consent ON pixauto_attempt (consent_id);
CREATE INDEX pixauto_attempt_submit ON pixauto_attempt (submit_at, id) WHERE submit_at IS NOT NULL;
CREATE INDEX pixauto_attempt_check ON pixauto_attempt (next_check_at) WHERE next_check_at IS NOT NULL;
