//! Admission: the host's `HandshakeService`, called by self-registering plugins. A plugin
//! is admitted only with a credential the host was configured with (a join token as
//! `Authorization: Bearer …`, for its self id, or a client certificate from the CA the
//! host's TLS server trusts, naming its self id), or in an explicit development mode that
//! logs loudly; the magic cookie alone admits nobody. Admission checks what it declares
//! against the policy and its address against the allow-list, assigns a runtime id and a
//! runtime token, and starts the address check.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::plugin::handshake::CORE_PROTOCOL_VERSION;
use connect_plugin::{Request, Response, Status};

use super::ControlPlane;
use super::caller::bearer;
use super::members::Member;
use crate::address::Address;
use crate::identity::{RuntimeId, check_self_id};
use crate::registry::names;
use crate::version::{VersionFilter, parse_version};

/// The host's `HandshakeService`.
#[derive(Debug, Clone)]
pub struct Admission(pub(crate) Arc<ControlPlane>);

pub(crate) fn to_timestamp(t: std::time::SystemTime) -> pbjson_types::Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    pbjson_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

impl ControlPlane {
    fn check_declarations(&self, req: &cp::HandshakeRequest) -> Result<(), Status> {
        let max = self.members.limits().max_declarations;
        if req.provides.len() > max || req.requires.len() > max {
            return Err(Status::resource_exhausted(format!(
                "a plugin may declare at most {max} provided and {max} required services"
            )));
        }
        for p in &req.provides {
            names::check_service_type(&p.r#type)?;
            names::check_service_name(&p.service_name)?;
            parse_version(&p.version).map_err(crate::registry::RegistryError::from)?;
            if !self.config.policy.may_provide(&req.self_id, &p.r#type) {
                return Err(Status::permission_denied(format!(
                    "{} may not provide {:?} on this host",
                    req.self_id, p.r#type
                )));
            }
        }
        for r in &req.requires {
            names::check_service_type(&r.r#type)?;
            VersionFilter::parse(&r.min_version).map_err(crate::registry::RegistryError::from)?;
            if !self.config.policy.may_require(&req.self_id, &r.r#type) {
                return Err(Status::permission_denied(format!(
                    "{} may not use {:?} on this host",
                    req.self_id, r.r#type
                )));
            }
        }
        Ok(())
    }

    /// Whether the request carries a credential that admits `self_id`: a join token, or
    /// a verified client certificate naming it.
    fn admits<T>(&self, request: &Request<T>, self_id: &str) -> Result<(), Status> {
        if let (Some(mtls), Some(certs)) = (
            &self.config.certificate_admission,
            request
                .extensions()
                .get::<connect_plugin::rpc::PeerCertificates>(),
        ) {
            let identity = mtls.identity_for(certs)?;
            if identity.principal() == self_id {
                return Ok(());
            }
            tracing::warn!(
                self_id,
                certificate = identity.principal(),
                "admission refused: the client certificate names another plugin"
            );
            return Err(Status::unauthenticated(
                "the client certificate does not name this self id",
            ));
        }
        if let Some(token) = bearer(request) {
            if self.config.join_tokens.admits(self_id, token.as_bytes()) {
                return Ok(());
            }
            tracing::warn!(
                self_id,
                "admission refused: the join token is not valid for this self id"
            );
            return Err(Status::unauthenticated(
                "the join token is not valid for this self id",
            ));
        }
        if self.config.development_mode {
            tracing::warn!(
                self_id,
                "DEVELOPMENT MODE: admitting a plugin without a credential; never run a host like this in production"
            );
            return Ok(());
        }
        Err(Status::unauthenticated(
            "admission needs a join token: send `Authorization: Bearer <join token>`",
        ))
    }
}

#[connect_plugin::async_trait]
impl cp::HandshakeService for Admission {
    async fn handshake(
        &self,
        request: Request<cp::HandshakeRequest>,
    ) -> Result<Response<cp::HandshakeResponse>, Status> {
        let plane = &self.0;
        let req = request.get_ref();
        if req.core_protocol_version != CORE_PROTOCOL_VERSION {
            return Err(Status::invalid_argument(format!(
                "core protocol version {} is not this host's {CORE_PROTOCOL_VERSION}",
                req.core_protocol_version
            )));
        }
        let app_version = plane
            .config
            .app_versions
            .iter()
            .copied()
            .filter(|v| req.app_protocol_versions.contains(v))
            .max()
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "no common application protocol version: the host speaks {:?}, the plugin {:?}",
                    plane.config.app_versions, req.app_protocol_versions
                ))
            })?;
        if let Some(cookie) = &plane.config.cookie {
            if req.magic_cookie_key != cookie.key || req.magic_cookie_value != cookie.value {
                return Err(Status::invalid_argument(
                    "wrong magic cookie: this is not a host of this application",
                ));
            }
        }
        check_self_id(&req.self_id)?;
        plane.admits(&request, &req.self_id)?;
        plane.check_declarations(req)?;
        let address = match req.address.as_str() {
            "" => None,
            text => {
                let address =
                    Address::parse(text).map_err(|e| Status::invalid_argument(e.to_string()))?;
                plane
                    .config
                    .allow
                    .check(&address)
                    .map_err(|e| Status::permission_denied(e.to_string()))?;
                if address.is_tls() && plane.config.provider_tls.is_none() {
                    return Err(Status::failed_precondition(
                        "this host calls no TLS providers (it has no TLS settings for them): declare an http or unix address",
                    ));
                }
                Some(address)
            }
        };
        let runtime_id = RuntimeId::generate(&req.self_id)?;
        let member = Arc::new(Member::new(
            runtime_id.clone(),
            req.self_id.clone(),
            req.self_version.clone(),
            req.provides.clone(),
            req.requires.clone(),
            address,
        ));
        plane
            .members
            .insert(member.clone())
            .map_err(|e| Status::resource_exhausted(e.to_string()))?;
        let issued = match plane.tokens.issue(&runtime_id) {
            Ok(issued) => issued,
            Err(e) => {
                plane.members.remove(&runtime_id);
                return Err(e.into());
            }
        };
        if member.address.is_some() {
            plane.verify_address(member.clone());
        }
        tracing::info!(runtime_id = %runtime_id, self_version = %req.self_version, "plugin admitted");
        plane.events.emit(crate::events::PlatformEvent::Admitted {
            runtime_id: runtime_id.to_string(),
        });
        Ok(Response::new(cp::HandshakeResponse {
            core_protocol_version: CORE_PROTOCOL_VERSION,
            app_protocol_version: app_version,
            plugins: Vec::new(),
            runtime_id: runtime_id.to_string(),
            runtime_token: issued.token,
            token_expires_at: Some(to_timestamp(issued.expires_at)),
            capabilities: Vec::new(),
        }))
    }
}
