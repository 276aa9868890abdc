-- The verifier's decision on each indicator of a submitted version. Written by the verification
-- service; read by the scoring service to build a unit's verified input:
--   accepted              → the self-assessed value of that version, unchanged;
--   overridden            → `variables` (or not applicable when `not_applicable`);
--   evidence_insufficient → no value (the indicator scores 0 as missing);
--   no row                → the self-assessed value (not decided yet).
CREATE TABLE verified_values (
    submission_id  UUID        NOT NULL REFERENCES submissions (id),
    -- The submitted version the decision is about.
    version        INTEGER     NOT NULL,
    indicator_code TEXT        NOT NULL,
    decision       TEXT        NOT NULL CHECK (decision IN ('accepted', 'overridden',
                       'evidence_insufficient')),
    variables      JSONB,
    not_applicable BOOLEAN     NOT NULL DEFAULT false,
    -- Mandatory for overridden and evidence_insufficient.
    reason         TEXT,
    decided_by     TEXT        NOT NULL,
    decided_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (submission_id, version, indicator_code),
    FOREIGN KEY (submission_id, version) REFERENCES submission_versions (submission_id, version),
    CHECK (decision = 'accepted' OR (reason IS NOT NULL AND reason <> '')),
    CHECK (decision <> 'overridden' OR (variables IS NOT NULL) <> not_applicable)
);
