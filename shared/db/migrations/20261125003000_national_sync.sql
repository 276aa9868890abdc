-- National sync (Phụ lục III): owner departments' parts of the national provincial indicators,
-- the combined value versions pushed to the national DTI system, sync runs, the push queue (an
-- outbox of HTTP pushes) and the push log. Written by the national-sync service only; keyed by
-- year and framework (the national index is per year; there are no rounds).
-- Items are indicators (`item_kind` 'indicator', code e.g. '6.22') or general-information fields
-- ('general_info', code = the field key, e.g. 'population').

-- Each owner's current part of an item for a year.
CREATE TABLE national_owner_parts (
    year           SMALLINT    NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    framework      TEXT        NOT NULL CHECK (framework <> ''),
    item_kind      TEXT        NOT NULL CHECK (item_kind IN ('indicator', 'general_info')),
    item_code      TEXT        NOT NULL CHECK (item_code <> ''),
    owner_id       TEXT        NOT NULL CHECK (owner_id <> ''),
    -- Indicators: the contract's JSON object of variables ({"amount": 1200}); general
    -- information: the field's JSON value (9000000).
    value          JSONB       NOT NULL,
    -- [{"reference": "...", "title": "..."}].
    evidence       JSONB       NOT NULL DEFAULT '[]'::jsonb,
    -- Grows with every change of value or evidence, from 1.
    revision       INTEGER     NOT NULL CHECK (revision >= 1),
    updated_by     TEXT        NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set while a reviewer of Sở TT&TT disputes the part; cleared when the owner submits it.
    dispute_reason TEXT,
    disputed_by    TEXT,
    disputed_at    TIMESTAMPTZ,
    PRIMARY KEY (year, framework, item_kind, item_code, owner_id),
    CHECK ((dispute_reason IS NULL) = (disputed_by IS NULL))
);

-- One row per item and year: the latest value version. Locked while the item's parts are
-- recombined, so concurrent owners of one item are serialised.
CREATE TABLE national_items (
    year           SMALLINT NOT NULL,
    framework      TEXT     NOT NULL,
    item_kind      TEXT     NOT NULL CHECK (item_kind IN ('indicator', 'general_info')),
    item_code      TEXT     NOT NULL,
    -- 0 until the item is first complete.
    latest_version INTEGER  NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
    PRIMARY KEY (year, framework, item_kind, item_code)
);

-- Immutable value versions: a new one each time the complete, combined content of an item (its
-- value, owners' parts and evidence) changes. What is pushed is always one of these.
CREATE TABLE national_value_versions (
    year         SMALLINT    NOT NULL,
    framework    TEXT        NOT NULL,
    item_kind    TEXT        NOT NULL,
    item_code    TEXT        NOT NULL,
    version      INTEGER     NOT NULL CHECK (version >= 1),
    -- The combined national value.
    value        JSONB       NOT NULL,
    -- [{"department": "...", "revision": n, "value": ..., "evidence": [...]}], owner order.
    parts        JSONB       NOT NULL,
    -- SHA-256 of the canonical content; part of the idempotency key.
    content_hash BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (year, framework, item_kind, item_code, version),
    FOREIGN KEY (year, framework, item_kind, item_code)
        REFERENCES national_items (year, framework, item_kind, item_code)
);

-- Sync runs: one per operator confirmation of a dry run, or per scheduled sync.
CREATE TABLE national_sync_runs (
    id           UUID        PRIMARY KEY,
    year         SMALLINT    NOT NULL,
    framework    TEXT        NOT NULL,
    trigger      TEXT        NOT NULL CHECK (trigger IN ('operator', 'schedule')),
    requested_by TEXT        NOT NULL,
    plan_digest  TEXT        NOT NULL,
    -- Pushes the run queued.
    items        INTEGER     NOT NULL CHECK (items >= 0),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when none of its pushes is pending any more.
    finished_at  TIMESTAMPTZ
);

CREATE INDEX national_sync_runs_year_idx ON national_sync_runs (year, framework, created_at);

-- The outbox of pushes: one row per (year, item, value version), so a value version is queued
-- once however many runs ask for it. Workers claim due rows with FOR UPDATE SKIP LOCKED and
-- hold the lock while pushing; a crash releases it and the push is resent with the same
-- idempotency key.
CREATE TABLE national_push_jobs (
    year            SMALLINT    NOT NULL,
    framework       TEXT        NOT NULL,
    item_kind       TEXT        NOT NULL,
    item_code       TEXT        NOT NULL,
    version         INTEGER     NOT NULL,
    run_id          UUID        NOT NULL REFERENCES national_sync_runs (id),
    idempotency_key TEXT        NOT NULL UNIQUE CHECK (idempotency_key <> ''),
    -- The exact JSON body sent (docs/national-sync.md).
    body            JSONB       NOT NULL,
    -- 'superseded': a newer version of the item was queued before this one was answered, so it
    -- is not sent (an older value must never arrive after a newer one).
    state           TEXT        NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected',
                        'superseded')),
    -- Rounds of attempts that ended without an answer (each round retries with backoff).
    failed_rounds   INTEGER     NOT NULL DEFAULT 0 CHECK (failed_rounds >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    -- The national system's receipt (accepted), its reason (rejected), or the superseding
    -- version (superseded).
    receipt         TEXT,
    reason          TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at    TIMESTAMPTZ,
    PRIMARY KEY (year, framework, item_kind, item_code, version),
    FOREIGN KEY (year, framework, item_kind, item_code, version)
        REFERENCES national_value_versions (year, framework, item_kind, item_code, version),
    CHECK ((state = 'pending') = (completed_at IS NULL))
);

CREATE INDEX national_push_jobs_due_idx ON national_push_jobs (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX national_push_jobs_run_idx ON national_push_jobs (run_id);

-- Wakes the push workers (LISTEN dti_national_push) when pushes are queued.
CREATE FUNCTION national_push_jobs_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dti_national_push', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER national_push_jobs_notify
    AFTER INSERT ON national_push_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION national_push_jobs_notify();

-- Append-only push log, one row per item, owner and event.
CREATE TABLE national_push_log (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          UUID        NOT NULL,
    year            SMALLINT    NOT NULL,
    framework       TEXT        NOT NULL,
    item_kind       TEXT        NOT NULL,
    item_code       TEXT        NOT NULL,
    version         INTEGER     NOT NULL,
    owner_id        TEXT        NOT NULL,
    idempotency_key TEXT        NOT NULL,
    event           TEXT        NOT NULL CHECK (event IN ('sent', 'accepted', 'rejected', 'failed')),
    attempt         INTEGER     NOT NULL CHECK (attempt >= 1),
    http_status     INTEGER,
    detail          TEXT,
    at              TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One final answer per (year, item, value version, owner): never two acceptances.
CREATE UNIQUE INDEX national_push_log_one_outcome
    ON national_push_log (year, framework, item_kind, item_code, version, owner_id)
    WHERE event IN ('accepted', 'rejected');
CREATE INDEX national_push_log_year_idx ON national_push_log (year, framework, id);
