-- Encrypted pastes (issue 13, docs/encryption.md): the paste's one file holds its envelope (the
-- canonical JSON of version, algorithm, KDF parameters, nonce and ciphertext), stored like any
-- body (zstd, inline or in the object store under the attempt's key). Title and language stay
-- NULL: they are inside the ciphertext. The flag never changes for a paste: its edits are
-- encrypted too.
--
-- Expand only, safe while the previous release runs: it neither reads nor writes the column, so
-- it creates plain pastes (the default), and serves an encrypted one's envelope as its text.
ALTER TABLE pastes ADD COLUMN encrypted boolean NOT NULL DEFAULT false;
