//! The OpenAPI document: served without authentication, and the same as the repository's copy
//! `docs/openapi.json` (which the SDK comparison of `tests/sdk` reads).

use crate::helpers::spawn_app;
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
