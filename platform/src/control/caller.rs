//! Who is calling the control plane: the runtime token in `Authorization: Bearer …`,
//! checked against the host's token store, names the plugin. Nothing the caller sets
//! besides the token counts.

use std::sync::Arc;

use connect_plugin::{Request, Status};

use super::ControlPlane;
use super::members::Member;
use crate::identity::TokenError;

/// The bearer token of a request, if it has one.
pub(crate) fn bearer<T>(request: &Request<T>) -> Option<&str> {
    bearer_in(request.headers())
}

/// The bearer token among `headers`, if there is one.
pub(crate) fn bearer_in(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?;
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl ControlPlane {
    /// The admitted plugin that made `request`, by its runtime token.
    pub(crate) fn caller<T>(&self, request: &Request<T>) -> Result<Arc<Member>, Status> {
        self.caller_of(request.headers())
    }

    /// The admitted plugin whose runtime token is among `headers`.
    pub(crate) fn caller_of(&self, headers: &http::HeaderMap) -> Result<Arc<Member>, Status> {
        let token = bearer_in(headers).ok_or(TokenError::Missing)?;
        let runtime = self.tokens.verify(token)?;
        self.members.get(&runtime).ok_or_else(|| {
            Status::unauthenticated("the plugin this token was issued to is no longer admitted")
        })
    }
}
