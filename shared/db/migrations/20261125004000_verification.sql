-- The verification service's own records, beside `verified_values`, `publications` and
-- `publication_ranks` (earlier migrations): the history of every decision, when each round's
-- provisional period ends, and units' objections to provisional results. Written by the
-- verification service only; read by anyone.

-- One committed batch of decisions on a submission. `revision` grows by one per batch of the
-- submission (across its versions); it is the `revision` of `verification.values_changed.v1`.
CREATE TABLE verification_batches (
    submission_id UUID        NOT NULL REFERENCES submissions (id),
    revision      BIGINT      NOT NULL CHECK (revision >= 1),
    -- The submitted version the batch decided on.
    version       INTEGER     NOT NULL,
    -- 'decision': a verifier's decisions; 'carried_forward': decisions of the previous version
    -- copied to indicators whose values did not change; 'accepted_on_completion': undecided
    -- indicators accepted when the submission was completed; 'correction': decisions changed
    -- while the result was provisional.
    kind          TEXT        NOT NULL CHECK (kind IN ('decision', 'carried_forward',
                      'accepted_on_completion', 'correction')),
    decided_by    TEXT        NOT NULL,
    decided_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, revision),
    FOREIGN KEY (submission_id, version) REFERENCES submission_versions (submission_id, version)
);

-- Every decision each batch recorded, as `verified_values` held it right after the batch.
-- `verified_values` keeps only the current decision; this table keeps them all.
CREATE TABLE verification_decision_history (
    submission_id  UUID    NOT NULL,
    revision       BIGINT  NOT NULL,
    indicator_code TEXT    NOT NULL,
    decision       TEXT    NOT NULL CHECK (decision IN ('accepted', 'overridden',
                       'evidence_insufficient')),
    variables      JSONB,
    not_applicable BOOLEAN NOT NULL DEFAULT false,
    reason         TEXT,
    PRIMARY KEY (submission_id, revision, indicator_code),
    FOREIGN KEY (submission_id, revision) REFERENCES verification_batches (submission_id, revision)
);

-- Decision history is never changed or removed.
CREATE FUNCTION verification_history_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'verification history is append-only';
END;
$$;

CREATE TRIGGER verification_batches_immutable
    BEFORE UPDATE OR DELETE ON verification_batches
    FOR EACH ROW EXECUTE FUNCTION verification_history_is_immutable();

CREATE TRIGGER verification_decision_history_immutable
    BEFORE UPDATE OR DELETE ON verification_decision_history
    FOR EACH ROW EXECUTE FUNCTION verification_history_is_immutable();

-- When a published round's provisional period ends (set once, when it is first published).
CREATE TABLE round_provisional_periods (
    year              SMALLINT    NOT NULL,
    framework         TEXT        NOT NULL,
    published_at      TIMESTAMPTZ NOT NULL,
    provisional_until TIMESTAMPTZ NOT NULL CHECK (provisional_until >= published_at),
    PRIMARY KEY (year, framework),
    FOREIGN KEY (year, framework) REFERENCES rounds (year, framework)
);

-- A unit's objection to a provisional result, and its answer.
CREATE TABLE verification_objections (
    id             UUID        PRIMARY KEY,
    year           SMALLINT    NOT NULL,
    framework      TEXT        NOT NULL,
    unit_id        TEXT        NOT NULL,
    -- The published revision objected to.
    revision       INTEGER     NOT NULL,
    -- The indicator objected to; NULL for the result as a whole.
    indicator_code TEXT        CHECK (indicator_code IS NULL OR indicator_code <> ''),
    reason         TEXT        NOT NULL CHECK (reason <> ''),
    filed_by       TEXT        NOT NULL,
    filed_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    status         TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld',
                       'rejected')),
    answer         TEXT,
    answered_by    TEXT,
    answered_at    TIMESTAMPTZ,
    FOREIGN KEY (year, framework, unit_id) REFERENCES round_units (year, framework, unit_id),
    FOREIGN KEY (year, framework, revision) REFERENCES publications (year, framework, revision),
    CHECK ((status = 'open') = (answer IS NULL)
       AND (answer IS NULL) = (answered_by IS NULL)
       AND (answer IS NULL) = (answered_at IS NULL)),
    CHECK (answer IS NULL OR answer <> '')
);

CREATE INDEX verification_objections_round_idx
    ON verification_objections (year, framework, status, filed_at);
