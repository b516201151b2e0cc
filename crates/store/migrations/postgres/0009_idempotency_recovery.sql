-- Idempotency keys that recover from a request that died. Each claim carries a token
-- naming its owner; answers are stored and claims released only under that token, so
-- when a claim whose request died (its node crashed) is taken over, the old owner can
-- no longer write. `created_at` is the time of the current claim: a claim still in
-- progress longer than the request timeout plus a margin may be taken over by one
-- guarded UPDATE, which moves it. Rows of claims made before this migration get the
-- empty token; their owners are gone with the old process.
ALTER TABLE idempotency_keys ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';

-- The sweeper deletes expired keys oldest first, in batches.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
