-- Back to one body per paste row: the first file of each paste's current revision (other files
-- and earlier revisions are lost). Bodies under the new object keys are not readable by the
-- previous release; their rows get in_blob and no body.
DROP TRIGGER pastes_file_legacy_insert ON pastes;
DROP FUNCTION pastes_file_legacy_insert();
UPDATE pastes p SET body = f.body, in_blob = f.object_key IS NOT NULL,
    size_bytes = f.size_bytes, content_sha256 = f.content_sha256
FROM paste_files f
WHERE f.paste_id = p.id AND f.revision = p.revision AND f.position = 0;
DROP TABLE paste_files;
DROP TABLE paste_revisions;
DROP FUNCTION paste_default_file_name(text);
DROP INDEX pastes_forked_from_idx;
ALTER TABLE pastes DROP CONSTRAINT pastes_legacy_body_check;
-- NOT VALID: a row whose files were lost above would fail it.
ALTER TABLE pastes ADD CONSTRAINT pastes_check CHECK (in_blob = (body IS NULL)) NOT VALID;
ALTER TABLE pastes DROP COLUMN revision, DROP COLUMN edited_at, DROP COLUMN forked_from, DROP COLUMN file_count;
