CREATE UNIQUE INDEX pastes_idempotency_key_idx
    ON pastes (COALESCE(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), idempotency_key)
    WHERE idempotency_key IS NOT NULL;
DROP INDEX pastes_idempotency_scope_idx;
ALTER TABLE pastes DROP COLUMN input_sha256, DROP COLUMN idempotency_scope;
