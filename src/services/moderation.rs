//! Moderation: anyone reports a paste; admins (from configuration, see
//! [`crate::auth::admins`]) read the open reports, hide a paste (kept for review, served to
//! nobody else), show it again, delete it, ban an account (its pastes hidden, its tokens
//! refused) or lift a ban, and dismiss a report. Every admin action is written to the audit
//! log (who, what, when, why) in the transaction that does it.
//!
//! A hide is delivered to the caches like a delete (`services::invalidations`): it is
//! acknowledged only once no instance serves the paste from a cache. A ban publishes the
//! revocation of the account's access tokens to every instance, and its JWTs are refused
//! because the account's standing is read on every request.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::access_tokens::AccessTokens;
use super::budgets::{Budgets, Operation};
use super::db::Db;
use super::db::models::{LogRow, NewLogRow, NewReport};
use super::db::moderation::{self as q, Cursor};
use super::pastes::{Pastes, detach};
use crate::caller::{Caller, User};
use crate::error::{AppError, AppResult};
use crate::ids;

pub const REASON_MAX: usize = 1000;
/// Most entries on one page of the reports or the audit log.
pub const MAX_PAGE: i64 = 100;

/// An open report.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: Uuid,
    pub paste_id: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    /// The reporter's username; `None` for an anonymous visitor.
    pub reporter: Option<String>,
}

/// One admin action.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `hide`, `unhide`, `delete`, `ban`, `unban`, `dismiss`.
    pub action: String,
    /// A paste id, a username or a report id.
    pub target: String,
    pub reason: String,
}

impl From<LogRow> for AuditEntry {
    fn from(r: LogRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor: r.actor_name,
            action: r.action,
            target: r.target,
            reason: r.reason,
        }
    }
}

/// A page of a listing, with the cursor of each item.
pub struct Page<T> {
    pub items: Vec<(T, String)>,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// A page from the `first + 1` rows fetched: the extra row only says a next page exists.
    fn of<R>(mut rows: Vec<R>, first: i64, item: impl FnMut(R) -> (T, String)) -> Self {
        let has_next = rows.len() as i64 > first;
        rows.truncate(first as usize);
        Self {
            items: rows.into_iter().map(item).collect(),
            has_next,
        }
    }
}

fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    hex::encode(format!("{}:{id}", at.timestamp_micros()))
}

fn decode_cursor(s: &str) -> AppResult<Cursor> {
    let bad = || AppError::bad_input("invalid cursor");
    let raw = String::from_utf8(hex::decode(s).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = raw.split_once(':').ok_or_else(bad)?;
    Ok(Cursor {
        at: DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?,
        id: id.parse().map_err(|_| bad())?,
    })
}

/// A reason as given: trimmed, 1 to [`REASON_MAX`] characters.
fn check_reason(reason: &str) -> AppResult<&str> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX {
        return Err(AppError::bad_input(format!(
            "a reason is 1 to {REASON_MAX} characters"
        )));
    }
    if reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::bad_input(
            "a reason may not hold control characters",
        ));
    }
    Ok(reason)
}

/// The admin behind `caller`.
fn admin(caller: &Caller) -> AppResult<&User> {
    let user = caller
        .viewer
        .user()
        .ok_or(AppError::Unauthenticated("sign in as an admin"))?;
    if !caller.viewer.is_admin() {
        return Err(AppError::Forbidden("only admins may do this"));
    }
    Ok(user)
}

#[derive(Clone)]
pub struct Moderation {
    db: Db,
    pastes: Pastes,
    tokens: AccessTokens,
    budgets: Budgets,
}

impl Moderation {
    pub(super) fn new(db: Db, pastes: Pastes, tokens: AccessTokens, budgets: Budgets) -> Self {
        Self {
            db,
            pastes,
            tokens,
            budgets,
        }
    }

    /// Reports a paste the caller can see to the admins. Anyone may; rate-limited.
    pub async fn report(&self, caller: &Caller, paste_id: &str, reason: &str) -> AppResult<()> {
        self.budgets.charge(caller, Operation::Report).await?;
        let reason = check_reason(reason)?;
        // Only what the caller can see can be reported (a private paste of someone else is
        // missing, as everywhere).
        self.pastes.lookup_meta(caller, paste_id).await?;
        if self.db.read_only() {
            return Err(AppError::read_only());
        }
        let new = NewReport {
            id: Uuid::now_v7(),
            paste_id,
            reporter_id: caller.user_id(),
            reason,
            created_at: Utc::now(),
        };
        self.db
            .write(async |c| q::insert_report(c, &new).await)
            .await?;
        tracing::info!(paste.id = %paste_id, report.id = %new.id, "paste reported");
        Ok(())
    }

    /// Open reports, oldest first. Admins only.
    pub async fn reports(
        &self,
        caller: &Caller,
        first: i64,
        after: Option<&str>,
    ) -> AppResult<Page<Report>> {
        self.budgets.charge(caller, Operation::ListPage).await?;
        admin(caller)?;
        let first = first.clamp(1, MAX_PAGE);
        let after = after.map(decode_cursor).transpose()?;
        let rows = self
            .db
            .read_prefer_primary(async |c| q::open_reports(c, after, first + 1).await)
            .await?;
        Ok(Page::of(rows, first, |(r, reporter)| {
            let cursor = encode_cursor(r.created_at, r.id);
            let report = Report {
                id: r.id,
                paste_id: r.paste_id,
                reason: r.reason,
                created_at: r.created_at,
                reporter,
            };
            (report, cursor)
        }))
    }

    /// The audit log, newest first. Admins only.
    pub async fn audit_log(
        &self,
        caller: &Caller,
        first: i64,
        after: Option<&str>,
    ) -> AppResult<Page<AuditEntry>> {
        self.budgets.charge(caller, Operation::ListPage).await?;
        admin(caller)?;
        let first = first.clamp(1, MAX_PAGE);
        let after = after.map(decode_cursor).transpose()?;
        let rows = self
            .db
            .read_prefer_primary(async |c| q::log_page(c, after, first + 1).await)
            .await?;
        Ok(Page::of(rows, first, |r| {
            let cursor = encode_cursor(r.at, r.id);
            (AuditEntry::from(r), cursor)
        }))
    }

    /// Checks and charges an admin action; returns the admin and the reason.
    async fn begin<'a>(
        &self,
        caller: &'a Caller,
        reason: &'a str,
    ) -> AppResult<(&'a User, &'a str)> {
        self.budgets.charge(caller, Operation::Moderate).await?;
        let user = admin(caller)?;
        let reason = check_reason(reason)?;
        if self.db.read_only() {
            return Err(AppError::read_only());
        }
        Ok((user, reason))
    }

    /// Hides a paste: no longer served (`NOT_FOUND` on every door, gone from listings), kept
    /// for review. Its open reports are resolved. Acknowledged once no cache serves it.
    pub async fn hide(&self, caller: &Caller, paste_id: &str, reason: &str) -> AppResult<()> {
        let (user, reason) = self.begin(caller, reason).await?;
        if !ids::looks_like_id(paste_id) {
            return Err(AppError::NotFound);
        }
        let entry = log_entry(user, "hide", paste_id, reason);
        let this = self.clone();
        detach(async move {
            let hidden = this
                .db
                .write(async |c| q::hide(c, &entry.target, &entry.as_row()).await)
                .await?;
            if !hidden {
                return Err(this
                    .missing_or(&entry.target, "the paste is hidden already")
                    .await);
            }
            this.pastes
                .forget_hidden(std::slice::from_ref(&entry.target))
                .await;
            tracing::info!(paste.id = %entry.target, admin = %entry.actor_name, "paste hidden");
            Ok(())
        })
        .await
    }

    /// Shows a hidden paste again.
    pub async fn unhide(&self, caller: &Caller, paste_id: &str, reason: &str) -> AppResult<()> {
        let (user, reason) = self.begin(caller, reason).await?;
        if !ids::looks_like_id(paste_id) {
            return Err(AppError::NotFound);
        }
        let entry = log_entry(user, "unhide", paste_id, reason);
        let this = self.clone();
        detach(async move {
            let revision = this
                .db
                .write(async |c| q::unhide(c, &entry.target, &entry.as_row()).await)
                .await?;
            let Some(revision) = revision else {
                return Err(this.missing_or(&entry.target, "the paste is not hidden").await);
            };
            this.pastes
                .forget_unhidden(&[(entry.target.clone(), revision)])
                .await;
            tracing::info!(paste.id = %entry.target, admin = %entry.actor_name, "paste shown again");
            Ok(())
        })
        .await
    }

    /// Deletes any paste (its open reports are resolved).
    pub async fn remove(&self, caller: &Caller, paste_id: &str, reason: &str) -> AppResult<()> {
        let (user, reason) = self.begin(caller, reason).await?;
        if !ids::looks_like_id(paste_id) {
            return Err(AppError::NotFound);
        }
        let entry = log_entry(user, "delete", paste_id, reason);
        let this = self.clone();
        detach(async move {
            let keys = this
                .db
                .write(async |c| q::delete(c, &entry.target, &entry.as_row()).await)
                .await?
                .ok_or(AppError::NotFound)?;
            this.pastes.forget(&entry.target, &keys).await;
            tracing::info!(paste.id = %entry.target, admin = %entry.actor_name, "paste deleted by an admin");
            Ok(())
        })
        .await
    }

    /// Bans an account: its pastes are hidden, its tokens refused on every instance, its
    /// sign-ins refused.
    pub async fn ban(&self, caller: &Caller, username: &str, reason: &str) -> AppResult<()> {
        let (user, reason) = self.begin(caller, reason).await?;
        if user.username.eq_ignore_ascii_case(username) {
            return Err(AppError::bad_input("an admin cannot ban themself"));
        }
        let (target, username) = self.user(username).await?;
        let entry = log_entry(user, "ban", &username, reason);
        let this = self.clone();
        detach(async move {
            let hidden = this
                .db
                .write(async |c| q::ban(c, target, &entry.as_row()).await)
                .await?
                .ok_or(AppError::bad_input("the account is banned already"))?;
            this.tokens.forget_user(target).await;
            this.pastes.forget_hidden(&hidden).await;
            tracing::info!(user.id = %target, admin = %entry.actor_name, hidden = hidden.len(), "account banned");
            Ok(())
        })
        .await
    }

    /// Lifts a ban: the account may sign in again and the pastes the ban hid are shown again.
    pub async fn unban(&self, caller: &Caller, username: &str, reason: &str) -> AppResult<()> {
        let (user, reason) = self.begin(caller, reason).await?;
        let (target, username) = self.user(username).await?;
        let entry = log_entry(user, "unban", &username, reason);
        let this = self.clone();
        detach(async move {
            let shown = this
                .db
                .write(async |c| q::unban(c, target, &entry.as_row()).await)
                .await?
                .ok_or(AppError::bad_input("the account is not banned"))?;
            this.tokens.forget_user(target).await;
            this.pastes.forget_unhidden(&shown).await;
            tracing::info!(user.id = %target, admin = %entry.actor_name, "ban lifted");
            Ok(())
        })
        .await
    }

    /// Closes a report without acting on its paste.
    pub async fn dismiss(&self, caller: &Caller, report: Uuid, reason: &str) -> AppResult<()> {
        let (user, reason) = self.begin(caller, reason).await?;
        let entry = log_entry(user, "dismiss", &report.to_string(), reason);
        let dismissed = self
            .db
            .write(async |c| q::dismiss(c, report, &entry.as_row()).await)
            .await?;
        if !dismissed {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// An account's id and name as registered.
    async fn user(&self, username: &str) -> AppResult<(Uuid, String)> {
        self.db
            .read_prefer_primary(async |c| q::user_by_name(c, username).await)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// `NOT_FOUND` when the paste does not exist, else a bad input saying why nothing changed.
    async fn missing_or(&self, id: &str, why: &'static str) -> AppError {
        match self
            .db
            .read_prefer_primary(async |c| super::db::pastes::exists(c, id).await)
            .await
        {
            Ok(true) => AppError::bad_input(why),
            Ok(false) => AppError::NotFound,
            Err(e) => e.into(),
        }
    }
}

/// An audit record, owned (it moves into a detached write).
struct Entry {
    id: Uuid,
    at: DateTime<Utc>,
    actor_id: Uuid,
    actor_name: String,
    action: &'static str,
    target: String,
    reason: String,
}

impl Entry {
    fn as_row(&self) -> NewLogRow<'_> {
        NewLogRow {
            id: self.id,
            at: self.at,
            actor_id: Some(self.actor_id),
            actor_name: &self.actor_name,
            action: self.action,
            target: &self.target,
            reason: &self.reason,
        }
    }
}

fn log_entry(user: &User, action: &'static str, target: &str, reason: &str) -> Entry {
    Entry {
        id: Uuid::now_v7(),
        at: Utc::now(),
        actor_id: user.id,
        actor_name: user.username.clone(),
        action,
        target: target.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_cursors() {
        assert!(check_reason("  ").is_err());
        assert!(check_reason(&"x".repeat(REASON_MAX + 1)).is_err());
        assert!(check_reason("spam\u{7}").is_err());
        assert_eq!(check_reason(" spam\nlinks ").unwrap(), "spam\nlinks");
        let id = Uuid::now_v7();
        let at = Utc::now();
        let c = decode_cursor(&encode_cursor(at, id)).unwrap();
        assert_eq!((c.at.timestamp_micros(), c.id), (at.timestamp_micros(), id));
        assert!(decode_cursor("zz").is_err());
    }
}
