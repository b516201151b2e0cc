-- Workspaces, API keys, users, custom attributes and contacts.
-- Ids are UUID text and timestamps are microseconds since the Unix epoch (BIGINT), so
-- that one SQL text and one precision serve both SQLite and PostgreSQL.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    key_hash      TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    email         TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, email)
);

CREATE TABLE custom_attributes (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    key           TEXT NOT NULL,
    label         TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('OPEN', 'CLOSED')),
    options       TEXT NOT NULL,
    required      BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, key)
);

CREATE TABLE contacts (
    id                 TEXT PRIMARY KEY NOT NULL,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    cellphone          TEXT NOT NULL,
    first_name         TEXT,
    last_name          TEXT,
    email              TEXT,
    language_code      TEXT,
    owner_id           TEXT REFERENCES users (id),
    custom_attributes  TEXT NOT NULL,
    contact_type       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (workspace_id, cellphone)
);

-- Listing a workspace's contacts pages by id (UUIDv7, so creation order).
CREATE INDEX contacts_by_workspace ON contacts (workspace_id, id);
