-- Workspaces, API keys, users, custom attributes and contacts.
-- Ids are UUID text and timestamps are microseconds since the Unix epoch, so that one
-- SQL text and one precision serve both SQLite and PostgreSQL. STRICT tables make
-- SQLite enforce the column types as PostgreSQL does.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    key_hash      TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    email         TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    role          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, email)
) STRICT;

CREATE TABLE custom_attributes (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    key           TEXT NOT NULL,
    label         TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('OPEN', 'CLOSED')),
    options       TEXT NOT NULL,
    required      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, key)
) STRICT;

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
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (workspace_id, cellphone)
) STRICT;

-- Listing a workspace's contacts pages by id (UUIDv7, so creation order).
CREATE INDEX contacts_by_workspace ON contacts (workspace_id, id);
