//! Newest-first listings: the public recent list and a user's own pastes.

use chrono::DateTime;

use super::{Page, Paste, Pastes};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::ids;
use crate::services::budgets::Operation;
use crate::services::db::models::PasteMeta;
use crate::services::db::pastes::{self as q, ListCursor, Listing};

/// Most pastes on one page.
pub const MAX_PAGE: i64 = 100;

impl Pastes {
    /// Public pastes, newest first. Charges one read for the page; reading the content of a
    /// listed paste charges one more each ([`Pastes::open_listed`]).
    pub async fn recent(
        &self,
        caller: &Caller,
        first: i64,
        after: Option<&str>,
    ) -> AppResult<Page> {
        self.list(caller, Listing::Public, first, after).await
    }

    /// The caller's own pastes, newest first (`UNAUTHENTICATED` when anonymous).
    pub async fn mine(&self, caller: &Caller, first: i64, after: Option<&str>) -> AppResult<Page> {
        let owner = caller
            .user_id()
            .ok_or(AppError::Unauthenticated("sign in to list your pastes"))?;
        self.list(caller, Listing::Owner(owner), first, after).await
    }

    async fn list(
        &self,
        caller: &Caller,
        listing: Listing,
        first: i64,
        after: Option<&str>,
    ) -> AppResult<Page> {
        self.inner
            .budgets
            .charge(caller, Operation::ListPage)
            .await?;
        let db = &self.inner.db;
        let first = first.clamp(1, MAX_PAGE);
        let cursor = after.map(decode_cursor).transpose()?;
        let cursor = cursor.as_ref();
        let mut items = match listing {
            Listing::Public => {
                db.read(async |c| q::list(c, listing, cursor, first + 1).await)
                    .await?
            }
            // An owner expects to see the paste they just created.
            Listing::Owner(_) => {
                db.read_prefer_primary(async |c| q::list(c, listing, cursor, first + 1).await)
                    .await?
            }
        };
        let has_next = items.len() as i64 > first;
        items.truncate(first as usize);
        Ok(Page {
            items: items.into_iter().map(Paste::meta_only).collect(),
            has_next,
        })
    }
}

pub(super) fn encode_cursor(meta: &PasteMeta) -> String {
    let micros = meta.row.created_at.timestamp_micros();
    hex::encode(format!("{micros}:{}", meta.row.id))
}

fn decode_cursor(s: &str) -> AppResult<ListCursor> {
    let bad = || AppError::bad_input("invalid cursor");
    let raw = String::from_utf8(hex::decode(s).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = raw.split_once(':').ok_or_else(bad)?;
    let created_at =
        DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    if !ids::looks_like_id(id) {
        return Err(bad());
    }
    Ok(ListCursor {
        created_at,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::Visibility;
    use super::super::tests::meta;
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() {
        let m = meta(None, Visibility::Public);
        let c = decode_cursor(&encode_cursor(&m)).unwrap();
        assert_eq!(c.id, m.row.id);
        assert_eq!(
            c.created_at.timestamp_micros(),
            m.row.created_at.timestamp_micros()
        );
        assert!(matches!(decode_cursor("zz"), Err(AppError::BadInput(_))));
        assert!(matches!(
            decode_cursor(&hex::encode("1:../x")),
            Err(AppError::BadInput(_))
        ));
    }
}
