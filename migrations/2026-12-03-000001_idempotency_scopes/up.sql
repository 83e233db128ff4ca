-- Idempotency keys, scoped so that nobody else can ever receive your paste or its delete token
-- through them, and found through an index on every create that carries one.
--
-- `idempotency_scope` is sha256 of the scope and the key: ('user', owner id, key) for a
-- signed-in owner, ('anon', key) for an anonymous caller, whose key is a secret of at least
-- 128 bits (32+ characters). Only the digest is stored. `input_sha256` is the digest of the whole
-- normalized input the first create was made with: a retry that asks for anything else is
-- refused instead of answered with the first paste.
--
-- Expand: the new columns and their index; existing keyed pastes are given their scope. The
-- old column and index are no longer used; the contract step (dropping `idempotency_key` and
-- `pastes_idempotency_key_idx`) comes with the next release.
ALTER TABLE pastes
    ADD COLUMN idempotency_scope bytea,
    ADD COLUMN input_sha256 bytea;

UPDATE pastes
SET idempotency_scope = CASE
        WHEN owner_id IS NULL THEN sha256(convert_to('anon|' || idempotency_key, 'UTF8'))
        ELSE sha256(convert_to('user|' || owner_id::text || '|' || idempotency_key, 'UTF8'))
    END
WHERE idempotency_key IS NOT NULL;

CREATE UNIQUE INDEX pastes_idempotency_scope_idx ON pastes (idempotency_scope)
    WHERE idempotency_scope IS NOT NULL;
DROP INDEX pastes_idempotency_key_idx;
