-- Moderation: hidden pastes, banned accounts, reports and the audit log.

-- A hidden paste is kept for review but served to nobody but admins. `hidden_by_ban` marks the
-- pastes a ban hid, so lifting the ban shows them again (and not those hidden on their own).
ALTER TABLE pastes ADD COLUMN hidden_at timestamptz;
ALTER TABLE pastes ADD COLUMN hidden_by_ban boolean NOT NULL DEFAULT false;

-- recentPastes without hidden pastes, on an index that holds none of them. The old index
-- (visibility = 0 only) stays until no instance of the previous release runs: its listing
-- query uses it. A later migration drops it.
CREATE INDEX pastes_public_visible_recent_idx ON pastes (created_at DESC, id DESC)
    WHERE visibility = 0 AND hidden_at IS NULL;

-- A hide (or unhide), like a delete or an edit, is never undone by a cache: it records its
-- invalidation in the same transaction (see 2026-11-29-000010_pending_invalidations).
CREATE TRIGGER pastes_invalidate_on_hide
    AFTER UPDATE OF hidden_at ON pastes
    FOR EACH ROW WHEN (OLD.hidden_at IS DISTINCT FROM NEW.hidden_at)
    EXECUTE FUNCTION record_paste_edit_invalidation();

-- A banned account: its tokens are refused and its pastes hidden.
ALTER TABLE users ADD COLUMN banned_at timestamptz;
-- Whether the identity provider said, at the last sign-in, that this user is an admin.
ALTER TABLE users ADD COLUMN idp_admin boolean NOT NULL DEFAULT false;

CREATE TABLE paste_reports (
    id uuid PRIMARY KEY,
    -- no foreign key: a report outlives the paste it names (the audit log refers to it)
    paste_id text NOT NULL,
    -- NULL: an anonymous visitor
    reporter_id uuid REFERENCES users (id) ON DELETE SET NULL,
    reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- 'hidden', 'deleted', 'dismissed', 'banned'
    resolution text
);

-- The admins' queue: open reports, oldest first.
CREATE INDEX paste_reports_open_idx ON paste_reports (created_at, id) WHERE resolved_at IS NULL;
-- Resolving every open report of one paste.
CREATE INDEX paste_reports_paste_open_idx ON paste_reports (paste_id) WHERE resolved_at IS NULL;

-- Every admin action: who, what, when, why. Names are copied, so the record stays readable
-- after the accounts or pastes it names are gone.
CREATE TABLE moderation_log (
    id uuid PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    actor_name text NOT NULL,
    -- 'hide', 'unhide', 'delete', 'ban', 'unban', 'dismiss'
    action text NOT NULL,
    -- a paste id, a username, or a report id
    target text NOT NULL,
    reason text NOT NULL
);

CREATE INDEX moderation_log_at_idx ON moderation_log (at DESC, id DESC);
