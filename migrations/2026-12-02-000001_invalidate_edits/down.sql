DROP TRIGGER pastes_invalidate_on_edit ON pastes;
DROP FUNCTION record_paste_edit_invalidation();
