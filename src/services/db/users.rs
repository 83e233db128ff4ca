//! Queries on `users`.

use diesel::result::Error as DieselError;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{NewUser, UserRow};
use super::schema::users;

type QueryResult<T> = Result<T, DieselError>;

/// Index that makes usernames unique without regard to case.
pub const USERNAME_INDEX: &str = "users_username_lower_key";
/// Unique constraint on the identity provider's `{issuer}|{sub}`.
pub const EXTERNAL_ID_KEY: &str = "users_external_id_key";

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewUser<'_>) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> QueryResult<Option<UserRow>> {
    diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
    users::table
        .filter(lower(users::username).eq(username.to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_id(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_external_id(
    conn: &mut AsyncPgConnection,
    external_id: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::external_id.eq(external_id))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Records whether the identity provider says the user is an admin.
pub async fn set_idp_admin(conn: &mut AsyncPgConnection, id: Uuid, admin: bool) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::idp_admin.eq(admin))
        .execute(conn)
        .await
        .map(drop)
}
