DROP TABLE moderation_log;
DROP TABLE paste_reports;
ALTER TABLE users DROP COLUMN idp_admin;
ALTER TABLE users DROP COLUMN banned_at;
DROP TRIGGER pastes_invalidate_on_hide ON pastes;
DROP INDEX pastes_public_visible_recent_idx;
ALTER TABLE pastes DROP COLUMN hidden_by_ban;
ALTER TABLE pastes DROP COLUMN hidden_at;
