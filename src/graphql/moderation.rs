//! Moderation: `reportPaste` for anyone; for admins `reports`, `auditLog`, `hidePaste`,
//! `unhidePaste`, `removePaste`, `banAccount`, `unbanAccount`, `dismissReport`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::pastes::PasteObject;
use super::{app, caller};
use crate::error::AppError;
use crate::moderation::{self as m, Page};

/// An open report of a paste.
pub struct Report(m::Report);

#[Object]
impl Report {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The id of the paste reported (it may be gone since).
    async fn paste_id(&self) -> &str {
        &self.0.paste_id
    }

    /// The paste, as the admin sees it (hidden pastes included); null when it is gone.
    async fn paste(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PasteObject>> {
        match app(ctx).pastes().find(caller(ctx)?, &self.0.paste_id).await {
            Ok(p) => Ok(Some(PasteObject::found(p))),
            Err(AppError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn reason(&self) -> &str {
        &self.0.reason
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The reporter's username; null for an anonymous visitor.
    async fn reporter(&self) -> Option<&str> {
        self.0.reporter.as_deref()
    }
}

/// One admin action: who, what, when, why.
#[derive(SimpleObject)]
pub struct AuditEntry {
    id: ID,
    at: DateTime<Utc>,
    /// The admin's username.
    actor: String,
    /// `hide`, `unhide`, `delete`, `ban`, `unban` or `dismiss`.
    action: String,
    /// A paste id, a username or a report id.
    target: String,
    reason: String,
}

impl From<m::AuditEntry> for AuditEntry {
    fn from(e: m::AuditEntry) -> Self {
        Self {
            id: ID(e.id.to_string()),
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            reason: e.reason,
        }
    }
}

fn connection<T, U: async_graphql::OutputType>(
    page: Page<T>,
    has_previous: bool,
    f: impl Fn(T) -> U,
) -> Connection<String, U> {
    let mut c = Connection::new(has_previous, page.has_next);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|(item, cursor)| Edge::new(cursor, f(item))),
    );
    c
}

#[derive(Default)]
pub struct ModerationQuery;

#[Object]
impl ModerationQuery {
    /// Open reports, oldest first (admins only).
    #[graphql(complexity = "first.unwrap_or(50).clamp(1, 100) as usize * child_complexity + 1")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Report>> {
        let page = app(ctx)
            .moderation()
            .reports(caller(ctx)?, first.unwrap_or(50).into(), after.as_deref())
            .await?;
        Ok(connection(page, after.is_some(), Report))
    }

    /// Every admin action, newest first (admins only).
    #[graphql(complexity = "first.unwrap_or(50).clamp(1, 100) as usize * child_complexity + 1")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry>> {
        let page = app(ctx)
            .moderation()
            .audit_log(caller(ctx)?, first.unwrap_or(50).into(), after.as_deref())
            .await?;
        Ok(connection(page, after.is_some(), AuditEntry::from))
    }
}

#[derive(Default)]
pub struct ModerationMutation;

#[Object]
impl ModerationMutation {
    /// Reports a paste to the admins (anyone; rate-limited). `reason`: 1-1000 characters.
    async fn report_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .moderation()
            .report(caller(ctx)?, &id, &reason)
            .await?;
        Ok(true)
    }

    /// Hides a paste (admins): served to nobody else, kept for review.
    async fn hide_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .moderation()
            .hide(caller(ctx)?, &id, &reason)
            .await?;
        Ok(true)
    }

    /// Shows a hidden paste again (admins).
    async fn unhide_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .moderation()
            .unhide(caller(ctx)?, &id, &reason)
            .await?;
        Ok(true)
    }

    /// Deletes any paste (admins).
    async fn remove_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .moderation()
            .remove(caller(ctx)?, &id, &reason)
            .await?;
        Ok(true)
    }

    /// Bans an account (admins): its pastes hidden, its tokens and sign-ins refused.
    async fn ban_account(
        &self,
        ctx: &Context<'_>,
        username: String,
        reason: String,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .moderation()
            .ban(caller(ctx)?, &username, &reason)
            .await?;
        Ok(true)
    }

    /// Lifts a ban (admins); the pastes the ban hid are shown again.
    async fn unban_account(
        &self,
        ctx: &Context<'_>,
        username: String,
        reason: String,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .moderation()
            .unban(caller(ctx)?, &username, &reason)
            .await?;
        Ok(true)
    }

    /// Closes a report without acting on its paste (admins).
    async fn dismiss_report(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<bool> {
        let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
        app(ctx)
            .moderation()
            .dismiss(caller(ctx)?, id, &reason)
            .await?;
        Ok(true)
    }
}
