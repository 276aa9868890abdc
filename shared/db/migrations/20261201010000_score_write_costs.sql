-- What writing a cohort's scores costs. Scoring 10,000 units from scratch on one basis spent
-- most of its time in PostgreSQL for two reasons, both removed here.
--
-- 1. A unit's x rows reference the cohort member (`round_units`) rather than the unit's score
--    row. Scoring a cohort from scratch writes the score rows and the x rows in one
--    transaction; with the x rows referencing the score rows, every x row's foreign-key check
--    locked a score row inserted by that same transaction, and those checks grew slower with
--    every row: 2,000 x rows took 0.7–3.6 s to insert instead of about 35 ms. The member rows
--    are committed long before (a round's cohort is set when it opens), so the check against
--    them is an index lookup. Every x row still belongs to a unit of the round, and the scoring
--    service writes a unit's x rows and its score row in the same transaction.
ALTER TABLE score_minmax_values
    DROP CONSTRAINT score_minmax_values_year_framework_basis_unit_id_fkey;
ALTER TABLE score_minmax_values
    ADD CONSTRAINT score_minmax_values_member_fkey
    FOREIGN KEY (year, framework, unit_id) REFERENCES round_units (year, framework, unit_id);

-- 2. The explained indicator scores (about 18 kB of JSON a unit) are kept as the engine wrote
--    them (`json`, read back only as text; never queried inside) and compressed with lz4
--    instead of pglz: 10,000 such rows took 7.0 s as pglz-compressed JSONB and 1.3 s as
--    lz4-compressed JSON on the reference machine. A server built without lz4 keeps pglz.
ALTER TABLE score_units
    ALTER COLUMN fixed_indicators TYPE json USING fixed_indicators::json;
DO $$
BEGIN
    ALTER TABLE score_units ALTER COLUMN fixed_indicators SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: score explanations stay pglz-compressed';
END
$$;
