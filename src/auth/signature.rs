//! The SDK's default request signature, `SDK-HMAC-SHA256` (huaweicloudsdkcore `signer.py`;
//! `sms-api-facts.md` §4.1), verified from what was received.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The SHA-256 of an empty body.
pub const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// `X-Sdk-Date`'s format, e.g. `20261122T064914Z`.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Python's `quote(s, safe='~')`: everything but `A-Z a-z 0-9 _ . - ~` is percent-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~');

/// The parts of `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Headers every signature must cover.
const REQUIRED_SIGNED_HEADERS: [&str; 2] = ["host", "x-sdk-date"];

impl Authorization {
    /// `None` when the header is not an `SDK-HMAC-SHA256` authorization at all.
    pub fn is_sdk_signature(header: &str) -> bool {
        header.starts_with(ALGORITHM) && header[ALGORITHM.len()..].starts_with(' ')
    }

    pub fn parse(header: &str) -> Result<Authorization, &'static str> {
        let rest = header.strip_prefix(ALGORITHM).ok_or("unsupported signing algorithm")?;
        let (mut access, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (key, value) = part.trim().split_once('=').ok_or("malformed Authorization header")?;
            match key {
                "Access" => access = Some(value.to_string()),
                "SignedHeaders" => signed = Some(value.split(';').map(str::to_ascii_lowercase).collect()),
                "Signature" => signature = Some(value.to_string()),
                _ => {}
            }
        }
        let signed_headers: Vec<String> = signed.ok_or("Authorization has no SignedHeaders")?;
        // Unsigned, the Host could be changed (the request replayed against another service)
        // and the date too (replayed forever). The official SDK always signs both.
        for required in REQUIRED_SIGNED_HEADERS {
            if !signed_headers.iter().any(|h| h == required) {
                return Err(if required == "host" {
                    "SignedHeaders must include host"
                } else {
                    "SignedHeaders must include x-sdk-date"
                });
            }
        }
        Ok(Authorization {
            access_key: access.filter(|a: &String| !a.is_empty()).ok_or("Authorization has no Access")?,
            signed_headers,
            signature: signature.ok_or("Authorization has no Signature")?,
        })
    }
}

/// What a signature covers, as received.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub path: &'a str,
    /// The query string as received (percent-encoded, without `?`).
    pub query: &'a str,
    /// `(lower-case name, value)` of each signed header, in `SignedHeaders` order.
    pub headers: Vec<(String, String)>,
    pub date: &'a str,
    /// Hex SHA-256 of the body, or the value of `X-Sdk-Content-Sha256` when sent.
    pub payload_hash: String,
}

/// The payload hash the SDK signs: the empty-body hash for an empty body, else the value of
/// `X-Sdk-Content-Sha256` when present, else the body's SHA-256.
pub fn payload_hash(body: &[u8], content_sha256_header: Option<&str>) -> String {
    if body.is_empty() {
        return EMPTY_BODY_SHA256.to_string();
    }
    match content_sha256_header {
        Some(value) => value.to_string(),
        None => hex::encode(Sha256::digest(body)),
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Each path segment decoded, then encoded as the SDK does; always ending in `/`.
pub fn canonical_uri(path: &str) -> String {
    let mut uri = decode(path).split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The query's `(key, value)` pairs decoded, sorted, and encoded as the SDK does.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

impl SignedRequest<'_> {
    pub fn canonical_request(&self) -> String {
        let headers: String = self.headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
        let names = self.headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
        format!(
            "{}\n{}\n{}\n{headers}\n{names}\n{}",
            self.method.to_ascii_uppercase(),
            canonical_uri(self.path),
            canonical_query(self.query),
            self.payload_hash
        )
    }

    pub fn string_to_sign(&self) -> String {
        format!("{ALGORITHM}\n{}\n{}", self.date, hex::encode(Sha256::digest(self.canonical_request())))
    }

    /// The signature the SDK computes with `secret_key`.
    pub fn sign(&self, secret_key: &str) -> String {
        hex::encode(self.mac(secret_key).finalize().into_bytes())
    }

    /// Whether `signature` (hex) is right for `secret_key`, compared in constant time.
    pub fn verify(&self, secret_key: &str, signature: &str) -> bool {
        match hex::decode(signature) {
            Ok(bytes) => self.mac(secret_key).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    fn mac(&self, secret_key: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(self.string_to_sign().as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uri_matches_the_sdk() {
        assert_eq!(canonical_uri("/v3/tasks"), "/v3/tasks/");
        assert_eq!(canonical_uri("/v3/tasks/"), "/v3/tasks/");
        assert_eq!(canonical_uri("/v3/tasks/id%20with%20space"), "/v3/tasks/id%20with%20space/");
        assert_eq!(canonical_uri("/v3/tasks/%C3%BC"), "/v3/tasks/%C3%BC/");
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(
            canonical_query("state=READY&limit=5&name=a%20b%2F%C3%BC"),
            "limit=5&name=a%20b%2F%C3%BC&state=READY"
        );
        assert_eq!(canonical_query("b=2&a=2&a=1"), "a=1&a=2&b=2");
    }

    #[test]
    fn authorization_header_parses() {
        let header = "SDK-HMAC-SHA256 Access=MYAK, SignedHeaders=content-type;host;x-sdk-date, Signature=abc";
        assert!(Authorization::is_sdk_signature(header));
        let auth = Authorization::parse(header).unwrap();
        assert_eq!(auth.access_key, "MYAK");
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-sdk-date"]);
        assert_eq!(auth.signature, "abc");
        assert!(Authorization::parse("SDK-HMAC-SHA256 Access=, SignedHeaders=a, Signature=b").is_err());
        assert_eq!(
            Authorization::parse("SDK-HMAC-SHA256 Access=A, SignedHeaders=content-type;x-sdk-date, Signature=b").err(),
            Some("SignedHeaders must include host")
        );
        assert_eq!(
            Authorization::parse("SDK-HMAC-SHA256 Access=A, SignedHeaders=Host, Signature=b").err(),
            Some("SignedHeaders must include x-sdk-date")
        );
        assert!(!Authorization::is_sdk_signature("Bearer x"));
    }

    /// A request the official SDK's own signer signed (huaweicloudsdkcore 3.1.219,
    /// `Signer.sign`, AK `MYAK`, SK `MYSK`), not this code.
    struct Vector {
        method: &'static str,
        path: &'static str,
        query: &'static str,
        body: &'static str,
        content_type: Option<&'static str>,
        signature: &'static str,
    }

    const SDK_VECTORS: &[Vector] = &[
        Vector {
            method: "GET",
            path: "/v3/tasks",
            query: "limit=10&offset=0",
            body: "",
            content_type: None,
            signature: "a5e3d10006bbfe8e30914d1a20964a3e75b0e6589c7ec73c885b26e5f9df6836",
        },
        Vector {
            method: "GET",
            path: "/v3/tasks",
            query: "name=a%20b%2F%C3%BC&state=READY&tag=a&tag=z&tag=%C3%A4",
            body: "",
            content_type: None,
            signature: "9e2c104aa26c7ca245ad5d3295b5d8d4da3cce42c60961edad6dcb2928ef28ef",
        },
        Vector {
            method: "GET",
            path: "/v3/tasks/id%20with%20space",
            query: "",
            body: "",
            content_type: None,
            signature: "f1f4b4f5645500129cbfb85b5f7a50e12c41ca3ee7ea512f40000da52e4ad796",
        },
        Vector {
            method: "POST",
            path: "/v3/tasks",
            query: "",
            body: r#"{"name": "new", "type": "MIGRATE_FILE"}"#,
            content_type: None,
            signature: "3aeee16c6ac7e973a9dedab7e3c6d9e03771eb2dc7571d030ab9d94cc7896f56",
        },
        Vector {
            method: "PUT",
            path: "/v3/tasks/%C3%BCber%2Fslash",
            query: "x=1",
            body: r#"{"name": "\u00fc"}"#,
            content_type: Some("application/json;charset=UTF-8"),
            signature: "6e2c02e12c9c38bcdfdc321100ac2384613072051c6d8feafb50983780a46f55",
        },
    ];

    fn vector_request<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        body: &str,
        content_type: Option<&str>,
        unsigned: bool,
    ) -> SignedRequest<'a> {
        let mut headers = vec![("content-type".to_string(), content_type.unwrap_or("application/json").to_string())];
        headers.push(("host".into(), "127.0.0.1:8080".into()));
        headers.push(("user-agent".into(), "huaweicloud-usdk-python/3.0; test".into()));
        headers.push(("x-domain-id".into(), "dom1".into()));
        if unsigned {
            headers.push(("x-sdk-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
        }
        headers.push(("x-sdk-date".into(), "20261122T064914Z".into()));
        SignedRequest {
            method,
            path,
            query,
            headers,
            date: "20261122T064914Z",
            payload_hash: payload_hash(body.as_bytes(), unsigned.then_some("UNSIGNED-PAYLOAD")),
        }
    }

    #[test]
    fn signatures_computed_by_the_sdk_verify() {
        for v in SDK_VECTORS {
            let request = vector_request(v.method, v.path, v.query, v.body, v.content_type, false);
            assert!(request.verify("MYSK", v.signature), "{} {}?{}", v.method, v.path, v.query);
            assert_eq!(request.sign("MYSK"), v.signature);
            assert!(!request.verify("OTHER", v.signature), "a wrong SK must fail: {} {}", v.method, v.path);
        }
    }

    #[test]
    fn an_unsigned_payload_with_a_non_json_body_verifies() {
        let request = vector_request("POST", "/v3/sources", "", "raw bytes", Some("text/plain"), true);
        assert!(request.verify("MYSK", "8770d307a07037fdeb21b1ed57789fa86ccbecfd8f233132041974a1013ab39a"));
    }

    #[test]
    fn a_changed_body_query_or_header_fails() {
        let Vector { method, path, query, body, content_type, signature } = SDK_VECTORS[3];
        let changed_body =
            vector_request(method, path, query, r#"{"name": "old", "type": "MIGRATE_FILE"}"#, content_type, false);
        assert!(!changed_body.verify("MYSK", signature));
        let changed_query = vector_request(method, path, "x=2", body, content_type, false);
        assert!(!changed_query.verify("MYSK", signature));
        let mut changed_header = vector_request(method, path, query, body, content_type, false);
        changed_header.headers[2].1.push('!');
        assert!(!changed_header.verify("MYSK", signature));
        assert!(!vector_request(method, path, query, body, content_type, false).verify("MYSK", "not hex"));
    }
}
