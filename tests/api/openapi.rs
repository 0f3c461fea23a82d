//! The OpenAPI document: served without authentication, and the same as the repository's copy
//! `docs/openapi.json` (which the SDK comparison of `tests/sdk` reads).

use crate::helpers::{spawn_app, TOKEN_A};
use crate::venv::manifest_dir;

#[tokio::test]
async fn the_served_document_is_the_repositorys_copy() {
    let app = spawn_app().await;
    let reply = app.client.get(app.url("/openapi.json")).send().await.expect("the request is sent");
    assert_eq!(reply.status().as_u16(), 200);
    let content_type = reply.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let served = reply.text().await.unwrap();
    let path = manifest_dir().join("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &served).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        served == kept,
        "docs/openapi.json differs from the document the service serves. Regenerate it with \
         `cargo run -- openapi > docs/openapi.json` (or `UPDATE_OPENAPI=1 cargo test --test api openapi::`) \
         and commit it."
    );
}

#[tokio::test]
async fn the_document_covers_every_operation_with_its_errors() {
    let app = spawn_app().await;
    let doc: serde_json::Value =
        app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    // The README's table of endpoints, as (method, path) pairs, must all be in the document.
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let mut documented = 0;
    let table = readme.split("Implemented endpoints:").nth(1).and_then(|rest| rest.split("\n## ").next());
    let rows = table.expect("the README's table of endpoints").lines().filter(|l| l.starts_with("| `"));
    for line in rows {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let methods: Vec<String> = cells[1].split(',').map(|m| m.trim().trim_matches('`').to_lowercase()).collect();
        for path in cells[2].split(',').map(|p| p.trim().trim_matches('`').split('?').next().unwrap()) {
            for method in &methods {
                let operation = &doc["paths"][path][method.as_str()];
                assert!(operation.is_object(), "{method} {path} (README) is not in the document");
                documented += 1;
                if path.starts_with("/v3/") {
                    let responses = operation["responses"].as_object().unwrap();
                    for status in ["200", "400", "401", "403", "500", "503"] {
                        assert!(responses.contains_key(status), "{method} {path} documents no {status}");
                    }
                    assert!(operation["security"].is_array(), "{method} {path} has no security");
                }
            }
        }
    }
    assert!(documented >= 40, "only {documented} operations read from the README");
}

#[tokio::test]
async fn the_document_needs_no_credential() {
    let app = spawn_app().await;
    // No X-Auth-Token, no signature.
    let reply = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 200);
}

/// The query parameters' bounds in the document (written in `#[utoipa::path]`) are the ones the
/// handlers enforce (written in their `Query` calls): at each bound a list answers 200, one
/// past it 400 `SMS.8001`.
#[tokio::test]
async fn the_documented_query_bounds_are_the_enforced_ones() {
    let app = spawn_app().await;
    let doc: serde_json::Value =
        app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.expect("JSON");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(parameters) = item["get"]["parameters"].as_array() else { continue };
        if !path.starts_with("/v3/") || path.contains('{') {
            continue;
        }
        // Mandatory parameters at their minimum, so that each case varies one parameter.
        let base: Vec<(String, String)> = parameters
            .iter()
            .filter(|p| p["required"] == true)
            .map(|p| (p["name"].as_str().unwrap().to_string(), p["schema"]["minimum"].to_string()))
            .collect();
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap();
            let schema = &parameter["schema"];
            let mut cases: Vec<(String, bool)> = Vec::new();
            if let (Some(min), Some(max)) = (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
                cases.extend([(min.to_string(), true), (max.to_string(), true)]);
                cases.extend([((min - 1).to_string(), false), ((max + 1).to_string(), false)]);
            }
            if let Some(max) = schema["maxLength"].as_u64() {
                let min = schema["minLength"].as_u64().unwrap_or(0);
                cases.extend([("a".repeat(max as usize), true), ("a".repeat(max as usize + 1), false)]);
                cases.push(("a".repeat(min as usize), true));
                if min > 0 {
                    cases.push(("a".repeat(min as usize - 1), false));
                }
            }
            for (value, accepted) in cases {
                let mut query: Vec<(String, String)> = base.iter().filter(|(n, _)| n != name).cloned().collect();
                query.push((name.to_string(), value.clone()));
                let request = app.client.get(app.url(path)).query(&query).header("X-Auth-Token", TOKEN_A);
                let reply = app.send(request).await;
                let (status, code) = if accepted { (200, None) } else { (400, Some("SMS.8001")) };
                let case = format!("GET {path} with {name}={value:?}");
                assert_eq!(reply.status, status, "{case}: {}", reply.body);
                if let Some(code) = code {
                    assert_eq!(reply.body["error_code"], code, "{case}: {}", reply.body);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "only {checked} cases");
}
