-- A push is claimed by a worker in a statement of its own and sent with no transaction open:
-- the claim's token says whose it is, and `next_attempt_at` holds its lease (renewed at each
-- attempt). The outcome is recorded only while the token is still the push's.
ALTER TABLE national_push_jobs ADD COLUMN claim_token UUID;
