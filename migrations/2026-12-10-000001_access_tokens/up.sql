-- Personal access tokens: long-lived bearer secrets for scripts and the `pb` CLI. Only the
-- SHA-256 of the secret is kept (the secret is 190 random bits: a slow hash adds nothing), and
-- a use is found by that digest through its unique index.
CREATE TABLE access_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    -- bit 0 read, bit 1 write, bit 2 delete
    scopes smallint NOT NULL CHECK (scopes BETWEEN 1 AND 7),
    secret_sha256 bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- NULL: never expires
    expires_at timestamptz,
    -- written in batches by the instances that saw the uses, not per request
    last_used_at timestamptz
);

-- A user's tokens, newest first (the settings page, and the per-user cap).
CREATE INDEX access_tokens_user_idx ON access_tokens (user_id, created_at DESC);
