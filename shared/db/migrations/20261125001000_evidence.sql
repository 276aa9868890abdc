-- Evidence documents ("tài liệu kiểm chứng") units attach to the indicators of their
-- self-assessment. Written by the evidence service; read by verification and anyone.
--
-- Content is stored once per distinct SHA-256 in the object store (`evidence_objects`); each
-- attachment of a document to an indicator is a row of `evidence_attachments` pointing at it.
-- Attachments are never deleted: a removal marks the row (who, when, why) and is appended to
-- the audit log, and the object stays while any row points at it.

-- One row per distinct content in the object store.
CREATE TABLE evidence_objects (
    -- SHA-256 of the content (32 bytes); the object's key is derived from it.
    sha256       BYTEA       PRIMARY KEY CHECK (length(sha256) = 32),
    size_bytes   BIGINT      NOT NULL CHECK (size_bytes > 0),
    -- Content type sniffed from the bytes, e.g. 'application/pdf'.
    content_type TEXT        NOT NULL CHECK (content_type <> ''),
    -- Key of the object in the configured store, e.g. 'sha256/ab/cd/abcd…'.
    storage_key  TEXT        NOT NULL UNIQUE CHECK (storage_key <> ''),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A document attached to one indicator of one unit in one round.
CREATE TABLE evidence_attachments (
    id                    UUID        PRIMARY KEY,
    year                  SMALLINT    NOT NULL,
    framework             TEXT        NOT NULL,
    unit_id               TEXT        NOT NULL,
    indicator_code        TEXT        NOT NULL CHECK (indicator_code <> ''),
    -- Sanitised file name.
    file_name             TEXT        NOT NULL CHECK (file_name <> ''),
    -- What the uploader declared (kept for reference; the sniffed type is in evidence_objects).
    declared_content_type TEXT        NOT NULL DEFAULT '',
    sha256                BYTEA       NOT NULL REFERENCES evidence_objects (sha256),
    uploaded_by           TEXT        NOT NULL,
    uploaded_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set together when the document was removed from the draft.
    removed_by            TEXT,
    removed_at            TIMESTAMPTZ,
    removal_reason        TEXT,
    FOREIGN KEY (year, framework, unit_id) REFERENCES round_units (year, framework, unit_id),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL)
       AND (removed_at IS NULL) = (removal_reason IS NULL)),
    CHECK (removal_reason IS NULL OR removal_reason <> '')
);

CREATE INDEX evidence_attachments_unit_idx
    ON evidence_attachments (year, framework, unit_id, indicator_code, uploaded_at);

-- At most one current (not removed) attachment of the same content per indicator of a unit:
-- uploading the same bytes again returns the existing attachment.
CREATE UNIQUE INDEX evidence_attachments_current_content_idx
    ON evidence_attachments (year, framework, unit_id, indicator_code, sha256)
    WHERE removed_at IS NULL;

CREATE INDEX evidence_attachments_sha256_idx ON evidence_attachments (sha256);
