//! `dtictl evidence upload|list|download|remove` against the whole platform running
//! in-process: a unit uploads a document in chunks, lists it, downloads the same bytes (as
//! itself and as a verifier) and removes it; bad input exits 2 naming the field, another unit
//! or role exits 4, and removing after the unit submitted is a refused state change (3).

mod support;

use dti_auth::Role;
use sha2::{Digest, Sha256};
use support::{repo_file, text, Stack, ROUND, SAMPLE};

const UNIT: &str = "quan-1";

/// `evidence <command> <args> --year 2023 --framework hcm-2023-district --unit quan-1`.
fn for_unit<'a>(command: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut line = vec!["evidence", command];
    line.extend_from_slice(args);
    line.extend(ROUND);
    line.extend(["--unit", UNIT]);
    line
}

/// Files in `dir` (to see that a download leaves no temporary file behind).
fn files_in(dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_uploads_lists_downloads_and_removes_evidence() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round().await;
    let dir = tempfile::tempdir()?;

    // A PDF of several upload chunks and download chunks.
    let bytes = dti_evidence::content_type::samples::pdf(700 * 1024 + 13);
    let digest = hex::encode(Sha256::digest(&bytes));
    let document = dir.path().join("Báo cáo 1.2.pdf");
    std::fs::write(&document, &bytes)?;
    let document = document.to_string_lossy().into_owned();

    let uploaded = stack
        .json(&for_unit(
            "upload",
            &[
                "--indicator",
                "1.2",
                "--file",
                &document,
                "--content-type",
                "application/pdf",
            ],
        ))
        .await;
    let evidence = &uploaded["evidence"];
    assert_eq!(evidence["sha256"], digest.as_str(), "{uploaded}");
    assert_eq!(evidence["sizeBytes"], bytes.len().to_string(), "{uploaded}");
    assert_eq!(evidence["contentType"], "application/pdf", "{uploaded}");
    assert_eq!(evidence["fileName"], "Báo cáo 1.2.pdf", "{uploaded}");
    assert_eq!(evidence["uploadedBy"], "dtictl-quan-1", "{uploaded}");
    assert!(uploaded.get("alreadyAttached").is_none(), "{uploaded}");
    let id = evidence["evidenceId"]
        .as_str()
        .expect("an evidence id")
        .to_owned();
    // The same bytes again: the existing document comes back.
    let again = stack
        .ok(&for_unit(
            "upload",
            &["--indicator", "1.2", "--file", &document],
        ))
        .await;
    assert!(
        again.contains(&format!("already attached as evidence {id}")),
        "{again}"
    );

    // Listed for the unit and for its indicator, with the indicator's name.
    let listed = stack.json(&for_unit("list", &[])).await;
    let items = listed["evidence"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(&items[0], evidence);
    let of_other = stack.json(&for_unit("list", &["--indicator", "1.4"])).await;
    assert!(of_other.get("evidence").is_none(), "{of_other}");
    let table = stack.ok(&for_unit("list", &["--indicator", "1.2"])).await;
    assert!(
        table.contains(&id) && table.contains("1 document(s)"),
        "{table}"
    );
    assert!(table.contains("Bí thư/Chủ tịch"), "{table}");

    // Downloaded whole, by the unit and by a verifier; no temporary file is left.
    let out_dir = tempfile::tempdir()?;
    let own = out_dir.path().join("own.pdf");
    let own_path = own.to_string_lossy().into_owned();
    let written = stack
        .ok(&[
            "evidence", "download", "--id", &id, "--output", &own_path, "--unit", UNIT,
        ])
        .await;
    assert!(written.contains(&digest), "{written}");
    assert_eq!(std::fs::read(&own)?, bytes);
    let verifier = stack.token(Role::Verifier);
    let theirs = out_dir.path().join("verifier.pdf");
    let theirs_path = theirs.to_string_lossy().into_owned();
    let metadata = {
        let mut args = vec!["--json", "evidence", "download", "--id", &id];
        args.extend(["--output", &theirs_path]);
        let out = stack.dtictl_with(&args, &[("DTI_TOKEN", &verifier)]).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout)?
    };
    assert_eq!(&metadata, evidence);
    assert_eq!(std::fs::read(&theirs)?, bytes);
    assert_eq!(files_in(out_dir.path())?, ["own.pdf", "verifier.pdf"]);

    // Bad input, every problem named, before any call.
    let stderr = stack
        .exits(
            &for_unit("upload", &["--indicator", "99.1", "--file", "/no/such.pdf"]),
            None,
            2,
        )
        .await;
    assert!(
        stderr.contains("indicator 99.1") && stderr.contains("--file"),
        "{stderr}"
    );
    // Bytes the service does not accept are refused by it, naming the field.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "plain text is not evidence")?;
    let stderr = stack
        .exits(
            &for_unit(
                "upload",
                &["--indicator", "1.2", "--file", &notes.to_string_lossy()],
            ),
            None,
            2,
        )
        .await;
    assert!(stderr.contains("chunk"), "{stderr}");
    let stderr = stack
        .exits(&for_unit("list", &["--indicator", "6"]), None, 2)
        .await;
    assert!(stderr.contains("--indicator"), "{stderr}");
    let nowhere = out_dir.path().join("missing/dir/x.pdf");
    let stderr = stack
        .exits(
            &[
                "evidence",
                "download",
                "--id",
                "not-an-id",
                "--output",
                &nowhere.to_string_lossy(),
            ],
            None,
            2,
        )
        .await;
    assert!(
        stderr.contains("--id") && stderr.contains("--output"),
        "{stderr}"
    );
    let stderr = stack
        .exits(
            &["evidence", "remove", "--id", &id, "--reason", " "],
            None,
            2,
        )
        .await;
    assert!(stderr.contains("--reason"), "{stderr}");
    let unknown = "00000000-0000-4000-8000-000000000000";
    stack
        .exits(
            &["evidence", "remove", "--id", unknown, "--reason", "x"],
            None,
            2,
        )
        .await;

    // Another unit's submitter, and an operator, may not touch quan-1's evidence (4).
    let quan_3 = stack.unit_token("quan-3");
    let operator = stack.token(Role::Operator);
    let elsewhere = out_dir.path().join("elsewhere.pdf");
    let elsewhere = elsewhere.to_string_lossy().into_owned();
    for token in [&quan_3, &operator] {
        for args in [
            for_unit("upload", &["--indicator", "1.2", "--file", &document]),
            for_unit("list", &[]),
            vec!["evidence", "download", "--id", &id, "--output", &elsewhere],
            vec!["evidence", "remove", "--id", &id, "--reason", "not ours"],
        ] {
            stack.exits(&args, Some(token), 4).await;
        }
    }
    assert!(!std::path::Path::new(&elsewhere).exists());

    // Removed, with the reason kept; listed only with --include-removed.
    let removed = stack
        .json(&["evidence", "remove", "--id", &id, "--reason", "wrong file"])
        .await;
    assert_eq!(removed["removal"]["reason"], "wrong file", "{removed}");
    assert_eq!(
        removed["removal"]["removedBy"], "dtictl-quan-1",
        "{removed}"
    );
    let listed = stack.json(&for_unit("list", &[])).await;
    assert!(listed.get("evidence").is_none(), "{listed}");
    let with_removed = stack.ok(&for_unit("list", &["--include-removed"])).await;
    assert!(with_removed.contains("removed") && with_removed.contains("wrong file"));

    // Once the unit submitted, its evidence may no longer change (3).
    let kept = stack
        .json(&for_unit(
            "upload",
            &["--indicator", "1.2", "--file", &document],
        ))
        .await;
    let kept = kept["evidence"]["evidenceId"]
        .as_str()
        .expect("id")
        .to_owned();
    let sample = repo_file(SAMPLE);
    stack
        .ok(&[
            "submit", "--year", "2023", "--input", &sample, "--unit", UNIT,
        ])
        .await;
    let stderr = stack
        .exits(
            &[
                "evidence", "remove", "--id", &kept, "--reason", "too late", "--unit", UNIT,
            ],
            None,
            3,
        )
        .await;
    assert!(stderr.contains("FailedPrecondition"), "{stderr}");

    stack.stop().await
}
