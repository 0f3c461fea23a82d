//! Who is calling: every API request is authenticated and acts for one domain (tenant).
//!
//! Credentials are checked by an [`Authenticator`]; the first kind is `X-Auth-Token` against the
//! tokens from settings. A request handler asks for a [`Caller`] and gets the caller's domain,
//! which every store function takes as its first argument.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::error::ApiError;
use crate::settings::TokenSetting;

/// A tenant: every task, server and nested row belongs to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainId(pub String);

impl DomainId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub domain: DomainId,
}

/// Checks a request's credentials.
pub struct Authenticator {
    tokens: HashMap<String, DomainId>,
}

pub const AUTH_TOKEN_HEADER: &str = "X-Auth-Token";

impl Authenticator {
    pub fn new(tokens: &[TokenSetting]) -> Authenticator {
        let tokens = tokens.iter().map(|t| (t.token.clone(), DomainId(t.domain_id.clone()))).collect();
        Authenticator { tokens }
    }

    pub fn authenticate(&self, req: &HttpRequest) -> Result<Caller, ApiError> {
        let Some(token) = req.headers().get(AUTH_TOKEN_HEADER) else {
            return Err(ApiError::Unauthorized("x-auth-token not found".into()));
        };
        token
            .to_str()
            .ok()
            .and_then(|token| self.tokens.get(token))
            .map(|domain| Caller { domain: domain.clone() })
            .ok_or_else(|| ApiError::Unauthorized("decrypt token fail".into()))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<Authenticator>>() {
            Some(authenticator) => authenticator.authenticate(req),
            None => Err(ApiError::Internal(anyhow::anyhow!("no authenticator configured"))),
        };
        ready(result)
    }
}
