-- Secrets sealed at rest (XChaCha20-Poly1305 under a key kept outside the database).
--
-- channels.secrets keeps its place and now holds the sealed envelope
-- {"v":1,"kid":"…","nonce":"…","ct":"…"}; secrets_key_id is the id of the key that
-- sealed it, so a rotation finds the rows still under an older key. NULL marks a row
-- written before this migration, still in clear: the server seals every such row at
-- start-up (and `leadline secrets rotate` does too).
ALTER TABLE channels ADD COLUMN secrets_key_id TEXT;

-- A workspace's LLM API key, sealed, moved out of the agent_settings JSON (where it
-- was in clear) by the same start-up sweep; NULL when there is none.
ALTER TABLE workspaces ADD COLUMN llm_api_key TEXT;
ALTER TABLE workspaces ADD COLUMN llm_api_key_id TEXT;
