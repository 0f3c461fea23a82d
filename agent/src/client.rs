//! The HTTP client: URLs, authentication (token or AK/SK signature), the rate limit, retries of
//! transient failures, and turning error bodies into `ApiError`s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sms_tasks::auth::signature::{payload_hash, SignedRequest, ALGORITHM, DATE_FORMAT};
use tokio_util::sync::CancellationToken;

use crate::options::Credentials;
use crate::ratelimit::RateLimiter;

/// Attempts of one request, the first included, when failures are transient.
const MAX_ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 or 403: the credentials are wrong, which no retry fixes.
    #[error("the service refused the credentials: {0}")]
    Unauthorized(String),
    /// Any other error answer (after retries, for transient ones).
    #[error("{method} {path}: {status} {code}: {message}")]
    Refused { method: Method, path: String, status: u16, code: String, message: String },
    /// No answer (after retries).
    #[error("{method} {path}: {message}")]
    Transport { method: Method, path: String, message: String },
    /// The agent is stopping: a retry was not attempted.
    #[error("stopping")]
    Stopped,
}

impl ApiError {
    /// The answer's `error_code`, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_fatal(&self) -> bool {
        matches!(self, ApiError::Unauthorized(_))
    }
}

pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    credentials: Credentials,
    limiter: RateLimiter,
    stop: CancellationToken,
    requests: AtomicU64,
}

impl Client {
    pub fn new(
        base: url::Url,
        credentials: Credentials,
        max_rps: f64,
        stop: CancellationToken,
    ) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("sms-tasks-agent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, base, credentials, limiter: RateLimiter::new(max_rps), stop, requests: AtomicU64::new(0) })
    }

    /// Requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.send(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.send(Method::PUT, path, &[], Some(body)).await
    }

    /// Sends the request, retrying 502/503/504/429 (after `Retry-After` when given) and
    /// connection failures with exponential backoff; the answer's JSON (`null` when empty).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let url = self.url(path, query);
        let body = body.map(|b| serde_json::to_vec(b).expect("a Value always serializes"));
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let _permit = self.limiter.acquire().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let last = attempt == MAX_ATTEMPTS;
            let wait = match self.request(&method, &url, body.as_deref()).send().await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(response.headers().get(RETRY_AFTER));
                    let request_id = header_text(response.headers().get("x-request-id"));
                    let bytes = response.bytes().await.unwrap_or_default();
                    if status.is_success() {
                        return Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null));
                    }
                    let error = refusal(&method, path, status, &bytes, &request_id);
                    if !is_transient(status) || last {
                        return Err(error);
                    }
                    tracing::warn!(%error, attempt, "transient error, retrying");
                    retry_after.unwrap_or(backoff)
                }
                Err(err) => {
                    let message = error_chain(&err);
                    if !(err.is_connect() || err.is_timeout() || err.is_request()) || last {
                        return Err(ApiError::Transport { method, path: path.to_string(), message });
                    }
                    tracing::warn!(%method, path, error = %message, attempt, "no answer, retrying");
                    backoff
                }
            };
            drop(_permit);
            let jittered = wait.mul_f64(rand::thread_rng().gen_range(0.8..1.2));
            tokio::select! {
                _ = self.stop.cancelled() => return Err(ApiError::Stopped),
                _ = tokio::time::sleep(jittered) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        unreachable!("the last attempt returns")
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn request(&self, method: &Method, url: &url::Url, body: Option<&[u8]>) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method.clone(), url.clone());
        if let Some(body) = body {
            builder = builder.header(CONTENT_TYPE, "application/json").body(body.to_vec());
        }
        match &self.credentials {
            Credentials::Token(token) => builder.header("X-Auth-Token", token),
            Credentials::AccessKey { ak, sk, domain_id } => {
                let (authorization, signed) = sign(method, url, body, ak, sk, domain_id.as_deref(), chrono::Utc::now());
                for (name, value) in signed.into_iter().filter(|(name, _)| name != "host" && name != "content-type") {
                    builder = builder.header(name, value);
                }
                builder.header("Authorization", authorization)
            }
        }
    }
}

/// The SDK's `SDK-HMAC-SHA256` signature of a request: the `Authorization` value and the
/// signed headers (lower-case names, sorted; `host` is the one reqwest sends by itself).
pub fn sign(
    method: &Method,
    url: &url::Url,
    body: Option<&[u8]>,
    ak: &str,
    sk: &str,
    domain_id: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> (String, Vec<(String, String)>) {
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let date = now.format(DATE_FORMAT).to_string();
    let mut headers = vec![("host".to_string(), host), ("x-sdk-date".to_string(), date.clone())];
    if body.is_some() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    if let Some(domain_id) = domain_id {
        headers.push(("x-domain-id".into(), domain_id.to_string()));
    }
    headers.sort();
    let request = SignedRequest {
        method: method.as_str(),
        path: url.path(),
        query: url.query().unwrap_or(""),
        headers: headers.clone(),
        date: &date,
        payload_hash: payload_hash(body.unwrap_or_default(), None),
    };
    let names = headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let authorization = format!("{ALGORITHM} Access={ak}, SignedHeaders={names}, Signature={}", request.sign(sk));
    (authorization, headers)
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the service sends seconds; an HTTP date is ignored).
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let secs: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(60.0)))
}

fn header_text(value: Option<&HeaderValue>) -> String {
    value.and_then(|v| v.to_str().ok()).unwrap_or("-").to_string()
}

fn refusal(method: &Method, path: &str, status: StatusCode, body: &[u8], request_id: &str) -> ApiError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = json["error_code"].as_str().unwrap_or("-").to_string();
    let message = match json["error_msg"].as_str() {
        Some(msg) => format!("{msg} (request {request_id})"),
        None => {
            format!("{} (request {request_id})", String::from_utf8_lossy(body).chars().take(200).collect::<String>())
        }
    };
    if matches!(status.as_u16(), 401 | 403) {
        return ApiError::Unauthorized(format!("{method} {path}: {} {code}: {message}", status.as_u16()));
    }
    ApiError::Refused { method: method.clone(), path: path.to_string(), status: status.as_u16(), code, message }
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sms_tasks::auth::signature::Authorization;

    #[test]
    fn signatures_verify_with_the_services_own_checker() {
        let url = url::Url::parse("http://127.0.0.1:8080/v3/sources?name=sim%20agent&limit=200").unwrap();
        let body = br#"{"name":"x"}"#;
        let now = chrono::Utc::now();
        let (authorization, headers) = sign(&Method::POST, &url, Some(body), "AK", "SK", Some("D"), now);
        let parsed = Authorization::parse(&authorization).unwrap();
        assert_eq!(parsed.access_key, "AK");
        assert_eq!(parsed.signed_headers, ["content-type", "host", "x-domain-id", "x-sdk-date"]);
        assert!(headers.contains(&("host".into(), "127.0.0.1:8080".into())));
        let date = now.format(DATE_FORMAT).to_string();
        let received = SignedRequest {
            method: "POST",
            path: "/v3/sources",
            query: "name=sim%20agent&limit=200",
            headers,
            date: &date,
            payload_hash: payload_hash(body, None),
        };
        assert!(received.verify("SK", &parsed.signature));
        assert!(!received.verify("other", &parsed.signature));
    }

    #[test]
    fn default_ports_are_not_in_the_signed_host() {
        let url = url::Url::parse("http://sms.example/v3/tasks/x").unwrap();
        let (_, headers) = sign(&Method::GET, &url, None, "AK", "SK", None, chrono::Utc::now());
        assert_eq!(headers[0], ("host".into(), "sms.example".into()));
        assert_eq!(headers.len(), 2, "no content-type nor x-domain-id: {headers:?}");
    }

    #[test]
    fn urls_keep_a_base_path_and_encode_queries() {
        let stop = CancellationToken::new();
        let base = url::Url::parse("http://h:1/prefix/").unwrap();
        let client = Client::new(base, Credentials::Token("t".into()), 1.0, stop).unwrap();
        assert_eq!(
            client.url("/v3/sources", &[("name", "a b&c")]).as_str(),
            "http://h:1/prefix/v3/sources?name=a+b%26c"
        );
        assert_eq!(client.url("/v3/tasks/1", &[]).as_str(), "http://h:1/prefix/v3/tasks/1");
    }

    #[test]
    fn retry_after_and_refusals() {
        assert_eq!(retry_after(Some(&HeaderValue::from_static("2"))), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some(&HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"))), None);
        let error = refusal(
            &Method::PUT,
            "/v3/tasks/1/progress",
            StatusCode::BAD_REQUEST,
            br#"{"error_code":"SMS.8009","error_msg":"no"}"#,
            "r1",
        );
        assert_eq!(error.code(), Some("SMS.8009"));
        assert!(!error.is_fatal());
        let error = refusal(&Method::GET, "/v3/sources", StatusCode::UNAUTHORIZED, b"{}", "r2");
        assert!(error.is_fatal());
    }
}
