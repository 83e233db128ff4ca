-- Seeds pastes first..last (of count) for scripts/bench: one-file pastes exactly as the service
-- writes them, cloned from a template paste that the service itself created (GraphQL
-- createPaste with an idempotencyKey, as the web app sends it). One transaction; run in chunks.
--
-- psql variables: template (the template's id), first, last, count.
--
-- What each clone shares with the template: every column the service derives from the input
-- (visibility, title, language, size, content digest, input digest, summary, file name, and the
-- zstd body bytes it compressed). What is its own:
-- - id: 1000000000 + n as text ('1000000001'...): 10 characters like the service's (base62),
--   and digits only so that pgbench, whose variables are integers, can name the same rows;
-- - created_at: one second apart, the last one a second before the template;
-- - delete_token_sha256: a digest per paste (the service stores sha256 of a random token);
-- - idempotency_scope: sha256('anon|' || key), the key 32 hex characters, as the service
--   stores an anonymous caller's key (see the idempotency migration), so
--   pastes_idempotency_scope_idx holds one entry per paste as it would in production;
-- - attempt: 12 characters, like the service's per-attempt token.
\set ON_ERROR_STOP on
BEGIN;

INSERT INTO pastes (id, owner_id, title, language, visibility, created_at, expires_at,
                    burn_after_reading, max_views, views_used, size_bytes, content_sha256, body,
                    in_blob, delete_token_sha256, idempotency_scope, input_sha256, revision,
                    edited_at, forked_from, file_count)
SELECT (1000000000 + n)::text, t.owner_id, t.title, t.language, t.visibility,
       t.created_at - make_interval(secs => :count + 1 - n), NULL, false, NULL, 0,
       t.size_bytes, t.content_sha256, NULL, false,
       sha256(convert_to('bench delete token ' || n, 'UTF8')),
       sha256(convert_to('anon|' || md5('bench idempotency key ' || n), 'UTF8')),
       t.input_sha256, 1, NULL, NULL, 1
FROM pastes t, generate_series(:first, :last) AS n
WHERE t.id = :'template';

INSERT INTO paste_revisions (paste_id, number, created_at, title, language, size_bytes,
                             content_sha256, file_count, summary, attempt)
SELECT (1000000000 + n)::text, 1, r.created_at - make_interval(secs => :count + 1 - n),
       r.title, r.language, r.size_bytes, r.content_sha256, 1, r.summary,
       substr(md5('bench attempt ' || n), 1, 12)
FROM paste_revisions r, generate_series(:first, :last) AS n
WHERE r.paste_id = :'template' AND r.number = 1;

INSERT INTO paste_files (paste_id, revision, position, name, language, size_bytes,
                         content_sha256, body, object_key)
SELECT (1000000000 + n)::text, 1, 0, f.name, f.language, f.size_bytes, f.content_sha256,
       f.body, NULL
FROM paste_files f, generate_series(:first, :last) AS n
WHERE f.paste_id = :'template' AND f.revision = 1 AND f.position = 0;

COMMIT;
