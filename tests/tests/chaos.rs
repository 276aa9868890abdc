//! The chaos suite: the six services as separate processes (the workspace's debug binaries) on a
//! nats-server and a redis-server of this test's own (free ports, a temporary JetStream store;
//! never the machine's), with a database of its own. The 22 districts of 2023 submit a bounded
//! burst of versions (each one changes indicator 5.1, a min-max indicator, so every submit moves
//! the cohort), while, one after the other, every service is killed with SIGKILL and started
//! again, nats-server is killed and started again on its store, redis-server is killed and
//! started again empty, and PostgreSQL drops every connection of the database. Then, within a
//! bound, the outbox drains and the scores settle, and the test checks:
//! - every acknowledged submission is stored exactly once (each unit's versions 1..=n, no gap,
//!   no duplicate, each with the values that were sent);
//! - one `submission.submitted` event per version, the outbox drained, and the JetStream stream
//!   holding exactly the outbox's events;
//! - no consumer processed a message twice, and only messages of the outbox;
//! - the scoring service scored each unit's latest version, and its scores and the ranking the
//!   ranking service serves equal `dtictl score` on each unit's latest input.
//!
//! Bounded: every wait has a deadline; the whole test takes about a minute and a half here.
//! `cargo test -p dti-tests --test chaos`.

mod chaos_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use chaos_support::*;
use dti_tests::{repo, text, IsolatedStack};
use serde_json::{json, Value};

#[test]
fn a_burst_survives_killed_services_nats_and_redis_restarts_and_dropped_connections(
) -> anyhow::Result<()> {
    let began = Instant::now();
    let nats_port = free_port(&[4222, 6379])?;
    let redis_port = free_port(&[4222, 6379, nats_port])?;
    let nats_store = tempfile::tempdir()?;
    let nats = start_nats(nats_port, nats_store.path())?;
    let redis = start_redis(redis_port)?;
    let mut stack = IsolatedStack::new()?;
    stack
        .env
        .push(("DTI_NATS_PORT".into(), nats_port.to_string()));
    stack
        .env
        .push(("DTI_REDIS_PORT".into(), redis_port.to_string()));
    let chaos = Chaos {
        stack: Some(stack),
        nats: Mutex::new(Some(nats)),
        redis: Mutex::new(Some(redis)),
        nats_port,
        redis_port,
        nats_store,
        files: tempfile::tempdir()?,
    };
    chaos.start_what_is_down()?;
    println!("stack up in {:?}", began.elapsed());
    let opened = chaos.stack().dtictl(
        &["round", "open", "--year", YEAR, "--framework", FRAMEWORK],
        &[],
    )?;
    ensure!(opened.status.success(), "{}", text(&opened.stderr));

    // One cohort file per version number: unit i's 5.1 in version v is value_of(i, v).
    let cohort: Value = serde_json::from_str(&std::fs::read_to_string(
        repo().join("deploy/samples/hcm-2023-districts.json"),
    )?)?;
    let sample_units = cohort["units"].as_array().context("units")?.clone();
    let units: Vec<String> = sample_units
        .iter()
        .map(|u| u["unit"].as_str().unwrap_or_default().to_owned())
        .collect();
    ensure!(units.len() == 22, "the 22 districts of 2023");
    let version_file = |version: u32, units: &[Value]| -> anyhow::Result<PathBuf> {
        let file = chaos.files.path().join(format!("version-{version}.json"));
        let cohort = json!({ "framework": cohort["framework"], "units": units });
        std::fs::write(&file, serde_json::to_vec(&cohort)?)?;
        Ok(file)
    };
    let version_files = (1..=MAX_VERSIONS)
        .map(|version| {
            let units: Vec<Value> = sample_units
                .iter()
                .enumerate()
                .map(|(index, unit)| with_5_1(unit, value_of(index, version)))
                .collect();
            version_file(version, &units)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    // The burst in the background, the chaos in the foreground.
    let acknowledged = Mutex::new(Acknowledged::new());
    let failures = Mutex::new(0);
    let chaos_over = AtomicBool::new(false);
    let burst_began = Instant::now();
    let (havoc_result, burst_results) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let (chaos, files, units) = (&chaos, &version_files, &units);
                let (over, acknowledged, failures) = (&chaos_over, &acknowledged, &failures);
                scope
                    .spawn(move || burst(chaos, files, units, worker, over, acknowledged, failures))
            })
            .collect();
        let havoc_result = havoc(&chaos, &acknowledged);
        chaos_over.store(true, Ordering::SeqCst);
        let results: Vec<anyhow::Result<()>> = workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a burst worker panicked")))
            })
            .collect();
        (havoc_result, results)
    });
    havoc_result?;
    for result in burst_results {
        result?;
    }
    let acknowledged = acknowledged.into_inner().unwrap_or_else(|p| p.into_inner());
    let total: usize = acknowledged.values().map(Vec::len).sum();
    println!(
        "burst: {total} submissions acknowledged in {:?} ({} refused or unanswered attempts retried)",
        burst_began.elapsed(),
        failures.into_inner().unwrap_or_else(|p| p.into_inner())
    );
    ensure!(total >= 22 * MIN_VERSIONS as usize, "a burst of {total}");

    // Every service outlived the NATS and Redis restarts and the dropped connections.
    for service in [
        "submission",
        "evidence",
        "scoring",
        "ranking",
        "verification",
        "national-sync",
    ] {
        ensure!(
            chaos.alive(service)?,
            "{service} died during the chaos; its log ends:\n{}",
            tail(&chaos.stack().run_dir.path().join(format!("{service}.log")))
        );
    }

    // Each unit's acknowledged versions are 1..=n in order: nothing lost, nothing twice.
    let mut latest: BTreeMap<String, u32> = BTreeMap::new();
    for unit in &units {
        let versions = acknowledged.get(unit).cloned().unwrap_or_default();
        let expected: Vec<u32> = (1..=versions.len() as u32).collect();
        assert_eq!(versions, expected, "{unit}: acknowledged versions");
        latest.insert(unit.clone(), versions.len() as u32);
    }

    // The final input of each unit and what the engine makes of it.
    let final_units: Vec<Value> = sample_units
        .iter()
        .enumerate()
        .map(|(index, unit)| {
            let unit_id = unit["unit"].as_str().unwrap_or_default();
            with_5_1(unit, value_of(index, latest[unit_id]))
        })
        .collect();
    let final_file = version_file(0, &final_units)?;
    let engine = chaos
        .stack()
        .dtictl(&["score", "--input", &final_file.to_string_lossy()], &[])?;
    ensure!(engine.status.success(), "{}", text(&engine.stderr));
    let engine: Value = serde_json::from_slice(&engine.stdout)?;
    let expected: BTreeMap<String, (u64, String)> = engine["units"]
        .as_array()
        .context("units")?
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

    // Settle: the outbox drained, every latest version scored, the ranking served equal to the
    // engine.
    let settle_began = Instant::now();
    let served = loop {
        let pending =
            chaos.count("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")?;
        let unscored = chaos.count(
            "SELECT count(*) FROM submissions s JOIN score_units u ON u.year = s.year AND \
             u.framework = s.framework AND u.unit_id = s.unit_id AND u.basis = 'self' \
             WHERE u.input_version <> s.latest_version",
        )?;
        let served = served_ranking(&chaos);
        if pending == 0 && unscored == 0 {
            if let Ok(served) = &served {
                if *served == expected {
                    break served.clone();
                }
            }
        }
        if settle_began.elapsed() > SETTLE {
            bail!(
                "not settled within {SETTLE:?}: {pending} outbox message(s) unpublished, \
                 {unscored} unit(s) scored on an older version; served {served:?}, the engine \
                 {expected:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    println!("settled {:?} after the burst", settle_began.elapsed());
    assert_eq!(served, expected, "the self-assessed ranking served");

    // Stored exactly once: per unit, versions 1..=n, each with the values sent.
    let stored = chaos.psql(
        "SELECT s.unit_id, s.latest_version, v.version, vv.variables->>'a' \
         FROM submissions s JOIN submission_versions v ON v.submission_id = s.id \
         JOIN submission_version_values vv ON vv.submission_id = v.submission_id \
         AND vv.version = v.version AND vv.indicator_code = '5.1' ORDER BY 1, 3",
    )?;
    let mut stored_versions: BTreeMap<String, Vec<(u32, u64)>> = BTreeMap::new();
    for line in stored.lines() {
        let fields: Vec<&str> = line.split('|').collect();
        ensure!(fields.len() == 4, "{line}");
        assert_eq!(
            fields[1].parse::<u32>()?,
            latest[fields[0]],
            "{}: latest version",
            fields[0]
        );
        stored_versions
            .entry(fields[0].to_owned())
            .or_default()
            .push((fields[2].parse()?, fields[3].parse()?));
    }
    for (index, unit) in units.iter().enumerate() {
        let expected: Vec<(u32, u64)> = (1..=latest[unit])
            .map(|version| (version, value_of(index, version)))
            .collect();
        assert_eq!(
            stored_versions.get(unit).cloned().unwrap_or_default(),
            expected,
            "{unit}: stored versions and their 5.1 values"
        );
    }
    let versions_stored = chaos.count("SELECT count(*) FROM submission_versions")?;
    assert_eq!(versions_stored, total as u64, "versions stored");

    // One event per version; the outbox drained.
    let submitted_events = chaos.count(
        "SELECT count(*) FROM outbox_messages WHERE subject LIKE '%.submission.submitted.v1'",
    )?;
    assert_eq!(
        submitted_events, total as u64,
        "submission.submitted events"
    );
    assert_eq!(
        chaos.count("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")?,
        0
    );

    // The inbox: no message processed twice by one consumer, none that is not the outbox's.
    let twice = chaos.psql(
        "SELECT consumer, msg_id, count(*) FROM inbox_messages GROUP BY 1, 2 HAVING count(*) > 1",
    )?;
    assert!(twice.is_empty(), "messages processed twice: {twice}");
    let foreign = chaos.count(
        "SELECT count(*) FROM inbox_messages i WHERE NOT EXISTS \
         (SELECT 1 FROM outbox_messages o WHERE o.msg_id = i.msg_id)",
    )?;
    assert_eq!(foreign, 0, "inbox messages the outbox never wrote");
    let dead = chaos.psql("SELECT consumer || ' ' || msg_id || ': ' || error FROM dead_letters")?;
    assert!(dead.is_empty(), "messages a consumer gave up on: {dead}");
    println!(
        "inbox: {}",
        chaos
            .psql("SELECT consumer || '=' || count(*) FROM inbox_messages GROUP BY consumer")?
            .replace('\n', ", ")
    );

    // The stream holds exactly the outbox's events: per subject, as many as the outbox wrote.
    let outbox: BTreeMap<String, u64> = chaos
        .psql("SELECT subject, count(*) FROM outbox_messages GROUP BY subject")?
        .lines()
        .filter_map(|line| line.split_once('|'))
        .map(|(subject, n)| (subject.to_owned(), n.parse().unwrap_or(u64::MAX)))
        .collect();
    let stream = stream_subjects(nats_port, &chaos.stack().database)?;
    assert_eq!(stream, outbox, "the JetStream stream against the outbox");

    // The scoring service scored each unit's latest version, with the engine's totals.
    for unit in &units {
        let card = chaos.stack().dtictl_json(&[
            "scorecard",
            "--year",
            YEAR,
            "--framework",
            FRAMEWORK,
            "--unit",
            unit,
        ])?;
        assert_eq!(
            card["inputVersion"].as_u64(),
            Some(u64::from(latest[unit])),
            "{unit}: the version scored"
        );
        assert_eq!(
            card["total"].as_str(),
            Some(expected[unit].1.as_str()),
            "{unit}: the scoring service's total"
        );
    }

    // The new, empty Redis holds the ranking again.
    let marker = format!(
        "dti:{}:ranking:ranking:{YEAR}:{FRAMEWORK}:self:version",
        chaos.stack().database
    );
    let redis_started = Instant::now();
    loop {
        if redis_exists(redis_port, &marker)? {
            break;
        }
        ensure!(
            redis_started.elapsed() < Duration::from_secs(30),
            "{marker} was not rebuilt in the restarted Redis"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("chaos suite done in {:?}", began.elapsed());
    Ok(())
}
