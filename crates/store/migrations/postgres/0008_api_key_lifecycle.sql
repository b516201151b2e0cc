-- API keys that can be listed, scoped, expired and revoked; per-workspace rate limits;
-- the generation every node polls to know that its cached keys are still good.

-- A label chosen by whoever created the key (NULL: none given).
ALTER TABLE api_keys ADD COLUMN name TEXT;
-- The first characters of the key (`ll_` and 8 more), shown so a person can tell keys
-- apart. NULL for keys created before this migration: only their hash is known.
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
-- `full`, or `read_only` (GET and HEAD only).
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'
    CHECK (scope IN ('full', 'read_only'));
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
-- Recorded at most once a minute per key and node, not on every request.
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
-- A revoked key keeps its row (its hash stays taken) but never authenticates again.
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, id);

-- RateLimitSettings as JSON; NULL means the defaults.
ALTER TABLE workspaces ADD COLUMN rate_limits TEXT;

-- One row. Bumped in the transaction that revokes a key or changes a workspace's rate
-- limits; a node that sees it move drops every key it had cached.
CREATE TABLE api_key_generation (
    id          BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO api_key_generation (id, generation) VALUES (1, 0);
