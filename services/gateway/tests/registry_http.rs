//! The unit registry over HTTP/JSON: any authenticated caller reads the revision in force; only
//! an operator imports one; a bad file is a 400 naming `document_toml` and every problem, a
//! stale edit a 409-class refusal, another role a 403, no token a 401 — and none of them stores
//! a revision.

mod support;

use dti_auth::Role;
use serde_json::json;
use support::Platform;

const EXPORT: &str = "dti.submission.v1.RegistryService/ExportRegistry";
const IMPORT: &str = "dti.submission.v1.RegistryService/ImportRegistry";

#[tokio::test]
async fn the_registry_is_read_by_anyone_and_changed_by_an_operator_only() -> anyhow::Result<()> {
    let platform = Platform::start(|_| {}).await?;
    let operator = platform.token(Role::Operator);
    let unit = platform.unit_token("quan-1");

    let exported = platform.call(EXPORT, &unit, &json!({})).await;
    exported.expect(200);
    let exported = exported.json();
    assert_eq!(exported["revision"], "1", "{exported}");
    assert_eq!(exported["changedBy"], "seed");
    let seed = exported["documentToml"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(seed.contains("id = \"quan-1\""));

    let new_district = "\n[[units]]\nid = \"huyen-moi\"\nname = \"Huyện Mới\"\nkind = \"district\"\nactive_from = 2024\n";
    let edited = format!("{seed}{new_district}");
    // A bad file names the field and each problem.
    let broken = seed.replacen("\"quan-3\",", "\"quan-99\",", 1);
    let answer = platform
        .call(IMPORT, &operator, &json!({"documentToml": broken}))
        .await;
    answer.expect(400);
    assert_eq!(answer.violated_fields(), ["document_toml"]);
    assert!(answer
        .json()
        .to_string()
        .contains("unit quan-99 is not defined"));
    // Another role, and no token.
    let answer = platform
        .call(IMPORT, &unit, &json!({"documentToml": edited}))
        .await;
    answer.expect(403);
    let answer = platform
        .send(
            reqwest::Method::POST,
            &format!("/v1/{EXPORT}"),
            None,
            Some(("application/json", b"{}".to_vec())),
            &[],
        )
        .await;
    answer.expect(401);
    // An edit made from a revision that is no longer the newest.
    let answer = platform
        .call(
            IMPORT,
            &operator,
            &json!({"documentToml": edited, "expectedRevision": "5"}),
        )
        .await;
    answer.expect(409);
    assert_eq!(platform.backends.count_rows("registry_revisions").await?, 1);

    // The operator's edit is revision 2; the same request again (a retry after a lost answer)
    // succeeds and stores nothing more.
    let request =
        json!({"documentToml": edited, "expectedRevision": "1", "reason": "a district from 2024"});
    let answer = platform.call(IMPORT, &operator, &request).await;
    answer.expect(200);
    let stored = answer.json();
    assert_eq!(stored["revision"], "2", "{stored}");
    assert_eq!(stored["changed"], true, "{stored}");
    let answer = platform.call(IMPORT, &operator, &request).await;
    answer.expect(200);
    let retried = answer.json();
    assert_eq!(retried["revision"], "2", "{retried}");
    assert!(
        retried.get("changed").is_none(),
        "false is left out: {retried}"
    );
    assert_eq!(platform.backends.count_rows("registry_revisions").await?, 2);
    platform.stop().await
}
