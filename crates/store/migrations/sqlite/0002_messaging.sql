-- Channels, templates, conversations, messages, the outbox and idempotency keys.
-- JSON values (settings, participants, parameters) are stored as text.

-- The LeadScout endpoint finds contacts by email too. Partial, so that lookups by
-- cellphone can never pick it (with stale statistics PostgreSQL did, and then
-- filtered every contact of the workspace).
CREATE INDEX contacts_by_email ON contacts (workspace_id, email) WHERE email IS NOT NULL;

CREATE TABLE channels (
    id                     TEXT PRIMARY KEY NOT NULL,
    workspace_id           TEXT NOT NULL REFERENCES workspaces (id),
    name                   TEXT NOT NULL,
    message_provider_type  TEXT NOT NULL,
    provider               TEXT NOT NULL,
    sender                 TEXT NOT NULL,
    settings               TEXT NOT NULL,
    secrets                TEXT NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX channels_by_workspace ON channels (workspace_id, id);

CREATE TABLE templates (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    name          TEXT NOT NULL,
    language      TEXT NOT NULL,
    body          TEXT NOT NULL,
    placeholders  INTEGER NOT NULL,
    channel_type  TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, name, language)
) STRICT;

CREATE TABLE conversations (
    id                   TEXT PRIMARY KEY NOT NULL,
    workspace_id         TEXT NOT NULL REFERENCES workspaces (id),
    contact_id           TEXT NOT NULL REFERENCES contacts (id),
    channel_id           TEXT NOT NULL REFERENCES channels (id),
    status               TEXT NOT NULL,
    controller           TEXT NOT NULL,
    name                 TEXT NOT NULL,
    assigned_user_id     TEXT REFERENCES users (id),
    participants         TEXT NOT NULL,
    agent_context        TEXT,
    additional_messages  TEXT NOT NULL,
    campaign_id          TEXT,
    consent_captured_at  INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_by_workspace ON conversations (workspace_id, id);
CREATE INDEX conversations_by_contact ON conversations (contact_id, channel_id);
-- One active conversation per contact and channel.
CREATE UNIQUE INDEX conversations_one_active ON conversations (workspace_id, contact_id, channel_id)
    WHERE status = 'ACTIVE';

CREATE TABLE messages (
    id                   TEXT PRIMARY KEY NOT NULL,
    workspace_id         TEXT NOT NULL REFERENCES workspaces (id),
    conversation_id      TEXT NOT NULL REFERENCES conversations (id),
    contact_id           TEXT NOT NULL REFERENCES contacts (id),
    channel_id           TEXT NOT NULL REFERENCES channels (id),
    direction            TEXT NOT NULL,
    message_type         TEXT NOT NULL,
    status               TEXT NOT NULL,
    body                 TEXT,
    template_name        TEXT,
    template_language    TEXT,
    template_params      TEXT,
    author_user_id       TEXT REFERENCES users (id),
    provider_message_id  TEXT,
    error_code           TEXT,
    error_message        TEXT,
    call_to              TEXT,
    call_from            TEXT,
    call_status          TEXT,
    call_duration        INTEGER,
    attachments          TEXT,
    alt_id               TEXT,
    sent_at              INTEGER,
    delivered_at         INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_by_provider_id ON messages (channel_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_by_alt_id ON messages (conversation_id, alt_id)
    WHERE alt_id IS NOT NULL;

-- The outbox: one row per pending piece of work, written in the transaction that
-- caused it, deleted when done. A worker owns a row while lease_until is in the future.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    kind          TEXT NOT NULL,
    message_id    TEXT NOT NULL REFERENCES messages (id),
    run_at        INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    lease_owner   TEXT,
    lease_until   INTEGER NOT NULL,
    last_error    TEXT,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (run_at, lease_until);

CREATE TABLE idempotency_keys (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    key           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        INTEGER NOT NULL,
    content_type  TEXT,
    body          BLOB,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
) STRICT;
