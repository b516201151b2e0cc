-- The web console: people log in with a password and hold sessions; the inbox lists
-- conversations by their last activity, per team queue, with what each user has read.

-- An argon2id hash in PHC form; NULL: the user cannot log in to the console.
ALTER TABLE users ADD COLUMN password_hash TEXT;
-- Set for a one-time password (printed on first start, or set by an admin): the next
-- login must choose a new one before anything else.
ALTER TABLE users ADD COLUMN password_must_change INTEGER NOT NULL DEFAULT 0;
-- Emails are unique per workspace; a login's email names one user across them all.
CREATE UNIQUE INDEX users_login_email ON users (email) WHERE password_hash IS NOT NULL;

-- A console session. The cookie holds a random token; only its SHA-256 is kept, so a
-- copy of the database opens no session. A session ends at expires_at (moved forward
-- while it is used, never past created_at + the longest life), at logout, or when it
-- is revoked (by an admin, or by a change of the user's password).
CREATE TABLE console_sessions (
    token_hash    TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The token every form and script request of the session carries (CSRF).
    csrf_token    TEXT NOT NULL,
    user_agent    TEXT,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);

-- How far each user has read each conversation: the newest message id seen (ids are
-- UUIDv7, ordered by time). Unread messages are the inbound ones after it.
CREATE TABLE conversation_reads (
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    read_through     TEXT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
) STRICT;

-- The console asks which teams a user is in on every page.
CREATE INDEX team_members_by_user ON team_members (user_id);

-- The team whose queue holds a handed-off conversation nobody is assigned to.
ALTER TABLE conversations ADD COLUMN team_id TEXT REFERENCES teams (id) ON DELETE SET NULL;
-- When a message was last added (either direction) or the conversation opened: the
-- inbox's order, newest first.
ALTER TABLE conversations ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET last_activity_at = COALESCE(
    (SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id),
    created_at);
CREATE INDEX conversations_by_activity ON conversations (workspace_id, last_activity_at DESC, id);
