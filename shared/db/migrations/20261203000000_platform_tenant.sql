-- The tenant (province) this database belongs to. A deployment holding several provinces gives
-- each its own database; the first service that starts on it with `auth.tenant` set writes the
-- one row, and a service of another tenant, or of none, refuses to start on it afterwards.
CREATE TABLE platform_tenant (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    tenant     text NOT NULL CHECK (tenant ~ '^[a-z][a-z0-9-]{0,31}$'),
    claimed_at timestamptz NOT NULL DEFAULT now()
);
