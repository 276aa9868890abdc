//! The system test: the README's main command (`deploy/run.sh`) runs a whole 2023 assessment
//! year with the six services as separate processes (the workspace's debug binaries) against
//! the real PostgreSQL, NATS and Redis, on this test's own database, prefixes and ports. The
//! script itself checks every published score and served rank against the engine on the
//! verified inputs; this test then checks what the script cannot see from outside:
//! - the self-assessed ranking the ranking service serves equals the engine on the units'
//!   submitted files;
//! - published revisions are immutable (the database refuses to change them);
//! - every audit chain holds, and a tampered entry is found;
//! - the national receiver holds exactly what the data owners submitted, and a second sync
//!   pushes nothing;
//! - every metric a dashboard panel or alert uses (`deploy/monitoring/metrics-used.txt`) is
//!   exported by a running service: the test scrapes each one's `/metrics`;
//! - the main command run again (with the first run's stack still up) succeeds on a new
//!   database, with dtictl speaking its default language (Vietnamese; the first run is in
//!   English, `DTI_LANG=en`, as this test reads dtictl's audit line).

use std::collections::BTreeMap;

use dti_tests::{repo, text, IsolatedStack};
use serde_json::Value;

const YEAR: &str = "2023";

#[test]
fn a_whole_year_runs_through_the_services_as_separate_processes() -> anyhow::Result<()> {
    let stack = IsolatedStack::new()?;
    // The first year in English (`DTI_LANG=en`): this test reads dtictl's audit line from the
    // script's output; the second run below speaks dtictl's default, Vietnamese.
    let run = stack.script_with("deploy/run.sh", &["--keep"], &[("DTI_LANG", "en")])?;
    let result = check_the_year(&stack, &run).and_then(|()| run_again(&stack));
    let stopped = stack.stop();
    result?;
    stopped
}

/// The main command run again while the first run's stack is still up (`--keep`): it stops
/// that stack and runs a new year on a new database, and succeeds.
fn run_again(stack: &IsolatedStack) -> anyhow::Result<()> {
    let database = format!("{}_again", stack.database);
    let prefix = format!("dti:{database}:");
    let again = stack.script_with(
        "deploy/run.sh",
        &[],
        &[
            ("DTI_LOCAL_DATABASE", &database),
            ("DTI_LOCAL_NATS_PREFIX", &database),
            ("DTI_LOCAL_REDIS_PREFIX", &prefix),
        ],
    )?;
    let dropped = dti_tests::drop_database(&database);
    let stdout = text(&again.stdout);
    assert!(
        again.status.success(),
        "a second deploy/run.sh exited {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        again.status.code(),
        text(&again.stderr)
    );
    assert_eq!(
        stdout
            .matches("equals the engine on the verified inputs")
            .count(),
        2,
        "{stdout}"
    );
    let stderr = text(&again.stderr);
    let stopped = stderr.find("stop: submission stopped");
    let created = stderr.find(&format!("creating database {database}"));
    assert!(
        matches!((stopped, created), (Some(s), Some(c)) if s < c),
        "the first run's stack is stopped before the new year starts:\n{stderr}"
    );
    dropped
}

fn check_the_year(stack: &IsolatedStack, run: &std::process::Output) -> anyhow::Result<()> {
    dti_tests::check_year_run(run)?;

    // Self-assessed: the ranking service serves what the engine makes of the units' files
    // (quan-3 resubmitted during verification: its latest version counts).
    let engine = stack.dtictl(
        &[
            "score",
            "--input",
            &repo()
                .join("deploy/samples/hcm-2023-departments.json")
                .to_string_lossy(),
        ],
        &[],
    )?;
    assert!(engine.status.success(), "{}", text(&engine.stderr));
    let engine: Value = serde_json::from_slice(&engine.stdout)?;
    let served = stack.dtictl_json(&[
        "ranking",
        "show",
        "--year",
        YEAR,
        "--framework",
        "hcm-2023-department",
        "--basis",
        "self",
        "--limit",
        "1000",
    ])?;
    let served: BTreeMap<String, (u64, String)> = served["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            (
                u["unit"]["unitId"].as_str().unwrap_or_default().to_owned(),
                (
                    u["rank"].as_u64().unwrap_or_default(),
                    u["score"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (u64, String)> = engine["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().unwrap_or_default().to_owned(),
                (
                    u["rank"].as_u64().unwrap_or_default(),
                    u["total"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(served, expected, "self-assessed ranking of the departments");

    // Published revisions are immutable.
    let revisions = stack.psql("SELECT count(*) FROM publications")?;
    let revisions: u32 = text(&revisions.stdout).trim().parse()?;
    assert_eq!(
        revisions, 4,
        "two revisions (initial and correction) per cohort"
    );
    for statement in [
        "UPDATE publications SET reason = 'changed'",
        "DELETE FROM publications",
    ] {
        let refused = stack.psql(statement)?;
        assert!(
            !refused.status.success(),
            "{statement} was allowed: {}",
            text(&refused.stdout)
        );
    }

    // The national receiver holds exactly what the owners submitted; a second sync pushes
    // nothing.
    stack.check_national_receiver(YEAR)?;

    // Every metric the dashboards and alerts use is exported by a running service.
    let mut exported = std::collections::BTreeSet::new();
    for (_, variable) in dti_tests::SERVICE_PORTS {
        let metrics = dti_testkit::metrics::scrape_port(stack.port(variable) + 1000)?;
        exported.extend(
            metrics
                .lines()
                .filter(|line| line.starts_with("dti_"))
                .filter_map(|line| line.split(['{', ' ']).next())
                .map(str::to_owned),
        );
    }
    let used = std::fs::read_to_string(repo().join("deploy/monitoring/metrics-used.txt"))?;
    let missing: Vec<&str> = used
        .lines()
        .map(str::trim)
        .filter(|name| name.starts_with("dti_") && !exported.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "used by a dashboard or alert but exported by no running service: {missing:?}"
    );

    // Every audit chain holds; a changed entry is found.
    let database_url = stack.database_url();
    let tampered = stack.psql(
        "UPDATE audit_log SET actor = 'someone-else' WHERE id = (SELECT id FROM audit_log \
         WHERE chain = 'unit:quan-3' ORDER BY seq LIMIT 1 OFFSET 1)",
    )?;
    assert!(tampered.status.success(), "{}", text(&tampered.stderr));
    let verify = stack.dtictl(
        &[
            "audit",
            "verify",
            "--year",
            YEAR,
            "--framework",
            "hcm-2023-district",
            "--database-url",
            &database_url,
        ],
        &[],
    )?;
    assert_eq!(verify.status.code(), Some(3), "{}", text(&verify.stdout));
    assert!(text(&verify.stdout).contains("unit:quan-3"));
    Ok(())
}
