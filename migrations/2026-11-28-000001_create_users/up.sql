CREATE TABLE users (
    id uuid PRIMARY KEY,
    username text NOT NULL CHECK (char_length(username) BETWEEN 3 AND 32),
    -- NULL for accounts of an external identity provider (they sign in there)
    password_hash text,
    -- `{issuer}|{sub}` of an external identity provider's token; NULL for local accounts
    external_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Usernames are unique without regard to case: "Alice" and "alice" are the same account.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
