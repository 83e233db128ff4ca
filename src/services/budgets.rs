//! What each operation costs, charged by the service method that runs it, so every door —
//! GraphQL over HTTP or WebSocket, raw text, `POST /`, the REST API — pays the same for the
//! same operation. README.md ("Limits") has the same table.
//!
//! | operation | budget | cost |
//! |---|---|---|
//! | look a paste up (metadata), read its content, raw text, REST read, reveal | read | 1 |
//! | a page of a listing | read | 1, plus 1 per listed paste whose content is read |
//! | statistics (`pasteStats`, REST hits) | read | 1 |
//! | subscribe to a live view count | read | 1 |
//! | create (GraphQL, `POST /`, REST), delete, edit, fork | create | 1 |
//! | a page of a paste's revisions | read | 1 |
//! | subscribe to a paste's revisions | read | 1 |
//! | register, login, identity-provider sign-in | auth | 1 |
//! | login from an address that never signed in to the account | per username | 1 |
//! | create or revoke an access token | create | 1 |
//! | list one's access tokens | read | 1 |
//! | report a paste | report | 1 |
//! | an admin action (hide, unhide, delete, ban, unban, dismiss) | create | 1 |
//! | a page of the reports or the audit log | read | 1 |
//!
//! Budgets count per client address (IPv6: per /64) and, when signed in, per user as well; a
//! request is refused when either is spent.
//!
//! Charging is also where a credential's scopes and an account's standing are enforced, so no
//! operation can forget them: an access token without the scope an operation needs is refused
//! with `FORBIDDEN`, and so is every operation of a banned account. Reads are counted in process (a Redis round trip
//! per read would cost more than the read); creates and sign-ins are shared by all instances
//! through Redis, and counted in process while Redis is down.

use crate::caller::{Caller, Scopes, Standing};
use crate::config::LimitsConfig;
use crate::error::{AppError, AppResult};

use super::cache::ratelimit::{Budget, RateLimiter, Subject};
use super::cache::redis::Redis;

/// The operations that cost something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Looking a paste up, reading its content (GraphQL, raw, REST), revealing it.
    Read,
    /// One page of a listing.
    ListPage,
    /// Reading the content of a paste that came from a listing.
    ListedContent,
    /// Hourly or monthly statistics.
    Stats,
    /// Starting a live view-count subscription.
    Subscribe,
    Create,
    Delete,
    /// A new revision of a paste.
    Edit,
    /// A copy of a paste as a new paste.
    Fork,
    /// Registering or logging in.
    SignIn,
    /// Creating or revoking an access token.
    ManageTokens,
    /// Reporting a paste to the admins.
    Report,
    /// An admin action on a paste, an account or a report.
    Moderate,
}

impl Operation {
    /// The one table of costs.
    fn cost(self) -> (Budget, u32) {
        match self {
            Self::Read | Self::ListPage | Self::ListedContent | Self::Stats | Self::Subscribe => {
                (Budget::Read, 1)
            }
            Self::Create
            | Self::Delete
            | Self::Edit
            | Self::Fork
            | Self::ManageTokens
            | Self::Moderate => (Budget::Create, 1),
            Self::SignIn => (Budget::Auth, 1),
            Self::Report => (Budget::Report, 1),
        }
    }

    /// The scopes a credential needs for this operation.
    fn needs(self) -> Scopes {
        let (read, write, delete) = match self {
            Self::Read | Self::ListPage | Self::ListedContent | Self::Stats | Self::Subscribe => {
                (true, false, false)
            }
            Self::Create | Self::Edit | Self::Fork | Self::Report | Self::Moderate => {
                (false, true, false)
            }
            Self::Delete => (false, false, true),
            // Signing in has no credential yet; managing tokens needs a sign-in (the access
            // tokens service checks the kind of credential).
            Self::SignIn | Self::ManageTokens => (false, false, false),
        };
        Scopes {
            read,
            write,
            delete,
        }
    }

    fn scope_name(self) -> &'static str {
        let needs = self.needs();
        if needs.delete {
            "delete"
        } else if needs.write {
            "write"
        } else {
            "read"
        }
    }
}

/// Refuses an operation the caller's credential or standing does not allow.
fn check_allowed(caller: &Caller, op: Operation) -> AppResult<()> {
    let Some(user) = caller.viewer.user() else {
        return Ok(());
    };
    if user.standing == Standing::Banned {
        return Err(AppError::Forbidden("this account is suspended"));
    }
    if !user.scopes.covers(op.needs()) {
        return Err(AppError::Forbidden(match op.scope_name() {
            "delete" => "this access token lacks the `delete` scope",
            "write" => "this access token lacks the `write` scope",
            _ => "this access token lacks the `read` scope",
        }));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Budgets {
    limiter: RateLimiter,
}

impl Budgets {
    pub fn new(redis: Redis, limits: &LimitsConfig) -> Self {
        Self {
            limiter: RateLimiter::new(redis, limits),
        }
    }

    /// One sign-in attempt for `username` from an address that never signed in to it: the
    /// per-username budget, shared by every address.
    pub async fn charge_sign_in_as(&self, username: &str) -> AppResult<()> {
        self.limiter
            .check(Budget::Username, &[Subject::username(username)], 1)
            .await
    }

    /// Takes `op` from the caller's budgets, or refuses with `RATE_LIMITED` and when to retry.
    pub async fn charge(&self, caller: &Caller, op: Operation) -> AppResult<()> {
        check_allowed(caller, op)?;
        let (budget, n) = op.cost();
        let ip = Subject::Ip(caller.addr.budget_key());
        match (budget, caller.user_id()) {
            // Signing in happens before there is a user to count against.
            (Budget::Auth, _) | (_, None) => self.limiter.check(budget, &[ip], n).await,
            (_, Some(user)) => {
                self.limiter
                    .check(budget, &[ip, Subject::User(user)], n)
                    .await
            }
        }
    }
}
