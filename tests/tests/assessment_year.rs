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
use std::process::Command;

use dti_tests::{repo, text, IsolatedStack};
use serde_json::Value;

const YEAR: &str = "2023";

fn read_json(path: &str) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(
        repo().join(path),
    )?)?)
}

/// `GET /metrics` of a local port.
fn scrape(port: u16) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut body = String::new();
    stream.read_to_string(&mut body)?;
    Ok(body)
}

fn psql(stack: &IsolatedStack, sql: &str) -> std::process::Output {
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            &stack.database,
            "-Atqc",
            sql,
        ])
        .output()
        .expect("psql runs")
}

#[test]
fn a_whole_year_runs_through_the_services_as_separate_processes() -> anyhow::Result<()> {
    let stack = IsolatedStack::new()?;
    // The first year in English (`DTI_LANG=en`): this test reads dtictl's audit line from the
    // script's output; the second run below speaks dtictl's default, Vietnamese.
    let run = stack.script_with("deploy/run.sh", &["--keep"], &[("DTI_LANG", "en")])?;
    let stdout = text(&run.stdout);
    let result = check_the_year(&stack, &run, &stdout).and_then(|()| run_again(&stack));
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

fn check_the_year(
    stack: &IsolatedStack,
    run: &std::process::Output,
    stdout: &str,
) -> anyhow::Result<()> {
    assert!(
        run.status.success(),
        "deploy/run.sh exited {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        run.status.code(),
        text(&run.stderr)
    );
    for framework in ["hcm-2023-district", "hcm-2023-department"] {
        assert!(
            stdout.contains(&format!(
                "== {framework}: the published ranking, checked against the engine"
            )),
            "{stdout}"
        );
    }
    assert_eq!(
        stdout
            .matches("equals the engine on the verified inputs")
            .count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("every link holds"), "{stdout}");

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
    let revisions = psql(stack, "SELECT count(*) FROM publications");
    let revisions: u32 = text(&revisions.stdout).trim().parse()?;
    assert_eq!(
        revisions, 4,
        "two revisions (initial and correction) per cohort"
    );
    for statement in [
        "UPDATE publications SET reason = 'changed'",
        "DELETE FROM publications",
    ] {
        let refused = psql(stack, statement);
        assert!(
            !refused.status.success(),
            "{statement} was allowed: {}",
            text(&refused.stdout)
        );
    }

    // The national receiver holds exactly what the owners submitted; a second sync pushes
    // nothing.
    let owners = read_json("deploy/samples/hcm-2023-owner-values.json")?;
    let state: Value = {
        let url = format!(
            "http://127.0.0.1:{}/control/state",
            stack.port("DTI_LOCAL_RECEIVER_PORT")
        );
        let token = std::fs::read_to_string(stack.run_dir.path().join("receiver-control-token"))?;
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, urllib.request; request = urllib.request.Request(sys.argv[1], \
                 headers={'Authorization': 'Bearer ' + sys.argv[2]}); \
                 sys.stdout.buffer.write(urllib.request.urlopen(request).read())",
                &url,
                token.trim(),
            ])
            .output()?;
        assert!(out.status.success(), "{url}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout)?
    };
    let accepted: BTreeMap<(String, String), Value> = state["accepted"]
        .as_array()
        .expect("accepted")
        .iter()
        .map(|push| {
            (
                (
                    push["kind"].as_str().unwrap_or_default().to_owned(),
                    push["code"].as_str().unwrap_or_default().to_owned(),
                ),
                push["value"].clone(),
            )
        })
        .collect();
    let mut owned = BTreeMap::new();
    for part in owners["owners"].as_object().expect("owners").values() {
        for (key, value) in part["general_info"].as_object().expect("general info") {
            owned.insert(("general_info".to_owned(), key.clone()), value.clone());
        }
        for code in part["indicators"].as_object().expect("indicators").keys() {
            owned.insert(("indicator".to_owned(), code.clone()), Value::Null);
        }
    }
    assert_eq!(
        accepted.keys().collect::<Vec<_>>(),
        owned.keys().collect::<Vec<_>>(),
        "the receiver accepted each item of the owners' file once"
    );
    assert_eq!(
        state["accepted"].as_array().map(Vec::len),
        Some(owned.len()),
        "no item was accepted twice"
    );
    for ((kind, key), value) in &owned {
        if kind == "general_info" {
            assert_eq!(&accepted[&(kind.clone(), key.clone())], value, "{key}");
        }
    }
    let plan = stack.dtictl_json(&["sync", "plan", "--year", YEAR])?;
    assert!(
        plan.get("toPush").is_none(),
        "a second sync pushes nothing: {plan}"
    );

    // Every metric the dashboards and alerts use is exported by a running service.
    let mut exported = std::collections::BTreeSet::new();
    for (_, variable) in dti_tests::SERVICE_PORTS {
        let metrics = scrape(stack.port(variable) + 1000)?;
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
    let tampered = psql(
        stack,
        "UPDATE audit_log SET actor = 'someone-else' WHERE id = (SELECT id FROM audit_log \
         WHERE chain = 'unit:quan-3' ORDER BY seq LIMIT 1 OFFSET 1)",
    );
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
