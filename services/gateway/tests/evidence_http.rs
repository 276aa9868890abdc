//! Evidence over HTTP: a multipart upload streamed into `UploadEvidence`, a streamed download
//! with `Content-Type`, `Content-Length` and the content hash as `ETag`, refusals naming the
//! part and field, another unit's document refused, and an upload that breaks off mid-way
//! storing nothing.

mod support;

use std::time::Duration;

use dti_auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{round_json, Answer, Platform};
use tokio::io::AsyncWriteExt;

const BOUNDARY: &str = "dti-evidence-boundary";

fn multipart(parts: &[(&str, Option<&str>, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content_type, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let file_name = file_name
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file_name}\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn header(unit: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "round": round_json(),
        "unit": {"unitId": unit},
        "indicatorCode": "1.2",
    }))
    .unwrap()
}

async fn upload(platform: &Platform, bearer: &str, body: Vec<u8>) -> Answer {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    platform
        .send(
            Method::POST,
            "/v1/evidence/upload",
            Some(bearer),
            Some((&content_type, body)),
            &[],
        )
        .await
}

async fn open_round(platform: &Platform) {
    let deadline = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    platform
        .call(
            "dti.submission.v1.RoundOperatorService/OpenRound",
            &platform.token(Role::Operator),
            &json!({"round": round_json(), "deadline": deadline, "unitIds": ["quan-1", "quan-3"]}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_document_goes_up_as_multipart_and_comes_down_with_its_hash_as_etag() -> anyhow::Result<()>
{
    let platform = Platform::start(|_| {}).await?;
    open_round(&platform).await;
    let unit = platform.unit_token("quan-1");
    let content = dti_evidence::content_type::samples::pdf(700 * 1024);
    let sha256 = hex::encode(Sha256::digest(&content));

    // Refusals first: nothing may be stored by them.
    let bad_header = upload(
        &platform,
        &unit,
        multipart(&[
            (
                "header",
                None,
                "application/json",
                br#"{"round": {"year": "x"}}"#,
            ),
            ("file", Some("plan.pdf"), "application/pdf", &content),
        ]),
    )
    .await;
    bad_header.expect(400);
    assert_eq!(bad_header.violated_fields(), ["header.round.year"]);
    let no_file = upload(
        &platform,
        &unit,
        multipart(&[("header", None, "application/json", &header("quan-1"))]),
    )
    .await;
    no_file.expect(400);
    assert_eq!(no_file.violated_fields(), ["file"]);
    let not_multipart = platform
        .send(
            Method::POST,
            "/v1/evidence/upload",
            Some(&unit),
            Some(("application/json", b"{}".to_vec())),
            &[],
        )
        .await;
    not_multipart.expect(400);
    assert_eq!(not_multipart.violated_fields(), ["body"]);
    let service_refusal = upload(
        &platform,
        &platform.unit_token("quan-3"),
        multipart(&[
            ("header", None, "application/json", &header("quan-1")),
            ("file", Some("plan.pdf"), "application/pdf", &content),
        ]),
    )
    .await;
    service_refusal.expect(403);
    assert_eq!(
        platform.backends.count_rows("evidence_attachments").await?,
        0
    );

    // The upload: the file part's name and type fill the header.
    let uploaded = upload(
        &platform,
        &unit,
        multipart(&[
            ("header", None, "application/json", &header("quan-1")),
            ("file", Some("ke-hoach.pdf"), "application/pdf", &content),
        ]),
    )
    .await;
    uploaded.expect(200);
    let evidence: Value = uploaded.json()["evidence"].clone();
    assert_eq!(evidence["sha256"], sha256.as_str());
    assert_eq!(evidence["fileName"], "ke-hoach.pdf");
    assert_eq!(evidence["declaredContentType"], "application/pdf");
    assert_eq!(evidence["sizeBytes"], content.len().to_string());
    let id = evidence["evidenceId"].as_str().unwrap().to_owned();

    let path = format!("/v1/evidence/{id}/content");
    let download = platform
        .send(Method::GET, &path, Some(&unit), None, &[])
        .await;
    download.expect(200);
    assert_eq!(download.headers["content-type"], "application/pdf");
    assert_eq!(
        download.headers["content-length"],
        content.len().to_string().as_str()
    );
    let etag = format!("\"{sha256}\"");
    assert_eq!(download.headers["etag"], etag.as_str());
    assert!(
        download.body.as_ref() == content.as_slice(),
        "the bytes come back unchanged"
    );

    let cached = platform
        .send(
            Method::GET,
            &path,
            Some(&unit),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    cached.expect(304);
    assert!(cached.body.is_empty());
    // A verifier may read it; another unit may not; a bad id names the field.
    platform
        .send(
            Method::GET,
            &path,
            Some(&platform.token(Role::Verifier)),
            None,
            &[],
        )
        .await
        .expect(200);
    let other = platform
        .send(
            Method::GET,
            &path,
            Some(&platform.unit_token("quan-3")),
            None,
            &[],
        )
        .await;
    other.expect(403);
    assert_eq!(other.json()["code"], "PERMISSION_DENIED");
    let bad_id = platform
        .send(
            Method::GET,
            "/v1/evidence/not-a-uuid/content",
            Some(&unit),
            None,
            &[],
        )
        .await;
    bad_id.expect(400);
    assert!(
        bad_id
            .violated_fields()
            .iter()
            .any(|field| field.contains("evidence_id")),
        "{}",
        bad_id.json()
    );
    platform.stop().await
}

#[tokio::test]
async fn an_upload_that_breaks_off_stores_nothing() -> anyhow::Result<()> {
    let platform = Platform::start(|_| {}).await?;
    open_round(&platform).await;
    let unit = platform.unit_token("quan-1");
    let content = dti_evidence::content_type::samples::pdf(600 * 1024);
    let body = multipart(&[
        ("header", None, "application/json", &header("quan-1")),
        ("file", Some("plan.pdf"), "application/pdf", &content),
    ]);
    let address = platform.base_url.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address).await?;
    let head = format!(
        "POST /v1/evidence/upload HTTP/1.1\r\nHost: {address}\r\nAuthorization: {unit}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&body[..body.len() / 2]).await?;
    socket.flush().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(socket);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        platform.backends.count_rows("evidence_attachments").await?,
        0
    );
    assert_eq!(platform.backends.count_rows("evidence_objects").await?, 0);

    // The whole document afterwards is new, not "already attached".
    let uploaded = upload(&platform, &unit, body).await;
    uploaded.expect(200);
    assert_ne!(uploaded.json()["alreadyAttached"], true);
    assert_eq!(
        platform.backends.count_rows("evidence_attachments").await?,
        1
    );
    platform.stop().await
}
