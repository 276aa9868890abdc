-- Published results of a round: immutable revisions. Written by the verification service when a
-- round is published (and when a correction publishes a new revision); read by ranking (a
-- unit's movement against the previous year's published ranking) and by anyone.
CREATE TABLE publications (
    year         SMALLINT    NOT NULL,
    framework    TEXT        NOT NULL,
    -- 1 for the first publication; each correction adds the next revision.
    revision     INTEGER     NOT NULL CHECK (revision >= 1),
    -- Why this revision exists ('initial publication' or the correction's reason).
    reason       TEXT        NOT NULL CHECK (reason <> ''),
    published_by TEXT        NOT NULL,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The frozen snapshot: framework version, input versions, every score, explanation, rank.
    snapshot     JSONB       NOT NULL,
    -- SHA-256 of the snapshot's canonical bytes.
    content_hash BYTEA       NOT NULL,
    PRIMARY KEY (year, framework, revision),
    FOREIGN KEY (year, framework) REFERENCES rounds (year, framework)
);

-- The ranking of each published revision (verified totals), for fast reads and comparisons.
CREATE TABLE publication_ranks (
    year        SMALLINT NOT NULL,
    framework   TEXT     NOT NULL,
    revision    INTEGER  NOT NULL,
    unit_id     TEXT     NOT NULL,
    -- Total in hundredths of a point.
    total_cents BIGINT   NOT NULL,
    rank        INTEGER  NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (year, framework, revision, unit_id),
    FOREIGN KEY (year, framework, revision) REFERENCES publications (year, framework, revision)
);

-- Publications are never changed or removed.
CREATE FUNCTION publications_are_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'published results are immutable; publish a new revision instead';
END;
$$;

CREATE TRIGGER publications_immutable
    BEFORE UPDATE OR DELETE ON publications
    FOR EACH ROW EXECUTE FUNCTION publications_are_immutable();

CREATE TRIGGER publication_ranks_immutable
    BEFORE UPDATE OR DELETE ON publication_ranks
    FOR EACH ROW EXECUTE FUNCTION publications_are_immutable();
