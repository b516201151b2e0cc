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
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX channels_by_workspace ON channels (workspace_id, id);

CREATE TABLE templates (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    name          TEXT NOT NULL,
    language      TEXT NOT NULL,
    body          TEXT NOT NULL,
    placeholders  BIGINT NOT NULL,
    channel_type  TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, name, language)
);

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
    consent_captured_at  BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
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
    call_duration        BIGINT,
    attachments          TEXT,
    alt_id               TEXT,
    sent_at              BIGINT,
    delivered_at         BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
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
    run_at        BIGINT NOT NULL,
    attempts      BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT NOT NULL,
    last_error    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at, lease_until);

CREATE TABLE idempotency_keys (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    key           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        BIGINT NOT NULL,
    content_type  TEXT,
    body          BYTEA,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
