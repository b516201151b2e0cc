-- Outbound campaigns, their leads, and the workspace's do-not-contact list.

CREATE TABLE campaigns (
    id                 TEXT PRIMARY KEY NOT NULL,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    name               TEXT NOT NULL,
    channel_id         TEXT NOT NULL REFERENCES channels (id),
    default_time_zone  TEXT NOT NULL,
    default_country    TEXT NOT NULL,
    calling_hours      TEXT NOT NULL,
    max_attempts       INTEGER NOT NULL,
    retry_interval     TEXT NOT NULL,
    opening_template   TEXT,
    opening            TEXT NOT NULL,
    concurrency        INTEGER NOT NULL,
    status             TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX campaigns_by_workspace ON campaigns (workspace_id, id);
CREATE INDEX campaigns_by_status ON campaigns (status);

CREATE TABLE leads (
    id                    TEXT PRIMARY KEY NOT NULL,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id),
    campaign_id           TEXT NOT NULL REFERENCES campaigns (id),
    contact_id            TEXT NOT NULL REFERENCES contacts (id),
    phone_number          TEXT NOT NULL,
    external_id           TEXT,
    time_zone             TEXT,
    call_data             TEXT NOT NULL,
    status                TEXT NOT NULL,
    attempts              INTEGER NOT NULL,
    attempt_times         TEXT NOT NULL,
    next_attempt_at       INTEGER,
    last_decision         TEXT,
    last_decision_reason  TEXT,
    last_decision_at      INTEGER,
    conversation_id       TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX leads_by_campaign ON leads (campaign_id, id);
-- The scheduler's tick: due leads of one campaign in due order, an index range scan.
CREATE INDEX leads_due ON leads (campaign_id, next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE UNIQUE INDEX leads_by_external_id ON leads (campaign_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX leads_by_conversation ON leads (conversation_id) WHERE conversation_id IS NOT NULL;

CREATE TABLE do_not_contact (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    phone_number  TEXT NOT NULL,
    reason        TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, phone_number)
) STRICT;

-- A contact's opt-outs, per channel type, with their evidence. The gate refuses an
-- opted-out contact on that channel type.
CREATE TABLE contact_opt_outs (
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id),
    contact_id     TEXT NOT NULL REFERENCES contacts (id),
    channel_type   TEXT NOT NULL,
    source         TEXT NOT NULL,
    evidence       TEXT,
    message_id     TEXT,
    opted_out_at   INTEGER NOT NULL,
    PRIMARY KEY (contact_id, channel_type)
) STRICT;
