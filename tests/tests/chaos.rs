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

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use dti_tests::{repo, text, IsolatedStack};
use serde_json::{json, Value};

const YEAR: &str = "2023";
const FRAMEWORK: &str = "hcm-2023-district";
/// Every unit submits at least this many versions, and goes on until the chaos is over; a
/// unit reaching `MAX_VERSIONS` first fails the test (the chaos would not have hit a burst).
const MIN_VERSIONS: u32 = 6;
const MAX_VERSIONS: u32 = 80;
/// Pause of a worker between two submissions: the burst lasts as long as the chaos with a few
/// hundred submissions.
const THROTTLE: Duration = Duration::from_millis(150);
/// Units submitting in parallel (each unit's versions are sent in order by one worker).
const WORKERS: usize = 4;
/// How long one submission may keep failing (a service or NATS down) before the test fails.
const SUBMIT_PATIENCE: Duration = Duration::from_secs(60);
/// How long the platform may take to settle after the burst.
const SETTLE: Duration = Duration::from_secs(90);

/// A process of the test's own (nats-server, redis-server), killed on drop.
struct Own(Child);

impl Own {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_port(port: u16, what: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not open port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn start_nats(port: u16, store: &Path) -> anyhow::Result<Own> {
    let child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting nats-server")?;
    let own = Own(child);
    wait_port(port, "nats-server")?;
    Ok(own)
}

fn start_redis(port: u16) -> anyhow::Result<Own> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting redis-server")?;
    let own = Own(child);
    wait_port(port, "redis-server")?;
    Ok(own)
}

/// A free loopback port away from the machine's NATS (4222) and Redis (6379) and from the
/// stack's own range (picked before the stack picks its ports, which skip ports in use).
fn free_port(skip: &[u16]) -> anyhow::Result<u16> {
    let offset = (std::process::id() % 2000) as u16;
    (0..2000)
        .map(|step| 16_000 + (offset + step) % 2000)
        .find(|port| !skip.contains(port) && TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .context("no free port")
}

/// Everything the test started; stopped (stack, database, servers, files) on drop, on failure
/// too.
struct Chaos {
    stack: Option<IsolatedStack>,
    nats: Mutex<Option<Own>>,
    redis: Mutex<Option<Own>>,
    nats_port: u16,
    redis_port: u16,
    nats_store: tempfile::TempDir,
    files: tempfile::TempDir,
}

impl Drop for Chaos {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            if let Err(error) = stack.stop() {
                eprintln!("stopping the chaos stack: {error:#}");
            }
        }
        for server in [&self.nats, &self.redis] {
            if let Some(mut own) = server.lock().unwrap_or_else(|p| p.into_inner()).take() {
                own.kill();
            }
        }
    }
}

impl Chaos {
    fn stack(&self) -> &IsolatedStack {
        self.stack.as_ref().expect("the stack runs")
    }

    fn psql(&self, sql: &str) -> anyhow::Result<String> {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d"])
            .arg(&self.stack().database)
            .args(["-Atqc", sql])
            .output()?;
        ensure!(out.status.success(), "{sql}: {}", text(&out.stderr));
        Ok(text(&out.stdout).trim().to_owned())
    }

    fn count(&self, sql: &str) -> anyhow::Result<u64> {
        self.psql(sql)?
            .parse()
            .with_context(|| format!("a number from {sql}"))
    }

    /// `deploy/local/start.sh` again: it starts what is down and leaves the rest alone.
    fn start_what_is_down(&self) -> anyhow::Result<()> {
        let out = self.stack().script("deploy/local/start.sh", &[])?;
        ensure!(
            out.status.success(),
            "start.sh exited {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        );
        Ok(())
    }

    fn service_pid(&self, service: &str) -> anyhow::Result<i32> {
        let file = self.stack().run_dir.path().join(format!("{service}.pid"));
        Ok(std::fs::read_to_string(&file)
            .with_context(|| format!("{}", file.display()))?
            .trim()
            .parse()?)
    }

    fn kill_service(&self, service: &str) -> anyhow::Result<()> {
        let pid = self.service_pid(service)?;
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        ensure!(killed.success(), "kill -KILL {pid} ({service})");
        // Gone (its ports closed) before start.sh looks at them.
        let started = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists() {
            ensure!(
                started.elapsed() < Duration::from_secs(10),
                "{service} ({pid}) outlived SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn alive(&self, service: &str) -> anyhow::Result<bool> {
        let pid = self.service_pid(service)?;
        Ok(Path::new(&format!("/proc/{pid}")).exists())
    }
}

/// The cohort file's unit values with indicator 5.1 set to `a` (the same unit submitting
/// different values each time; a version's values also name its `dtictl` request id).
fn with_5_1(unit: &Value, a: u64) -> Value {
    let mut unit = unit.clone();
    unit["values"]["5.1"] = json!({ "a": a });
    if let Some(list) = unit
        .get_mut("not_applicable")
        .and_then(|list| list.as_array_mut())
    {
        list.retain(|code| code != "5.1");
    }
    unit
}

/// Value of 5.1's `a` in version `version` of the unit at `index`.
fn value_of(index: usize, version: u32) -> u64 {
    5 + (index as u64 * 7 + u64::from(version) * 13) % 400
}

/// What the burst acknowledged: per unit, the versions in the order the service gave them.
type Acknowledged = BTreeMap<String, Vec<u32>>;

/// One unit's version `version`, retried (same values, so the same request id) until the
/// submission service acknowledges it; the version it answered.
fn submit(chaos: &Chaos, file: &Path, unit: &str, failures: &Mutex<u32>) -> anyhow::Result<u32> {
    let started = Instant::now();
    loop {
        let out = chaos.stack().dtictl(
            &[
                "submit",
                "--year",
                YEAR,
                "--input",
                &file.to_string_lossy(),
                "--unit",
                unit,
            ],
            &[("DTI_LANG", "en")],
        )?;
        let stdout = text(&out.stdout);
        if out.status.success() {
            let version = stdout
                .rsplit("submitted version ")
                .next()
                .and_then(|v| v.trim().parse().ok())
                .with_context(|| format!("dtictl submit printed: {stdout}"))?;
            return Ok(version);
        }
        *failures.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        if started.elapsed() > SUBMIT_PATIENCE {
            bail!(
                "{unit}: no submission acknowledged within {SUBMIT_PATIENCE:?}: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The burst: each worker sends its units' versions 1, 2, … in turns until the chaos is over
/// (at least `MIN_VERSIONS`, at most `MAX_VERSIONS`).
fn burst(
    chaos: &Chaos,
    version_files: &[PathBuf],
    units: &[String],
    worker: usize,
    chaos_over: &AtomicBool,
    acknowledged: &Mutex<Acknowledged>,
    failures: &Mutex<u32>,
) -> anyhow::Result<()> {
    let mine: Vec<&String> = units.iter().skip(worker).step_by(WORKERS).collect();
    for version in 1..=MAX_VERSIONS + 1 {
        // Workers stop at different versions: units end on different latest versions.
        if version > MIN_VERSIONS + worker as u32 && chaos_over.load(Ordering::SeqCst) {
            return Ok(());
        }
        ensure!(
            version <= MAX_VERSIONS,
            "worker {worker} sent {MAX_VERSIONS} versions of its units before the chaos was over"
        );
        for unit in &mine {
            std::thread::sleep(THROTTLE);
            let file = &version_files[version as usize - 1];
            let answered = submit(chaos, file, unit, failures)?;
            acknowledged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((*unit).clone())
                .or_default()
                .push(answered);
        }
    }
    unreachable!("the loop returns")
}

/// The chaos, one thing at a time with short pauses, while the burst runs.
fn havoc(chaos: &Chaos, acknowledged: &Mutex<Acknowledged>) -> anyhow::Result<()> {
    let began = Instant::now();
    let so_far = || {
        let acknowledged = acknowledged.lock().unwrap_or_else(|p| p.into_inner());
        let n: usize = acknowledged.values().map(Vec::len).sum();
        format!(
            "{:>5.1} s, {n:>3} acknowledged",
            began.elapsed().as_secs_f64()
        )
    };
    let pause = || std::thread::sleep(Duration::from_millis(1500));
    pause();
    for service in [
        "scoring",
        "ranking",
        "submission",
        "evidence",
        "verification",
        "national-sync",
    ] {
        chaos.kill_service(service)?;
        println!("{}: {service} killed (SIGKILL)", so_far());
        pause();
        chaos.start_what_is_down()?;
        println!("{}: {service} started again", so_far());
        pause();
    }
    // nats-server killed and started again on its store.
    {
        let mut nats = chaos.nats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut own) = nats.take() {
            let pid = own.0.id();
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            own.kill();
        }
        println!("{}: nats-server killed (SIGKILL)", so_far());
        std::thread::sleep(Duration::from_secs(2));
        *nats = Some(start_nats(chaos.nats_port, chaos.nats_store.path())?);
        println!("{}: nats-server started again on its store", so_far());
    }
    pause();
    // redis-server killed and started again empty.
    {
        let mut redis = chaos.redis.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut own) = redis.take() {
            own.kill();
        }
        println!("{}: redis-server killed", so_far());
        std::thread::sleep(Duration::from_secs(1));
        *redis = Some(start_redis(chaos.redis_port)?);
        println!("{}: redis-server started again, empty", so_far());
    }
    pause();
    // PostgreSQL drops every connection of the database.
    let terminated = chaos.psql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' \
         AND pid <> pg_backend_pid()",
        chaos.stack().database
    ))?;
    println!(
        "{}: {terminated} database connection(s) terminated",
        so_far()
    );
    pause();
    Ok(())
}

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

/// The self-assessed ranking the ranking service serves: unit → (rank, score).
fn served_ranking(chaos: &Chaos) -> anyhow::Result<BTreeMap<String, (u64, String)>> {
    let served = chaos.stack().dtictl_json(&[
        "ranking",
        "show",
        "--year",
        YEAR,
        "--framework",
        FRAMEWORK,
        "--basis",
        "self",
        "--limit",
        "1000",
    ])?;
    Ok(served["units"]
        .as_array()
        .context("units")?
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
        .collect())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Messages per subject in the stream of `prefix` on the test's nats-server.
fn stream_subjects(port: u16, prefix: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    runtime()?.block_on(async {
        let client = async_nats::connect(format!("nats://127.0.0.1:{port}")).await?;
        let js = async_nats::jetstream::new(client);
        let mut stream = js
            .get_stream(dti_bus::stream::stream_name(prefix))
            .await
            .map_err(|error| anyhow::anyhow!("the stream: {error}"))?;
        let mut info = stream
            .info_with_subjects(">")
            .await
            .map_err(|error| anyhow::anyhow!("the stream's subjects: {error}"))?;
        use futures::TryStreamExt;
        let mut per_subject = BTreeMap::new();
        while let Some((subject, n)) = info
            .try_next()
            .await
            .map_err(|error| anyhow::anyhow!("the stream's subjects: {error}"))?
        {
            per_subject.insert(subject, n as u64);
        }
        let total = stream
            .info()
            .await
            .map_err(|error| anyhow::anyhow!("the stream: {error}"))?
            .state
            .messages;
        ensure!(
            per_subject.values().sum::<u64>() == total,
            "stream total {total} against its subjects {per_subject:?}"
        );
        Ok(per_subject)
    })
}

fn redis_exists(port: u16, key: &str) -> anyhow::Result<bool> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = client.get_connection()?;
    let exists: bool = redis::cmd("EXISTS").arg(key).query(&mut conn)?;
    Ok(exists)
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
