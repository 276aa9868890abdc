-- Assessment rounds, their cohorts, units' submissions with immutable versions, and the
-- hash-chained audit log. Written by the submission service (rounds while open, drafts,
-- versions) and by the verification service (later round states); every service may read them.

CREATE TABLE rounds (
    year        SMALLINT    NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    -- Framework id, e.g. 'hcm-2023-district'.
    framework   TEXT        NOT NULL CHECK (framework <> ''),
    -- State of `dti_domain::round::RoundState`; changed only through `RoundState::apply`.
    state       TEXT        NOT NULL CHECK (state IN ('draft', 'open', 'closed',
                    'under_verification', 'verified', 'approved', 'provisional', 'final')),
    -- Submissions are accepted until this instant while the round is open.
    deadline    TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (year, framework)
);

-- The cohort of a round: the units assessed in it (fixed when the round opens).
CREATE TABLE round_units (
    year       SMALLINT NOT NULL,
    framework  TEXT     NOT NULL,
    unit_id    TEXT     NOT NULL CHECK (unit_id <> ''),
    PRIMARY KEY (year, framework, unit_id),
    FOREIGN KEY (year, framework) REFERENCES rounds (year, framework)
);

-- A closed (or past-deadline) round reopened for one unit until its own deadline.
CREATE TABLE round_unit_reopenings (
    year        SMALLINT    NOT NULL,
    framework   TEXT        NOT NULL,
    unit_id     TEXT        NOT NULL,
    deadline    TIMESTAMPTZ NOT NULL,
    reason      TEXT        NOT NULL CHECK (reason <> ''),
    reopened_by TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (year, framework, unit_id),
    FOREIGN KEY (year, framework, unit_id) REFERENCES round_units (year, framework, unit_id)
);

-- One submission per round and unit: its current draft and where it stands.
CREATE TABLE submissions (
    id             UUID        PRIMARY KEY,
    year           SMALLINT    NOT NULL,
    framework      TEXT        NOT NULL,
    unit_id        TEXT        NOT NULL,
    -- State of `dti_domain::round::SubmissionState`.
    state          TEXT        NOT NULL CHECK (state IN ('draft', 'submitted',
                       'clarification_requested', 'under_verification', 'verified')),
    -- Latest submitted version; 0 before the first submit.
    latest_version INTEGER     NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (year, framework, unit_id),
    FOREIGN KEY (year, framework, unit_id) REFERENCES round_units (year, framework, unit_id)
);

-- The draft: one row per indicator, either its variables (the contract's JSON object, e.g.
-- {"a": 7, "b": 34}) or a not-applicable reason.
CREATE TABLE submission_draft_values (
    submission_id         UUID        NOT NULL REFERENCES submissions (id),
    indicator_code        TEXT        NOT NULL,
    variables             JSONB,
    not_applicable_reason TEXT,
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, indicator_code),
    CHECK ((variables IS NULL) <> (not_applicable_reason IS NULL))
);

-- Immutable submitted versions. `client_request_id` makes a retried submit return the
-- version the first attempt created.
CREATE TABLE submission_versions (
    submission_id     UUID        NOT NULL REFERENCES submissions (id),
    version           INTEGER     NOT NULL CHECK (version >= 1),
    client_request_id TEXT        NOT NULL CHECK (client_request_id <> ''),
    submitted_by      TEXT        NOT NULL,
    submitted_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, version),
    UNIQUE (submission_id, client_request_id)
);

-- The values of each version, copied from the draft when it was submitted.
CREATE TABLE submission_version_values (
    submission_id         UUID    NOT NULL,
    version               INTEGER NOT NULL,
    indicator_code        TEXT    NOT NULL,
    variables             JSONB,
    not_applicable_reason TEXT,
    PRIMARY KEY (submission_id, version, indicator_code),
    FOREIGN KEY (submission_id, version) REFERENCES submission_versions (submission_id, version),
    CHECK ((variables IS NULL) <> (not_applicable_reason IS NULL))
);

-- Questions of a verifier's clarification request, as shown to the unit (the verification
-- service owns the request; the submission service keeps what the unit must answer).
CREATE TABLE submission_clarifications (
    submission_id  UUID        NOT NULL REFERENCES submissions (id),
    -- The submitted version the questions are about.
    version        INTEGER     NOT NULL,
    indicator_code TEXT        NOT NULL,
    question       TEXT        NOT NULL,
    requested_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, version, indicator_code)
);

-- Append-only audit log, hash-chained per (round, chain). A chain is 'round' for the round's
-- own state changes, 'unit:<unit id>' for everything about one unit, or another named stream
-- (e.g. 'national'). hash = SHA-256(prev_hash || canonical JSON of the entry); see `dti-audit`.
CREATE TABLE audit_log (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year        SMALLINT    NOT NULL,
    framework   TEXT        NOT NULL,
    chain       TEXT        NOT NULL,
    seq         BIGINT      NOT NULL CHECK (seq >= 1),
    actor       TEXT        NOT NULL,
    role        TEXT        NOT NULL,
    action      TEXT        NOT NULL,
    subject     TEXT        NOT NULL,
    before      JSONB,
    after       JSONB,
    recorded_at TIMESTAMPTZ NOT NULL,
    prev_hash   BYTEA       NOT NULL,
    hash        BYTEA       NOT NULL,
    UNIQUE (year, framework, chain, seq)
);

-- The last entry of each chain, locked while appending so entries of one chain are serial;
-- also lets verification notice entries cut off the end.
CREATE TABLE audit_chain_heads (
    year      SMALLINT NOT NULL,
    framework TEXT     NOT NULL,
    chain     TEXT     NOT NULL,
    seq       BIGINT   NOT NULL,
    hash      BYTEA    NOT NULL,
    PRIMARY KEY (year, framework, chain)
);
