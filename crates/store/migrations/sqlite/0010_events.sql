-- Outgoing events: the event log, webhook endpoints and their delivery attempts.
--
-- An event is written in the same transaction as the change that caused it, with its
-- payload as it is delivered (`{"type", "timestamp", "data"}`), so the bytes signed
-- on every retry and replay are the same. The same transaction queues one outbox job
-- (`webhook.v1`) per enabled endpoint subscribed to the event's type, in the
-- endpoint's own lane. Old events are deleted by id: ids are UUIDv7, ordered by time.
CREATE TABLE events (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    -- The resource the event is about: the log filters on it.
    resource_id   TEXT NOT NULL,
    payload       TEXT NOT NULL,
    occurred_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_workspace ON events (workspace_id, id);
CREATE INDEX events_by_resource ON events (workspace_id, resource_id, id);

CREATE TABLE webhook_endpoints (
    id                      TEXT PRIMARY KEY NOT NULL,
    workspace_id            TEXT NOT NULL REFERENCES workspaces (id),
    url                     TEXT NOT NULL,
    description             TEXT NOT NULL,
    -- A JSON array of event types; NULL receives every type.
    event_types             TEXT,
    enabled                 INTEGER NOT NULL,
    -- Deliveries per second at most; NULL for no limit.
    rate_limit              INTEGER,
    -- The signing secret, sealed to this row (see secret_store).
    secret                  TEXT NOT NULL,
    secret_key_id           TEXT NOT NULL,
    -- The secret before the last rotation, still signing until previous_secret_until.
    previous_secret         TEXT,
    previous_secret_key_id  TEXT,
    previous_secret_until   INTEGER,
    -- When the current run of failed deliveries began; NULL after a success.
    failing_since           INTEGER,
    -- Why the endpoint was disabled by leadline (410 Gone, failing for 5 days).
    disabled_reason         TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace_id, id);

CREATE TABLE webhook_attempts (
    id              TEXT PRIMARY KEY NOT NULL,
    workspace_id    TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    -- succeeded or failed.
    status          TEXT NOT NULL,
    response_code   INTEGER,
    duration_ms     INTEGER NOT NULL,
    -- The first bytes of the response body, or why there was none.
    response_excerpt TEXT,
    attempted_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
