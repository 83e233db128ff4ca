DROP TRIGGER pastes_invalidate_on_delete ON pastes;
DROP FUNCTION record_paste_invalidation();
DROP TABLE pending_invalidations;
