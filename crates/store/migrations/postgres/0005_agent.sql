-- The AI agent: its settings and flow scripts, the work queue of conversations that
-- have unread inbound messages, the decisions it made, and what each conversation
-- remembers of it.

-- The workspace's agent settings as JSON (AgentSettings); NULL means the defaults.
ALTER TABLE workspaces ADD COLUMN agent_settings TEXT;

-- Flow scripts, one per scope: 'campaign:<id>', 'channel:<id>' or 'workspace'.
CREATE TABLE agent_scripts (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    name          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    campaign_id   TEXT,
    channel_id    TEXT,
    script        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, scope)
);

-- One row per conversation with inbound messages the agent has not handled yet.
-- `wakes` counts the inbound messages filed since the row was written, so a worker that
-- finishes a turn deletes the row only when nothing new arrived meanwhile.
CREATE TABLE agent_tasks (
    conversation_id  TEXT PRIMARY KEY NOT NULL REFERENCES conversations (id),
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    run_at           BIGINT NOT NULL,
    wakes            BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT NOT NULL,
    waiting_for      TEXT
);
CREATE INDEX agent_tasks_due ON agent_tasks (run_at, lease_until);

-- Every decision the agent (or the opt-out handling) made, with its reason.
CREATE TABLE agent_decisions (
    id               TEXT PRIMARY KEY NOT NULL,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    kind             TEXT NOT NULL,
    reason           TEXT NOT NULL,
    detail           TEXT,
    message_id       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX agent_decisions_by_conversation ON agent_decisions (conversation_id, id);

-- What a conversation remembers of its agent: the flow script's progress (JSON), the
-- turns taken, when it last replied, the last inbound message the opt-out handling read
-- and the last one the agent answered, and whether
-- the LeadScout additional messages went out.
ALTER TABLE conversations ADD COLUMN agent_state TEXT;
ALTER TABLE conversations ADD COLUMN agent_turns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN agent_replied_at BIGINT;
ALTER TABLE conversations ADD COLUMN handled_through TEXT;
ALTER TABLE conversations ADD COLUMN agent_read_through TEXT;
ALTER TABLE conversations ADD COLUMN additional_sent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN last_inbound_at BIGINT;

-- The round-robin position of hand-offs over the team's advisors.
ALTER TABLE teams ADD COLUMN handoff_cursor BIGINT NOT NULL DEFAULT 0;
