//! The error of setting up authentication: a credential or header that cannot be used.

/// A client-side secret that cannot be sent, or a header name that cannot carry one.
/// Messages never repeat the secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The secret is empty.
    #[error("the {what} is empty")]
    Empty {
        /// What the secret is ("bearer token", "API key").
        what: &'static str,
    },
    /// The secret has characters an HTTP header cannot carry.
    #[error("the {what} may hold only visible ASCII characters (no spaces or control characters)")]
    NotHeaderSafe {
        /// What the secret is.
        what: &'static str,
    },
    /// The name given for the header that carries an API key is not a valid header name.
    #[error("{name:?} is not a valid HTTP header name")]
    InvalidHeaderName {
        /// The name as given.
        name: String,
    },
}
