//! Ready-made interceptors, between the call layer ([`crate::rpc`]) and plugins: each is an
//! [`Interceptor`](crate::rpc::Interceptor) added to a `Router` (server side) or a `Client`
//! (client side). [`auth`] authenticates callers (bearer token, API key, mutual-TLS
//! certificate) and authorizes them per method; [`rate_limit`] limits calls per caller.

pub mod auth;
pub mod rate_limit;
