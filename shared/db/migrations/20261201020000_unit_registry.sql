-- The unit registry as operator data (docs/registry.md). Each import stores a numbered revision
-- of the whole registry file (the TOML format of shared/domain/units/hcm.toml); the newest is in
-- force, the earlier ones say which registry a round was opened under. Written by the
-- submission service (RegistryService.ImportRegistry, and the seed at its first start); read
-- by every service, which caches it and reloads it on registry.changed.v1.
CREATE TABLE registry_revisions (
    revision   bigint PRIMARY KEY CHECK (revision > 0),
    document   text NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    reason     text NOT NULL DEFAULT ''
);
