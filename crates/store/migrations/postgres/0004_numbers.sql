-- The number pool: teams, sources, phone numbers and what they serve, the daily usage
-- that caps them, the outcomes that judge their health, and which number last reached
-- each recipient.

-- The workspace's pool settings as JSON (NumberPoolSettings); NULL means the defaults.
ALTER TABLE workspaces ADD COLUMN number_settings TEXT;

CREATE TABLE teams (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    name          TEXT NOT NULL,
    description   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id     TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    position    BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE sources (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    name          TEXT NOT NULL,
    description   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE phone_numbers (
    id                 TEXT PRIMARY KEY NOT NULL,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    number             TEXT NOT NULL,
    display_number     TEXT NOT NULL,
    can_sms            BOOLEAN NOT NULL,
    can_call           BOOLEAN NOT NULL,
    channel_id         TEXT REFERENCES channels (id),
    label              TEXT,
    team_id            TEXT REFERENCES teams (id),
    preferred          BOOLEAN NOT NULL,
    is_default         BOOLEAN NOT NULL,
    -- NULL, 'PAUSED' or 'BLOCKED', with why, whether automatic, and when.
    hold               TEXT,
    hold_reason        TEXT,
    hold_automatic     BOOLEAN NOT NULL DEFAULT FALSE,
    held_at            BIGINT,
    -- The first day of the warm-up (YYYY-MM-DD in the workspace's zone).
    warmup_started_on  TEXT,
    -- The earliest time the next send may go out (the per-second rate).
    next_slot_at       BIGINT NOT NULL DEFAULT 0,
    last_used_at       BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (workspace_id, number)
);
CREATE INDEX phone_numbers_by_workspace ON phone_numbers (workspace_id, id);
-- At most one default number per workspace: writers clear the others first, and this
-- index turns a race between two of them into a retry rather than two defaults.
CREATE UNIQUE INDEX phone_numbers_one_default ON phone_numbers (workspace_id) WHERE is_default;

CREATE TABLE phone_number_campaigns (
    phone_number_id  TEXT NOT NULL REFERENCES phone_numbers (id) ON DELETE CASCADE,
    campaign_id      TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    PRIMARY KEY (phone_number_id, campaign_id)
);

CREATE TABLE phone_number_sources (
    phone_number_id  TEXT NOT NULL REFERENCES phone_numbers (id) ON DELETE CASCADE,
    source_id        TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    PRIMARY KEY (phone_number_id, source_id)
);

-- Sends reserved per number and day of the workspace's zone: what the caps count.
CREATE TABLE number_usage (
    phone_number_id  TEXT NOT NULL REFERENCES phone_numbers (id) ON DELETE CASCADE,
    day              TEXT NOT NULL,
    sms              BIGINT NOT NULL DEFAULT 0,
    calls            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (phone_number_id, day)
);

-- Outcomes per number and UTC day: what health is judged from.
CREATE TABLE number_outcomes (
    phone_number_id  TEXT NOT NULL REFERENCES phone_numbers (id) ON DELETE CASCADE,
    day              TEXT NOT NULL,
    sent             BIGINT NOT NULL DEFAULT 0,
    delivered        BIGINT NOT NULL DEFAULT 0,
    failed           BIGINT NOT NULL DEFAULT 0,
    filtered         BIGINT NOT NULL DEFAULT 0,
    carrier_blocks   BIGINT NOT NULL DEFAULT 0,
    opt_outs         BIGINT NOT NULL DEFAULT 0,
    replies          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (phone_number_id, day)
);

-- The number that last reached each recipient: sticky senders.
CREATE TABLE recipient_numbers (
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    recipient        TEXT NOT NULL,
    phone_number_id  TEXT NOT NULL,
    last_used_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, recipient)
);

-- A contact's own number, and a conversation's sticky number and manual override.
-- No foreign keys: deleting a number leaves these pointing nowhere, which selection
-- treats as unset.
ALTER TABLE contacts ADD COLUMN assigned_phone_number_id TEXT;
-- Deleting a number clears the contacts assigned to it; few contacts have one.
CREATE INDEX contacts_by_assigned_number ON contacts (assigned_phone_number_id)
    WHERE assigned_phone_number_id IS NOT NULL;
ALTER TABLE conversations ADD COLUMN sticky_number_id TEXT;
ALTER TABLE conversations ADD COLUMN override_number_id TEXT;
ALTER TABLE messages ADD COLUMN from_number_id TEXT;
ALTER TABLE messages ADD COLUMN from_number TEXT;
