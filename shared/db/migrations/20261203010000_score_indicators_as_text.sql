-- What writing a cohort's scores costs, continued (20261201010000_score_write_costs.sql).
--
-- A score row's indicators (`fixed_indicators`, about 4.5 kB of JSON a unit) are written by the
-- scoring service from the engine's output and only ever read back whole, as text. Typed
-- `json`, PostgreSQL parsed every one on the way in to validate it, and that parsing was about
-- half of writing a 10,000-unit cohort's rows: 20,000 rows with their foreign keys and conflict
-- handling took 2.7–2.8 s into `json` and 1.4–1.8 s into `text` (through psql, the reference
-- machine, 2026-12-02). The column keeps the same text, now typed `text`; the scoring service
-- still writes only what serde_json serialized, and lz4 stays its compression where the server
-- has it.
ALTER TABLE score_units
    ALTER COLUMN fixed_indicators TYPE text;
DO $$
BEGIN
    ALTER TABLE score_units ALTER COLUMN fixed_indicators SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: score indicators stay pglz-compressed';
END
$$;
