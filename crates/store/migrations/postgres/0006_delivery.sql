-- Delivery that holds under faults: jobs as typed tasks in fairness lanes, each lease
-- fenced by a token, a cap on attempts in the row itself; per-channel delivery
-- settings; the circuit state of each lane.

CREATE TABLE jobs_v2 (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    -- The fairness lane: the channel of a send. Concurrency, rate limits and the
    -- circuit breaker apply per lane; leasing takes turns across lanes and workspaces.
    lane          TEXT NOT NULL,
    -- The typed task as JSON: {"type": "send.v1", "messageId": "…"}.
    task          TEXT NOT NULL,
    -- The message a task is about, for cancelling its sends (NULL for other tasks).
    message_id    TEXT REFERENCES messages (id),
    run_at        BIGINT NOT NULL,
    attempts      BIGINT NOT NULL,
    max_attempts  BIGINT NOT NULL,
    lease_owner   TEXT,
    -- The fencing token of the current lease: set by each lease, NULL once the job is
    -- released. Outcomes and renewals succeed only with the token they were leased with.
    lease_token   TEXT,
    lease_until   BIGINT NOT NULL,
    -- 1 when this lease took the job over from a lease that ended without an outcome:
    -- its provider call may have been made.
    lease_lapsed  BIGINT NOT NULL,
    last_error    TEXT,
    created_at    BIGINT NOT NULL
);
INSERT INTO jobs_v2
    SELECT j.id, j.workspace_id, m.channel_id,
           json_build_object('type', CASE j.kind WHEN 'send' THEN 'send.v1' ELSE 'sandbox_receipt.v1' END,
                       'messageId', j.message_id)::text,
           j.message_id, j.run_at, j.attempts, 8, j.lease_owner,
           CASE WHEN j.lease_owner IS NULL THEN NULL ELSE 'migrated' END,
           j.lease_until, 0, j.last_error, j.created_at
    FROM jobs AS j JOIN messages AS m ON m.id = j.message_id;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
CREATE INDEX jobs_due ON jobs (run_at);
CREATE INDEX jobs_by_lane ON jobs (lane, run_at);
CREATE INDEX jobs_by_message ON jobs (message_id) WHERE message_id IS NOT NULL;

-- DeliverySettings as JSON; NULL means the defaults.
ALTER TABLE channels ADD COLUMN delivery TEXT;

-- Lanes whose circuit is open or half-open; a closed circuit has no row.
CREATE TABLE lane_circuits (
    lane        TEXT PRIMARY KEY NOT NULL,
    state       TEXT NOT NULL,
    open_until  BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
