-- The inbox's "mine" tab: a person's own conversations, newest activity first, without
-- walking the rest of the workspace's.
CREATE INDEX conversations_by_assignee ON conversations (workspace_id, assigned_user_id, last_activity_at DESC, id);
