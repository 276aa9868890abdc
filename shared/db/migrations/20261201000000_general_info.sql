-- General information (THÔNG TIN CHUNG) a unit reports with its self-assessment: unscored
-- fields such as headcounts and contacts, keyed by the framework's general-information keys
-- and validated against it before they are stored. The draft's is on `submissions`; each
-- submitted version keeps a copy, as it keeps the indicator values.
ALTER TABLE submissions
    ADD COLUMN general_info JSONB NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(general_info) = 'object');
ALTER TABLE submission_versions
    ADD COLUMN general_info JSONB NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(general_info) = 'object');
