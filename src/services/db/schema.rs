//! Diesel table definitions, matching `migrations/` and `migrations-analytics/`.

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        password_hash -> Nullable<Text>,
        external_id -> Nullable<Text>,
        created_at -> Timestamptz,
        banned_at -> Nullable<Timestamptz>,
        idp_admin -> Bool,
    }
}

diesel::table! {
    pastes (id) {
        id -> Text,
        owner_id -> Nullable<Uuid>,
        title -> Nullable<Text>,
        language -> Nullable<Text>,
        visibility -> SmallInt,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        burn_after_reading -> Bool,
        max_views -> Nullable<Integer>,
        views_used -> Integer,
        size_bytes -> Integer,
        content_sha256 -> Bytea,
        body -> Nullable<Bytea>,
        in_blob -> Bool,
        delete_token_sha256 -> Nullable<Bytea>,
        idempotency_key -> Nullable<Text>,
        idempotency_scope -> Nullable<Bytea>,
        input_sha256 -> Nullable<Bytea>,
        revision -> Integer,
        edited_at -> Nullable<Timestamptz>,
        forked_from -> Nullable<Text>,
        file_count -> SmallInt,
        encrypted -> Bool,
        hidden_at -> Nullable<Timestamptz>,
        hidden_by_ban -> Bool,
    }
}

diesel::table! {
    paste_revisions (paste_id, number) {
        paste_id -> Text,
        number -> Integer,
        created_at -> Timestamptz,
        title -> Nullable<Text>,
        language -> Nullable<Text>,
        size_bytes -> Integer,
        content_sha256 -> Bytea,
        file_count -> SmallInt,
        summary -> Text,
        attempt -> Text,
    }
}

diesel::table! {
    paste_files (paste_id, revision, position) {
        paste_id -> Text,
        revision -> Integer,
        position -> SmallInt,
        name -> Text,
        language -> Nullable<Text>,
        size_bytes -> Integer,
        content_sha256 -> Bytea,
        body -> Nullable<Bytea>,
        object_key -> Nullable<Text>,
    }
}

diesel::table! {
    /// Invalidations not yet delivered to Redis (written by a trigger on `pastes`).
    pending_invalidations (paste_id) {
        paste_id -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Personal access tokens (only the secret's digest).
    access_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        scopes -> SmallInt,
        secret_sha256 -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    paste_reports (id) {
        id -> Uuid,
        paste_id -> Text,
        reporter_id -> Nullable<Uuid>,
        reason -> Text,
        created_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        resolved_by -> Nullable<Uuid>,
        resolution -> Nullable<Text>,
    }
}

diesel::table! {
    /// Every admin action.
    moderation_log (id) {
        id -> Uuid,
        at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        actor_name -> Text,
        action -> Text,
        target -> Text,
        reason -> Text,
    }
}

diesel::joinable!(pastes -> users (owner_id));
diesel::joinable!(access_tokens -> users (user_id));
diesel::joinable!(paste_revisions -> pastes (paste_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    pastes,
    paste_revisions,
    paste_files,
    access_tokens,
    paste_reports,
    moderation_log
);

/// Tables of the analytics database (a separate database; never joined with the above).
pub mod analytics {
    diesel::table! {
        paste_views_hourly (paste_id, hour) {
            paste_id -> Text,
            hour -> Timestamptz,
            views -> BigInt,
        }
    }

    diesel::table! {
        applied_batches (batch_id) {
            batch_id -> Text,
            applied_at -> Timestamptz,
        }
    }
}
