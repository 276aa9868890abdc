-- Frameworks as operator data (docs/frameworks.md). An operator stores a framework file
-- (RegistryService.AddFramework); every service adds it to its catalogue on
-- framework.added.v1, or on its periodic check should the event be missed. A framework id
-- names one content for good: a changed set is stored under a new id, so a row is never
-- updated. The built-in frameworks and those of a service's framework_dir are not stored here.
CREATE TABLE stored_frameworks (
    framework    text PRIMARY KEY CHECK (framework <> ''),
    -- SHA-256 of the framework's canonical JSON form (dti_domain::framework::content_hash).
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    document     text NOT NULL,
    added_by     text NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    reason       text NOT NULL DEFAULT '',
    -- Order of storing, for readers that load only what is new to them.
    sequence     bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

-- The framework content a round was opened with (its content hash), fixed when it opens.
-- Rounds opened before frameworks were pinned have none.
ALTER TABLE rounds ADD COLUMN framework_hash text
    CHECK (framework_hash IS NULL OR framework_hash ~ '^[0-9a-f]{64}$');
