//! Who is calling: every API request is authenticated and acts for one domain (tenant).
//!
//! Two kinds of credentials, both stored in PostgreSQL and each tied to a domain: tokens in
//! `X-Auth-Token` (stored as SHA-256 hashes) and access keys that sign requests the way the
//! official SDK does (`SDK-HMAC-SHA256`, see [`signature`]). The [`middleware`] authenticates
//! every `/v3` request and leaves a [`Caller`] for the handlers, whose store calls all take
//! the caller's domain first.

pub mod signature;

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use sha2::Digest;
use sqlx::PgPool;

use self::signature::{Authorization, SignedRequest, DATE_FORMAT};
use crate::db::fault;
use crate::error::ApiError;
use crate::model::DomainId;
use crate::settings::AuthSettings;
use crate::store::credentials::{self, AccessKeyCheck};

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub domain: DomainId,
}

pub const AUTH_TOKEN_HEADER: &str = "X-Auth-Token";
pub const DOMAIN_ID_HEADER: &str = "X-Domain-Id";
pub const SDK_DATE_HEADER: &str = "X-Sdk-Date";
pub const CONTENT_SHA256_HEADER: &str = "X-Sdk-Content-Sha256";

/// Checks a request's credentials against the credential store.
pub struct Authenticator {
    pool: PgPool,
    settings: AuthSettings,
    body_limit: usize,
    /// Tokens found valid in the last `auth.token_cache_secs`, by SHA-256, with their domain:
    /// most token requests then need no lookup (a round trip of their own otherwise). Only
    /// valid tokens are kept, so a new token works at once; a revoked one stops working
    /// within the TTL. `None` when the setting is 0.
    tokens: Option<moka::sync::Cache<[u8; 32], String>>,
}

/// Tokens the cache holds at most (then the least used go first).
const TOKEN_CACHE_CAPACITY: u64 = 100_000;

impl Authenticator {
    pub fn new(pool: PgPool, settings: AuthSettings, body_limit: usize) -> Authenticator {
        let ttl = std::time::Duration::from_secs(settings.token_cache_secs);
        let tokens = (settings.token_cache_secs > 0)
            .then(|| moka::sync::Cache::builder().max_capacity(TOKEN_CACHE_CAPACITY).time_to_live(ttl).build());
        Authenticator { pool, settings, body_limit, tokens }
    }

    /// The domain of a valid token, from the cache or the store.
    async fn token_domain(&self, token: &str) -> Result<Option<String>, ApiError> {
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(domain) = self.tokens.as_ref().and_then(|cache| cache.get(&key)) {
            return Ok(Some(domain));
        }
        let domain = fault::read(async || credentials::token_domain(&self.pool, token).await).await?;
        if let (Some(cache), Some(domain)) = (&self.tokens, &domain) {
            cache.insert(key, domain.clone());
        }
        Ok(domain)
    }

    /// Authenticates `req` and checks that an `X-Domain-Id` it carries names the caller's
    /// own domain (`GlobalCredentials` sends it).
    async fn authorize(&self, req: &mut ServiceRequest) -> Result<Caller, ApiError> {
        let caller = self.authenticate(req).await?;
        let claimed = req.headers().get(DOMAIN_ID_HEADER).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        match claimed {
            Some(claimed) if claimed != caller.domain.as_str() => Err(ApiError::Forbidden(format!(
                "You do not have permission to perform action on resource of domain {claimed}."
            ))),
            _ => Ok(caller),
        }
    }

    /// Authenticates `req`. A signed request's body is read here (its hash is signed) and put
    /// back for the handler.
    async fn authenticate(&self, req: &mut ServiceRequest) -> Result<Caller, ApiError> {
        let authorization = req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(header) = authorization.filter(|h| Authorization::is_sdk_signature(h)) {
            let auth = Authorization::parse(header).map_err(|reason| ApiError::Unauthorized(reason.into()))?;
            let body = self.take_body(req).await?;
            let caller = self.verify_signature(req, &auth, &body).await;
            req.set_payload(Payload::from(body));
            return caller;
        }
        let Some(token) = req.headers().get(AUTH_TOKEN_HEADER) else {
            return Err(ApiError::Unauthorized("x-auth-token not found".into()));
        };
        let token = token.to_str().map_err(|_| ApiError::Unauthorized("decrypt token fail".into()))?;
        let domain =
            self.token_domain(token).await?.ok_or_else(|| ApiError::Unauthorized("decrypt token fail".into()))?;
        Ok(Caller { domain: DomainId(domain) })
    }

    async fn take_body(&self, req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::from_payload(&e))?;
            if body.len() + chunk.len() > self.body_limit {
                return Err(ApiError::PayloadTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    async fn verify_signature(
        &self,
        req: &ServiceRequest,
        auth: &Authorization,
        body: &[u8],
    ) -> Result<Caller, ApiError> {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let date = header(SDK_DATE_HEADER).ok_or_else(|| ApiError::Unauthorized("X-Sdk-Date not found".into()))?;
        let signed_at = chrono::NaiveDateTime::parse_from_str(date, DATE_FORMAT)
            .map_err(|_| ApiError::Unauthorized(format!("X-Sdk-Date {date:?} is not in the format YYYYMMDDTHHMMSSZ")))?
            .and_utc();
        let skew = (chrono::Utc::now() - signed_at).num_seconds().abs();
        if skew > self.settings.max_clock_skew_secs {
            return Err(ApiError::Unauthorized(format!(
                "the request was signed {skew} s away from the server's time (at most {} s allowed)",
                self.settings.max_clock_skew_secs
            )));
        }
        let key = match fault::read(async || credentials::access_key(&self.pool, &auth.access_key).await).await? {
            AccessKeyCheck::Unknown => {
                return Err(ApiError::Unauthorized(format!(
                    "Get secretKey failed,ak:{},err:ak not exist",
                    mask(&auth.access_key)
                )))
            }
            AccessKeyCheck::Revoked => return Err(ApiError::Unauthorized("the access key is revoked".into())),
            AccessKeyCheck::Locked => {
                return Err(ApiError::Unauthorized("AK access failed to reach the limit,forbidden".into()))
            }
            AccessKeyCheck::Active(key) => key,
        };
        let mut headers = Vec::with_capacity(auth.signed_headers.len());
        for name in &auth.signed_headers {
            let Some(value) = req.headers().get(name.as_str()) else {
                self.record_failure(&auth.access_key).await?;
                return Err(ApiError::Unauthorized(format!("the signed header {name} is missing")));
            };
            headers.push((name.clone(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
        }
        let request = SignedRequest {
            method: req.method().as_str(),
            path: req.uri().path(),
            query: req.uri().query().unwrap_or(""),
            headers,
            date,
            payload_hash: signature::payload_hash(body, header(CONTENT_SHA256_HEADER)),
        };
        if !request.verify(&key.secret_key, &auth.signature) {
            self.record_failure(&auth.access_key).await?;
            return Err(ApiError::Unauthorized("verify aksk signature fail".into()));
        }
        if key.consecutive_failures > 0 {
            credentials::reset_failures(&self.pool, &auth.access_key).await?;
        }
        if self.settings.reject_replays {
            // A replay is possible while the signed date is inside the skew window.
            let expires_at = signed_at.timestamp() + self.settings.max_clock_skew_secs;
            if !credentials::first_sighting(&self.pool, &auth.signature, expires_at).await? {
                return Err(ApiError::Unauthorized(
                    "the signature was already used (auth.reject_replays): sign each request anew".into(),
                ));
            }
        }
        Ok(Caller { domain: DomainId(key.domain_id) })
    }

    async fn record_failure(&self, access_key: &str) -> Result<(), ApiError> {
        credentials::record_failure(&self.pool, access_key, self.settings.lockout_failures, self.settings.lockout_secs)
            .await
            .map_err(ApiError::from)
    }
}

/// The first characters of an access key, for messages.
fn mask(access_key: &str) -> String {
    let shown: String = access_key.chars().take(4).collect();
    format!("{shown}******")
}

/// Authenticates every request it wraps; refused requests never reach a handler.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let authenticator = req
        .app_data::<web::Data<Authenticator>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no authenticator configured")))?;
    match authenticator.authorize(&mut req).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(err) => Ok(req.error_response(err).map_into_right_body()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req.extensions().get::<Caller>().cloned();
        ready(caller.ok_or_else(|| ApiError::Unauthorized("x-auth-token not found".into())))
    }
}

/// Stores the credentials named in settings (bootstrap tokens and access keys), so that
/// operators and tests can set them without the CLI.
pub async fn bootstrap(pool: &PgPool, settings: &AuthSettings) -> anyhow::Result<()> {
    for token in &settings.tokens {
        credentials::upsert_token(pool, &token.token, &token.domain_id).await?;
    }
    for key in &settings.access_keys {
        credentials::upsert_access_key(pool, &key.access_key, &key.secret_key, &key.domain_id).await?;
    }
    Ok(())
}
