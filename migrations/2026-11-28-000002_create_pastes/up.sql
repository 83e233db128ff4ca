CREATE TABLE pastes (
    id text PRIMARY KEY,
    owner_id uuid REFERENCES users (id) ON DELETE CASCADE,
    title text,
    language text,
    -- 0 public, 1 unlisted, 2 private
    visibility smallint NOT NULL CHECK (visibility BETWEEN 0 AND 2),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    burn_after_reading boolean NOT NULL DEFAULT false,
    max_views integer CHECK (max_views > 0),
    views_used integer NOT NULL DEFAULT 0,
    size_bytes integer NOT NULL CHECK (size_bytes >= 0),
    -- sha256 of the UTF-8 content: ETag and idempotent-retry comparison
    content_sha256 bytea NOT NULL,
    -- zstd-compressed body when stored inline; NULL when the body lives in the object store
    body bytea,
    in_blob boolean NOT NULL,
    delete_token_sha256 bytea,
    idempotency_key text,
    CHECK (in_blob = (body IS NULL))
);

-- The expiry sweep walks this index; only pastes that can expire are in it.
CREATE INDEX pastes_expires_at_idx ON pastes (expires_at) WHERE expires_at IS NOT NULL;
-- ...and pastes whose maxViews are used up (normally removed by their last read).
CREATE INDEX pastes_exhausted_idx ON pastes (id) WHERE max_views IS NOT NULL AND views_used >= max_views;
-- recentPastes: newest public pastes first, keyset-paginated on (created_at, id).
CREATE INDEX pastes_public_recent_idx ON pastes (created_at DESC, id DESC) WHERE visibility = 0;
-- myPastes: one owner's pastes, newest first.
CREATE INDEX pastes_owner_recent_idx ON pastes (owner_id, created_at DESC, id DESC) WHERE owner_id IS NOT NULL;
-- A client's idempotency key is unique per owner (anonymous clients share the nil owner).
CREATE UNIQUE INDEX pastes_idempotency_key_idx
    ON pastes (COALESCE(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), idempotency_key)
    WHERE idempotency_key IS NOT NULL;
