-- An edit, like a delete, is never undone by a cache: moving a paste to a new revision records
-- its invalidation in the same transaction (see 2026-11-29-000010_pending_invalidations).
CREATE FUNCTION record_paste_edit_invalidation() RETURNS trigger AS $$
BEGIN
    INSERT INTO pending_invalidations (paste_id) VALUES (NEW.id)
    ON CONFLICT (paste_id) DO UPDATE SET created_at = now();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER pastes_invalidate_on_edit
    AFTER UPDATE OF revision ON pastes
    FOR EACH ROW WHEN (OLD.revision IS DISTINCT FROM NEW.revision)
    EXECUTE FUNCTION record_paste_edit_invalidation();
