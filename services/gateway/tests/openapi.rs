//! The committed OpenAPI document (`docs/openapi.json`) is the one the gateway generates from
//! the proto descriptors, and it covers every public RPC with its doc comment and schemas.

use std::path::PathBuf;

use dti_gateway::catalog::{descriptor_pool, public_services};
use dti_gateway::openapi::document;

const REGENERATE: &str = "DTI_GATEWAY_WRITE_OPENAPI=1 cargo test -p dti-gateway --test openapi";

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn the_committed_document_is_current() {
    let pool = descriptor_pool().expect("the descriptors decode");
    let mut generated = serde_json::to_string_pretty(&document(&pool)).expect("JSON renders");
    generated.push('\n');
    let path = committed_path();
    if std::env::var_os("DTI_GATEWAY_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("docs/openapi.json is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not current with the proto files; regenerate it with `{REGENERATE}`"
    );
}

#[test]
fn every_rpc_has_a_path_with_its_comment_and_schemas() {
    let pool = descriptor_pool().expect("the descriptors decode");
    let document = document(&pool);
    let mut rpcs = 0;
    for service in public_services(&pool) {
        for method in service.methods() {
            rpcs += 1;
            let path = format!("/v1/{}/{}", service.full_name(), method.name());
            let operation = &document["paths"][&path]["post"];
            assert!(
                operation["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{path} has its doc comment"
            );
            for status in ["200", "400", "401", "403", "404", "409", "429", "503"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{path} documents {status}"
                );
            }
            let input = method.input();
            let schema = &document["components"]["schemas"][input.full_name()];
            assert_eq!(
                schema["type"],
                "object",
                "{} has a schema",
                input.full_name()
            );
        }
    }
    let paths = document["paths"].as_object().expect("paths");
    assert_eq!(
        paths.len(),
        rpcs + 2,
        "a path per RPC and the two evidence routes"
    );
    let year = &document["components"]["schemas"]["dti.common.v1.RoundRef"]["properties"]["year"];
    assert_eq!(year["type"], "integer");
    assert_eq!(year["description"], "Assessment year, e.g. 2023.");
    let size =
        &document["components"]["schemas"]["dti.evidence.v1.Evidence"]["properties"]["sizeBytes"];
    assert_eq!(
        size["type"], "string",
        "64-bit integers are strings in the JSON mapping"
    );
    let uploaded_at =
        &document["components"]["schemas"]["dti.evidence.v1.Evidence"]["properties"]["uploadedAt"];
    assert_eq!(uploaded_at["format"], "date-time");
    assert!(document["components"]["schemas"]["ErrorBody"]["required"]
        .as_array()
        .is_some_and(|required| required.len() == 3));
    assert!(document["paths"]["/v1/evidence/upload"]["post"].is_object());
    assert!(document["paths"]["/v1/evidence/{evidenceId}/content"]["get"].is_object());
}
