-- Deletes are never undone by a cache: every paste that leaves (deleted, burned, expired, used
-- up) is recorded here in the transaction that removes it, by a trigger, so no code path can
-- forget it. The instance that removed it delivers the invalidation to Redis (tombstone and
-- pub/sub) and deletes the record; until then every instance, which reads this table every
-- 250 ms, serves the paste from no cache, and any instance retries the delivery.
CREATE TABLE pending_invalidations (
    paste_id text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION record_paste_invalidation() RETURNS trigger AS $$
BEGIN
    INSERT INTO pending_invalidations (paste_id) VALUES (OLD.id)
    ON CONFLICT (paste_id) DO UPDATE SET created_at = now();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER pastes_invalidate_on_delete
    AFTER DELETE ON pastes
    FOR EACH ROW EXECUTE FUNCTION record_paste_invalidation();
