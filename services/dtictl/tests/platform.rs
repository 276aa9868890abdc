//! `dtictl`'s platform commands against the real stack: tokens the services accept, migrations,
//! units submitting a cohort file to a running submission service (twice, changing nothing the
//! second time), and `audit verify` catching a tampered row.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use dti_auth::{AuthError, JwtVerifier, Role};
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
        "DTI_TENANT",
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

/// `dtictl audit verify` of round 2023/hcm-2023-district on the database at `url`, with `extra`
/// arguments.
fn audit_verify(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "audit",
        "verify",
        "--year",
        "2023",
        "--framework",
        "hcm-2023-district",
        "--database-url",
        url,
    ];
    args.extend_from_slice(extra);
    dtictl(&args, env)
}

/// The services' verifier of `tenant` (HS256 with the test secret).
fn tenant_verifier(tenant: &str) -> anyhow::Result<JwtVerifier> {
    Ok(JwtVerifier::from_config(&dti_config::AuthConfig {
        hs256_secret: Some(secrecy::SecretString::from(SECRET)),
        issuer: "dti-platform".to_owned(),
        audience: "dti".to_owned(),
        tenant: Some(tenant.to_owned()),
        ..dti_config::AuthConfig::default()
    })?)
}

/// A token minted for a tenant (`--tenant` or `DTI_TENANT`) is accepted by that tenant's
/// services only; a tenant that is no tenant id exits 2 naming the option, printing no token.
#[test]
fn tokens_for_a_tenant_pass_that_tenants_services_only_and_bad_tenants_exit_2() -> anyhow::Result<()>
{
    let secret = [("DTI_AUTH_HS256_SECRET", SECRET)];
    let hn = dtictl(&["token", "--role", "operator", "--tenant", "hn"], &secret);
    assert_eq!(hn.status.code(), Some(0), "{}", text(&hn.stderr));
    let hn_token = text(&hn.stdout).trim().to_owned();
    assert_eq!(
        tenant_verifier("hn")?.verify(&hn_token)?.role,
        Role::Operator
    );
    assert!(
        matches!(
            tenant_verifier("hcm")?.verify(&hn_token),
            Err(AuthError::WrongTenant { token, served }) if token == "hn" && served == "hcm"
        ),
        "a token of hn passed a service of hcm"
    );

    let hcm = dtictl(
        &["token", "--role", "operator"],
        &[secret[0], ("DTI_TENANT", "hcm")],
    );
    assert_eq!(hcm.status.code(), Some(0), "{}", text(&hcm.stderr));
    tenant_verifier("hcm")?.verify(text(&hcm.stdout).trim())?;

    for bad in ["Hà Nội", "HN", "1hn", "hn_2024"] {
        let out = dtictl(&["token", "--role", "operator", "--tenant", bad], &secret);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.contains("--tenant") && stderr.contains(bad),
            "{bad:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{bad:?}: a token was printed");
    }
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

/// The commands that work on the database directly keep to its tenant as the services do: a
/// database of tenant `hn` is refused (exit 3, naming both tenants, nothing done) to `--tenant
/// hcm` and to a caller of no tenant, served to `--tenant hn` (or `DTI_TENANT`); a malformed
/// tenant exits 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_commands_refuse_a_database_of_another_tenant() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    sqlx::query("INSERT INTO platform_tenant (tenant) VALUES ('hn')")
        .execute(db.pool())
        .await?;
    let url = db.url().to_owned();
    let runs = tokio::task::spawn_blocking(move || {
        let audit = |tenant: &[&str], env: &[(&str, &str)]| audit_verify(&url, tenant, env);
        [
            audit(&["--tenant", "hcm"], &[]),
            audit(&[], &[]),
            audit(&["--tenant", "hn"], &[]),
            audit(&[], &[("DTI_TENANT", "hn")]),
            audit(&["--tenant", "Hà Nội"], &[]),
            dtictl(&["migrate", "--database-url", &url, "--tenant", "hcm"], &[]),
            dtictl(&["bus", "dead-letters", "--database-url", &url], &[]),
        ]
    })
    .await?;
    let [other, none, own, own_by_env, malformed, migrate_other, bus_none] = runs;
    for (out, words) in [
        (&other, vec!["hn", "hcm", "--tenant"]),
        (&none, vec!["hn", "--tenant hn"]),
        (&migrate_other, vec!["hn", "hcm"]),
        (&bus_none, vec!["hn", "--tenant hn"]),
    ] {
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(words.iter().all(|word| stderr.contains(word)), "{stderr}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
    for out in [&own, &own_by_env] {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    assert_eq!(malformed.status.code(), Some(2));
    assert!(text(&malformed.stderr).contains("Hà Nội"));
    let owner: String = sqlx::query_scalar("SELECT tenant FROM platform_tenant")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(owner, "hn");
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
    // quan-5's general information travels with its values; its civil servants (115) differ
    // from 4.3 e (113), a warning shown on submit and stored anyway.
    assert!(
        text(&out.stderr).contains("unit quan-5 / indicator 4.3 / variable e"),
        "{}",
        text(&out.stderr)
    );
    let stored: serde_json::Value = sqlx::query_scalar(
        "SELECT v.general_info FROM submission_versions v JOIN submissions s \
         ON s.id = v.submission_id WHERE s.unit_id = 'quan-5' AND v.version = 1",
    )
    .fetch_one(backends.db.pool())
    .await?;
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sample)?)?;
    let quan_5 = file["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["unit"] == "quan-5"))
        .expect("quan-5 is in the sample");
    assert_eq!(stored, quan_5["general_info"]);
    assert_eq!(stored["civil_servants"], 115);
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
    let verify =
        move |url: String| tokio::task::spawn_blocking(move || audit_verify(&url, &[], &[]));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_lists_dead_letters_and_asks_their_consumer_to_replay_them() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    // Two messages the scoring service's consumer gave up on, as `dti_bus` keeps them.
    for id in ["submission/a/v1", "submission/b/v1"] {
        sqlx::query(
            "INSERT INTO dead_letters (consumer, msg_id, subject, payload, headers, deliveries, \
             error) VALUES ('scoring-on-submission', $1, 'dti.submission.submitted.v1', \
             '\\x00'::bytea, '{}', 20, 'handler: the round is gone')",
        )
        .bind(id)
        .execute(db.pool())
        .await?;
    }
    let url = db.url().to_owned();
    let run = |args: &[&str]| {
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.extend(["--database-url".to_owned(), url.clone()]);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            dtictl(&args, &[])
        })
    };

    let listed = run(&["bus", "dead-letters", "--json"]).await?;
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout)?;
    let letters = listed["dead_letters"].as_array().expect("a list");
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0]["error"], "handler: the round is gone");
    let table = run(&["bus", "dead-letters", "--consumer", "scoring-on-submission"]).await?;
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    assert!(
        table.contains("last error") && table.contains("submission/b/v1"),
        "{table}"
    );

    let one = run(&[
        "bus",
        "replay",
        "--consumer",
        "scoring-on-submission",
        "--msg-id",
        "submission/a/v1",
    ])
    .await?;
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert!(
        text(&one.stdout).contains("1 dead letter(s)"),
        "{}",
        text(&one.stdout)
    );
    let requested = |id: &'static str| {
        sqlx::query_scalar::<_, bool>(
            "SELECT replay_requested_at IS NOT NULL FROM dead_letters WHERE msg_id = $1",
        )
        .bind(id)
        .fetch_one(db.pool())
    };
    assert!(requested("submission/a/v1").await?);
    assert!(!requested("submission/b/v1").await?);
    let all = run(&[
        "bus",
        "replay",
        "--consumer",
        "scoring-on-submission",
        "--all",
    ])
    .await?;
    assert_eq!(all.status.code(), Some(0), "{}", text(&all.stderr));
    assert!(requested("submission/b/v1").await?);

    // Bad input: exit 2 naming the flag, nothing changed.
    for (args, words) in [
        (
            vec![
                "bus",
                "replay",
                "--consumer",
                "scoring-on-submission",
                "--msg-id",
                "nope",
            ],
            "--msg-id",
        ),
        (
            vec!["bus", "dead-letters", "--consumer", "a b"],
            "--consumer",
        ),
        (
            vec!["bus", "replay", "--consumer", "scoring-on-submission"],
            "--msg-id",
        ),
    ] {
        let out = run(&args).await?;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(words),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let unchanged: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(unchanged, 2);
    db.close().await?;
    Ok(())
}
