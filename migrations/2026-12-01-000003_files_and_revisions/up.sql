-- Files and revisions (DESIGN §13): a paste -> its revisions (immutable; the newest is
-- current) -> each revision's files (name, language, size, body inline or in the object store).
--
-- This is the EXPAND step of an expand/contract change, shipped now. It is safe to apply while
-- the previous release still runs (the Helm migrate hook runs before the new pods start):
-- - every column that release reads or writes stays, with its meaning for its own pastes;
-- - a paste it inserts (body inline or in_blob) is filed as revision 1 with one file by the
--   trigger below, so the new release reads it;
-- - existing pastes become revision 1 with one file here (their bodies copied; objects keep
--   their legacy key `pastes/{id}`, recorded in the file row).
-- Pastes created or edited by the new release keep their bodies in `paste_files` only
-- (`pastes.body` NULL, `in_blob` false), which the previous release cannot read: during a
-- rolling update an old pod answers such a paste with an error until it is replaced. An old
-- worker that deletes such a paste (expiry) leaves its objects to the orphan sweep.
--
-- CONTRACT step, NOT shipped yet (once no instance of the previous release runs): drop the
-- trigger and its function, then `pastes.body` and `pastes.in_blob`.

ALTER TABLE pastes
    -- The current (newest) revision.
    ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    -- When the current revision was made; NULL until the first edit.
    ADD COLUMN edited_at timestamptz,
    -- The paste this one was forked from (NULL once that one is gone).
    ADD COLUMN forked_from text REFERENCES pastes (id) ON DELETE SET NULL,
    ADD COLUMN file_count smallint NOT NULL DEFAULT 1 CHECK (file_count >= 1);
-- New pastes have neither an inline body nor a legacy object in this row.
ALTER TABLE pastes DROP CONSTRAINT pastes_check;
ALTER TABLE pastes ADD CONSTRAINT pastes_legacy_body_check CHECK (NOT (in_blob AND body IS NOT NULL));

-- Fork counts, and the ON DELETE SET NULL above, look forks up by their source.
CREATE INDEX pastes_forked_from_idx ON pastes (forked_from) WHERE forked_from IS NOT NULL;

CREATE TABLE paste_revisions (
    paste_id text NOT NULL REFERENCES pastes (id) ON DELETE CASCADE,
    number integer NOT NULL CHECK (number >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    title text,
    language text,
    -- total UTF-8 bytes of the revision's files
    size_bytes integer NOT NULL CHECK (size_bytes >= 0),
    -- digest of the revision's files (a one-file revision: its file's sha256)
    content_sha256 bytea NOT NULL,
    file_count smallint NOT NULL CHECK (file_count BETWEEN 1 AND 20),
    -- what changed from the revision before, for people ("Created with 2 files", "Edited main.rs")
    summary text NOT NULL,
    -- random token of the create or edit attempt that wrote it; its objects' keys carry it
    attempt text NOT NULL,
    PRIMARY KEY (paste_id, number)
);

CREATE TABLE paste_files (
    paste_id text NOT NULL,
    revision integer NOT NULL,
    -- order within the revision, from 0
    position smallint NOT NULL CHECK (position BETWEEN 0 AND 19),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    language text,
    size_bytes integer NOT NULL CHECK (size_bytes >= 0),
    -- sha256 of the UTF-8 text: the file's ETag
    content_sha256 bytea NOT NULL,
    -- zstd body when inline; NULL when in the object store
    body bytea,
    -- object key below the deployment's prefix (`pastes/{id}/{attempt}/{position}`, or the legacy
    -- `pastes/{id}`), written once and never reused by another row
    object_key text,
    PRIMARY KEY (paste_id, revision, position),
    FOREIGN KEY (paste_id, revision) REFERENCES paste_revisions (paste_id, number) ON DELETE CASCADE,
    CHECK ((body IS NULL) <> (object_key IS NULL))
);
-- Names are unique within a revision, without regard to case (a zip unpacked on a
-- case-insensitive file system must not lose a file).
CREATE UNIQUE INDEX paste_files_name_key ON paste_files (paste_id, revision, lower(name));
-- The orphan sweep asks which listed objects have a row.
CREATE UNIQUE INDEX paste_files_object_key_key ON paste_files (object_key) WHERE object_key IS NOT NULL;

-- The name a one-file paste's file gets: `paste.<extension of its language>` (the same table
-- as src/services/pastes/languages.rs).
CREATE FUNCTION paste_default_file_name(language text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'paste.' || CASE lower(coalesce(language, ''))
        WHEN 'rust' THEN 'rs' WHEN 'python' THEN 'py' WHEN 'javascript' THEN 'js'
        WHEN 'typescript' THEN 'ts' WHEN 'go' THEN 'go' WHEN 'c' THEN 'c' WHEN 'cpp' THEN 'cpp'
        WHEN 'csharp' THEN 'cs' WHEN 'java' THEN 'java' WHEN 'kotlin' THEN 'kt'
        WHEN 'swift' THEN 'swift' WHEN 'ruby' THEN 'rb' WHEN 'php' THEN 'php' WHEN 'perl' THEN 'pl'
        WHEN 'lua' THEN 'lua' WHEN 'bash' THEN 'sh' WHEN 'sql' THEN 'sql' WHEN 'json' THEN 'json'
        WHEN 'yaml' THEN 'yaml' WHEN 'ini' THEN 'ini' WHEN 'xml' THEN 'html' WHEN 'css' THEN 'css'
        WHEN 'scss' THEN 'scss' WHEN 'markdown' THEN 'md' WHEN 'diff' THEN 'diff'
        WHEN 'graphql' THEN 'graphql' WHEN 'makefile' THEN 'mk' WHEN 'dockerfile' THEN 'dockerfile'
        ELSE 'txt' END
$$;

-- Existing pastes: revision 1 with one file.
INSERT INTO paste_revisions (paste_id, number, created_at, title, language, size_bytes, content_sha256, file_count, summary, attempt)
SELECT id, 1, created_at, title, language, size_bytes, content_sha256, 1, 'Created', 'legacy' FROM pastes;
INSERT INTO paste_files (paste_id, revision, position, name, language, size_bytes, content_sha256, body, object_key)
SELECT id, 1, 0, paste_default_file_name(language), language, size_bytes, content_sha256, body,
       CASE WHEN in_blob THEN 'pastes/' || id END
FROM pastes;

-- Pastes inserted by the previous release (a body inline or a legacy object): filed the same way.
CREATE FUNCTION pastes_file_legacy_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO paste_revisions (paste_id, number, created_at, title, language, size_bytes, content_sha256, file_count, summary, attempt)
    VALUES (NEW.id, 1, NEW.created_at, NEW.title, NEW.language, NEW.size_bytes, NEW.content_sha256, 1, 'Created', 'legacy');
    INSERT INTO paste_files (paste_id, revision, position, name, language, size_bytes, content_sha256, body, object_key)
    VALUES (NEW.id, 1, 0, paste_default_file_name(NEW.language), NEW.language, NEW.size_bytes,
            NEW.content_sha256, NEW.body, CASE WHEN NEW.in_blob THEN 'pastes/' || NEW.id END);
    RETURN NULL;
END
$$;
CREATE TRIGGER pastes_file_legacy_insert AFTER INSERT ON pastes
    FOR EACH ROW WHEN (NEW.body IS NOT NULL OR NEW.in_blob)
    EXECUTE FUNCTION pastes_file_legacy_insert();
