-- Scores of every round's units, on two bases: 'self' (the unit's latest submitted version) and
-- 'verified' (that version with the verifiers' decisions of `verified_values` applied). Written
-- by the scoring service only; read by the scoring service's scorecards and by the ranking
-- service, which ranks from these tables (its Redis sorted sets are a cache of them).
--
-- How a score is stored. An indicator that does not depend on the cohort is stored scored and
-- explained (`score_units.fixed_indicators`, summed per group in `fixed_groups`). A min-max
-- indicator's score depends on the cohort's range of x, so a unit row keeps only its input to
-- it (`cohort_inputs`), and the cohort keeps each min-max indicator's range (`score_cohorts`).
-- The score of a min-max indicator is the engine's, computed from the unit's input and the
-- range when it is read. When one unit's x moves a range, only `score_cohorts` changes: every
-- unit's score of that indicator changes with it, without rewriting every unit row.
--
-- Versions. Each cohort (round and basis) has a version that grows by one with every change
-- (never reused, never lowered); a unit row carries the version at which it last changed, and
-- the cohort the version at which its ranges last moved. A reader that applied version V reads
-- the rows with version > V and, when `ranges_version` > V, re-scores the min-max indicators
-- of every unit. Scores are always computed from the current inputs in PostgreSQL, so a stale
-- or redelivered event recomputes the same result and changes nothing.

CREATE TABLE score_cohorts (
    year           SMALLINT    NOT NULL,
    framework      TEXT        NOT NULL,
    basis          TEXT        NOT NULL CHECK (basis IN ('self', 'verified')),
    -- Grows by one with every change of the cohort's scores.
    version        BIGINT      NOT NULL CHECK (version >= 1),
    -- Range of each min-max indicator over the units that reported it, exact numbers as text
    -- ("7/10", "60"): {"5.1": {"min": "0", "max": "60", "count": 20}}. Absent: no unit reported it.
    ranges         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- Version at which a range's min or max last moved (0: never); a change of `count` alone
    -- changes no score.
    ranges_version BIGINT      NOT NULL DEFAULT 0 CHECK (ranges_version <= version),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (year, framework, basis),
    FOREIGN KEY (year, framework) REFERENCES rounds (year, framework)
);

-- One row per unit of the cohort (every member of `round_units`, submitted or not) and basis.
CREATE TABLE score_units (
    year             SMALLINT    NOT NULL,
    framework        TEXT        NOT NULL,
    basis            TEXT        NOT NULL,
    unit_id          TEXT        NOT NULL,
    -- The unit's submission; NULL while it has submitted nothing (every indicator missing).
    submission_id    UUID        REFERENCES submissions (id),
    -- Submitted version scored; 0 before the first submission.
    input_version    INTEGER     NOT NULL DEFAULT 0 CHECK (input_version >= 0),
    -- 'verified' basis: digest of the verifier decisions applied (see the scoring service's
    -- inputs module); '' when there are none, and always '' on the 'self' basis.
    decisions_digest TEXT        NOT NULL DEFAULT '',
    -- Hundredths per group from the indicators that do not depend on the cohort, every group
    -- of the framework: {"1": 2706, "2": 4000}.
    fixed_groups     JSONB       NOT NULL,
    -- Those indicators scored and explained, in framework order:
    -- [{"code": "1.2", "group": "1", "outcome": "scored", "cents": 579, "explanation": {…}}],
    -- the explanation being the engine's, as `dtictl score --explain` prints it.
    fixed_indicators JSONB       NOT NULL,
    -- The unit's input to each min-max indicator: {"5.1": {"values": {"a": 20}}} or
    -- {"4.1": {"not_applicable": true}}; absent when it has no values (scores 0).
    cohort_inputs    JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- Cohort version at which this row last changed.
    version          BIGINT      NOT NULL CHECK (version >= 1),
    scored_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (year, framework, basis, unit_id),
    FOREIGN KEY (year, framework, basis) REFERENCES score_cohorts (year, framework, basis),
    FOREIGN KEY (year, framework, unit_id) REFERENCES round_units (year, framework, unit_id)
);

-- Rows changed since a version, for readers catching up.
CREATE INDEX score_units_version_idx ON score_units (year, framework, basis, version);

-- Each unit's x of each min-max indicator (units without values or not applicable have no
-- row), so the cohort's range is found with two index lookups. `sort_key` is x truncated to 60
-- decimal places: x is a whole number or a fraction whose denominator is a sum of counts far
-- below 10^29, so two different x differ by more than 10^-58 and their keys differ in the same
-- order, and equal x have equal keys. The scoring service refuses an x it cannot order so.
CREATE TABLE score_minmax_values (
    year           SMALLINT NOT NULL,
    framework      TEXT     NOT NULL,
    basis          TEXT     NOT NULL,
    indicator_code TEXT     NOT NULL,
    unit_id        TEXT     NOT NULL,
    -- x exactly: a whole number or "p/q".
    x              TEXT     NOT NULL CHECK (x <> ''),
    sort_key       NUMERIC  NOT NULL,
    PRIMARY KEY (year, framework, basis, indicator_code, unit_id),
    FOREIGN KEY (year, framework, basis, unit_id)
        REFERENCES score_units (year, framework, basis, unit_id)
);

CREATE INDEX score_minmax_values_order_idx
    ON score_minmax_values (year, framework, basis, indicator_code, sort_key);
