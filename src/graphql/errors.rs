//! Gives every error of a response its `extensions.code` (and `retryAfter`), and hides what
//! must not leak. Errors async-graphql raises itself (syntax, validation, limits) are the
//! client's: `BAD_USER_INPUT`.

use std::sync::Arc;

use async_graphql::Response;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe,
};
use async_graphql::futures_util::stream::BoxStream;
use futures_util::StreamExt;

use crate::error::{AppError, ErrorCode};

pub(super) struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(with_codes).boxed()
    }
}

/// Sets the code of every error in `response`.
pub(super) fn with_codes(mut response: Response) -> Response {
    for e in &mut response.errors {
        let mut reason = None;
        let (code, retry_after) = match e.source::<AppError>() {
            Some(app_error) => {
                app_error.log();
                reason = app_error.reason();
                (app_error.code(), app_error.retry_after())
            }
            None if e
                .extensions
                .as_ref()
                .is_some_and(|x| x.get("code").is_some()) =>
            {
                continue;
            }
            // Raised by async-graphql before or around the resolvers: the request's fault.
            None if e.path.is_empty() || e.message.starts_with("Failed to parse") => {
                (ErrorCode::BadUserInput, None)
            }
            None => {
                tracing::error!(error = %e.message, path = ?e.path, "unclassified GraphQL error");
                e.message = "internal error".into();
                (ErrorCode::InternalServerError, None)
            }
        };
        let ext = e.extensions.get_or_insert_with(Default::default);
        ext.set("code", code.as_str());
        if let Some(s) = retry_after {
            ext.set("retryAfter", s);
        }
        if let Some(r) = reason {
            ext.set("reason", r);
        }
    }
    response
}
