//! `dtictl`'s platform commands against the real stack: tokens the services accept, migrations,
//! units submitting a cohort file to a running submission service (twice, changing nothing the
//! second time), and `audit verify` catching a tampered row.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use dti_auth::{JwtVerifier, Role};
use dti_submission::Settings;
use dti_testkit::{TestBackends, TestDatabase};

const SECRET: &str = "test-only-hs256-secret-0123456789abcdef";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dtictl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dtictl"));
    command.args(args);
    for var in [
        "DTI_TOKEN",
        "DTI_AUTH_HS256_SECRET",
        "DTI_DATABASE_URL",
        "DTI_FRAMEWORK_DIR",
    ] {
        command.env_remove(var);
    }
    command.env("DTI_LANG", "en");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("dtictl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn tokens_are_accepted_by_the_services_verifier_and_bad_requests_exit_2() -> anyhow::Result<()> {
    let out = dtictl(
        &["token", "--role", "unit_submitter", "--unit", "quan-1"],
        &[("DTI_AUTH_HS256_SECRET", SECRET)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let verifier = JwtVerifier::hs256(SECRET.as_bytes(), "dti-platform", "dti");
    let principal = verifier.verify(text(&out.stdout).trim())?;
    assert_eq!(principal.role, Role::UnitSubmitter);

    for (args, words) in [
        (vec!["token", "--role", "mayor"], "role \"mayor\""),
        (vec!["token", "--role", "unit_submitter"], "--unit"),
        (
            vec!["token", "--role", "verifier", "--unit", "quan-1"],
            "city-wide",
        ),
    ] {
        let out = dtictl(&args, &[("DTI_AUTH_HS256_SECRET", SECRET)]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(words),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    let short = dtictl(
        &["token", "--role", "operator"],
        &[("DTI_AUTH_HS256_SECRET", "short")],
    );
    assert_eq!(short.status.code(), Some(2));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_brings_an_empty_database_up_to_date() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    for statement in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
        sqlx::query(statement).execute(db.pool()).await?;
    }
    let url = db.url().to_owned();
    let out =
        tokio::task::spawn_blocking(move || dtictl(&["migrate", "--database-url", &url], &[]))
            .await?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('submissions', 'audit_log')",
    )
    .fetch_one(db.pool())
    .await?;
    assert_eq!(tables, 2);
    let bad = dtictl(&["migrate", "--database-url", "mysql://x"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    db.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_submit_a_cohort_file_and_the_audit_chain_catches_tampering() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let config = backends.service_config(Settings::default());
    let service = dti_submission::build(&config).await?.spawn()?;
    let endpoint = service.endpoint();
    let sample = repo().join("deploy/samples/hcm-2023-districts.json");
    let sample = sample.to_string_lossy().into_owned();
    let env = [
        ("DTI_AUTH_HS256_SECRET", SECRET),
        ("DTICTL_SUBMISSION_ENDPOINT", endpoint.as_str()),
    ];

    let run = |args: Vec<String>| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            dtictl(&args, &env)
        })
    };
    let open: Vec<String> = [
        "round",
        "open",
        "--year",
        "2023",
        "--framework",
        "hcm-2023-district",
    ]
    .map(str::to_owned)
    .to_vec();
    let out = run(open).await?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("open"), "{}", text(&out.stdout));

    let submit: Vec<String> = vec![
        "submit".into(),
        "--year".into(),
        "2023".into(),
        "--input".into(),
        sample.clone(),
    ];
    let out = run(submit.clone()).await?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("submitted version 1").count(), 22);
    let out = run(submit).await?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).matches("submitted version 1").count(),
        22,
        "a rerun adds no version"
    );
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM submission_versions")
        .fetch_one(backends.db.pool())
        .await?;
    assert_eq!(versions, 22);

    // A unit outside the round and a wrong endpoint are reported, not hidden.
    let outsider: Vec<String> = vec![
        "submit".into(),
        "--year".into(),
        "2024".into(),
        "--input".into(),
        sample,
    ];
    let out = run(outsider).await?;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("NotFound"),
        "{}",
        text(&out.stderr)
    );

    let url = backends.db.url().to_owned();
    let verify = move |url: String| {
        tokio::task::spawn_blocking(move || {
            dtictl(
                &[
                    "audit",
                    "verify",
                    "--year",
                    "2023",
                    "--framework",
                    "hcm-2023-district",
                    "--database-url",
                    &url,
                ],
                &[],
            )
        })
    };
    let out = verify(url.clone()).await?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("every link holds"));

    sqlx::query(
        "UPDATE audit_log SET actor = 'someone-else' \
         WHERE id = (SELECT id FROM audit_log WHERE chain = 'unit:quan-3' ORDER BY seq LIMIT 1 OFFSET 1)",
    )
    .execute(backends.db.pool())
    .await?;
    let out = verify(url).await?;
    assert_eq!(out.status.code(), Some(3));
    let report = text(&out.stdout);
    assert!(
        report.contains("chain unit:quan-3 entry 2") && report.contains("changed"),
        "{report}"
    );

    service.stop().await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    backends.close().await?;
    Ok(())
}
