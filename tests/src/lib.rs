//! Cross-service end-to-end tests of the DTI platform live under `tests/tests/`:
//! `assessment_year` (the main job with the services as separate processes), `two_replicas`
//! (the same with every service running twice on one database and NATS), `chaos` (a burst
//! of submissions through killed services, NATS and Redis restarts and dropped database
//! connections, on a nats-server and redis-server of its own) and the
//! submission → scoring → ranking pipeline tests (`ranking_*`, in-process, sharing
//! `tests/support`). This library is the harness for the local stack's own scripts: [`IsolatedStack`] runs
//! `deploy/local/start.sh`, `deploy/run.sh` and `deploy/local/stop.sh` as a new user would,
//! but on the test's own database, NATS and Redis prefixes, free ports and run directory, with
//! the workspace's already built debug binaries (so the six services run as separate
//! processes, as in production), and runs `dtictl` against that stack.

#![warn(missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The directory of the workspace's binaries built with this test (`target/debug`).
pub fn binaries_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/debug/deps/<test> → target/debug
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("the test binary is not inside a target directory")?;
    Ok(dir.to_path_buf())
}

/// The binaries the stack runs; `cargo test --workspace` builds them all.
pub const BINARIES: [&str; 9] = [
    "dti-submission",
    "dti-evidence",
    "dti-scoring",
    "dti-ranking",
    "dti-verification",
    "dti-national-sync",
    "dti-gateway",
    "dti-national-receiver",
    "dtictl",
];

/// The six services of the stack: the name in their `DTICTL_<SERVICE>_ENDPOINT` variable and
/// the stack variable of their gRPC port (metrics on that port + 1000).
pub const SERVICE_PORTS: [(&str, &str); 6] = [
    ("SUBMISSION", "DTI_LOCAL_SUBMISSION_PORT"),
    ("EVIDENCE", "DTI_LOCAL_EVIDENCE_PORT"),
    ("SCORING", "DTI_LOCAL_SCORING_PORT"),
    ("RANKING", "DTI_LOCAL_RANKING_PORT"),
    ("VERIFICATION", "DTI_LOCAL_VERIFICATION_PORT"),
    ("NATIONAL_SYNC", "DTI_LOCAL_NATIONAL_SYNC_PORT"),
];

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Ports the stack listens on come from below the kernel's ephemeral range (32768–60999 on
/// Linux): a port handed out by `bind(0)` or taken by an outgoing connection of a service that
/// started a moment earlier (a pool connection to PostgreSQL, say) can be taken again between the
/// check and the service's own bind, and then the stack fails to start.
const STACK_PORTS: std::ops::Range<u16> = 20_000..31_000;

/// A loopback port `p` below the ephemeral range such that every `p + offset` is free (its
/// metrics twin at + 1000, and other replicas' ports), none of them a port this process handed
/// out before.
fn free_port_with(offsets: &[u16]) -> anyhow::Result<u16> {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let span = u32::from(STACK_PORTS.end - STACK_PORTS.start);
    let start = uuid::Uuid::new_v4().as_u128() as u32 % span;
    for step in 0..span {
        let port = STACK_PORTS.start + ((start + step) % span) as u16;
        let used: Vec<u16> = offsets.iter().map(|offset| port + offset).collect();
        if used.iter().any(|candidate| handed_out.contains(candidate)) {
            continue;
        }
        if used
            .iter()
            .all(|candidate| TcpListener::bind(("127.0.0.1", *candidate)).is_ok())
        {
            handed_out.extend(&used);
            return Ok(port);
        }
    }
    bail!("no free set of loopback ports in {STACK_PORTS:?}")
}

/// A free loopback port below the ephemeral range, and its metrics twin (+ 1000) free too.
pub fn free_port() -> anyhow::Result<u16> {
    free_port_with(&[0, 1000])
}

/// How far apart the ports of two replicas of a service are (`DTI_LOCAL_REPLICA_PORT_STEP`).
pub const REPLICA_PORT_STEP: u16 = 100;

/// The local stack's scripts on a stack of the test's own. Dropped without [`IsolatedStack::stop`]
/// (a test that panicked), it still stops its services and drops its database, so a failed test
/// leaves no processes holding PostgreSQL connections behind.
pub struct IsolatedStack {
    /// `deploy/local/stack.env` settings this stack overrides.
    pub env: Vec<(String, String)>,
    /// Its database.
    pub database: String,
    /// Its run directory (logs, pid files, the development secret).
    pub run_dir: tempfile::TempDir,
    /// Where the binaries are.
    pub bin: PathBuf,
    /// The tenant it serves (`DTI_LOCAL_TENANT`), if any.
    pub tenant: Option<String>,
    ports: Vec<(&'static str, u16)>,
    stopped: bool,
}

impl IsolatedStack {
    /// Settings for a new stack; nothing is started yet.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_replicas(1)
    }

    /// Settings for a new stack that runs every service `replicas` times
    /// (`DTI_LOCAL_REPLICAS`), replica r's ports [`REPLICA_PORT_STEP`] × (r − 1) above the
    /// first's; nothing is started yet.
    pub fn with_replicas(replicas: u16) -> anyhow::Result<Self> {
        let bin = binaries_dir()?;
        let missing: Vec<&str> = BINARIES
            .iter()
            .copied()
            .filter(|name| !bin.join(name).is_file())
            .collect();
        if !missing.is_empty() {
            bail!(
                "binaries missing in {}: {} — build them first (cargo test --workspace does)",
                bin.display(),
                missing.join(", ")
            );
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let database = format!("dti_system_{}", &id[..12]);
        let run_dir = tempfile::tempdir()?;
        // Each port, its metrics twin, and the same two for every further replica.
        let offsets: Vec<u16> = (0..replicas.max(1))
            .flat_map(|replica| {
                let shift = replica * REPLICA_PORT_STEP;
                [shift, shift + 1000]
            })
            .collect();
        let mut ports = Vec::new();
        let others = [
            "DTI_LOCAL_RECEIVER_PORT",
            "DTI_LOCAL_GATEWAY_PORT",
            "DTI_LOCAL_GATEWAY_GRPC_PORT",
            "DTI_LOCAL_RESULTS_PORT",
            "DTI_LOCAL_RESULTS_GRPC_PORT",
        ];
        for name in SERVICE_PORTS
            .map(|(_, variable)| variable)
            .into_iter()
            .chain(others)
        {
            ports.push((name, free_port_with(&offsets)?));
        }
        let mut env: Vec<(String, String)> = vec![
            ("DTI_LOCAL_DATABASE".into(), database.clone()),
            ("DTI_LOCAL_NATS_PREFIX".into(), database.clone()),
            ("DTI_LOCAL_REDIS_PREFIX".into(), format!("dti:{database}:")),
            (
                "DTI_LOCAL_RUN_DIR".into(),
                run_dir.path().to_string_lossy().into_owned(),
            ),
            (
                "DTI_LOCAL_BINARIES".into(),
                bin.to_string_lossy().into_owned(),
            ),
            ("DTI_LOCAL_PROVISIONAL_PERIOD_SECS".into(), "3".into()),
            ("DTI_LOCAL_REPLICAS".into(), replicas.max(1).to_string()),
            (
                "DTI_LOCAL_REPLICA_PORT_STEP".into(),
                REPLICA_PORT_STEP.to_string(),
            ),
        ];
        env.extend(
            ports
                .iter()
                .map(|(name, port)| ((*name).to_owned(), port.to_string())),
        );
        Ok(Self {
            env,
            database,
            run_dir,
            bin,
            tenant: None,
            ports,
            stopped: false,
        })
    }

    /// Settings for a new stack of `tenant` (`DTI_LOCAL_TENANT`), its NATS and Redis prefixes
    /// naming the tenant; nothing is started yet.
    pub fn for_tenant(tenant: &str) -> anyhow::Result<Self> {
        let mut stack = Self::new()?;
        let database = stack.database.clone();
        let settings = [
            ("DTI_LOCAL_TENANT", tenant.to_owned()),
            ("DTI_LOCAL_NATS_PREFIX", format!("{database}_{tenant}")),
            (
                "DTI_LOCAL_REDIS_PREFIX",
                format!("dti:{database}:{tenant}:"),
            ),
            // Two tenants' stacks share the server's 100 connections.
            ("DTI_LOCAL_DATABASE_MAX_CONNECTIONS", "6".to_owned()),
        ];
        stack
            .env
            .retain(|(name, _)| !settings.iter().any(|(set, _)| name == set));
        stack.env.extend(
            settings
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        stack.tenant = Some(tenant.to_owned());
        Ok(stack)
    }

    /// The port of `variable` (e.g. `DTI_LOCAL_RECEIVER_PORT`).
    pub fn port(&self, variable: &str) -> u16 {
        self.ports
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, port)| *port)
            .unwrap_or_else(|| panic!("no port {variable}"))
    }

    /// The database's URL.
    pub fn database_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.database)
    }

    /// Runs a repository script (`deploy/run.sh`, …) with this stack's settings.
    pub fn script(&self, path: &str, args: &[&str]) -> anyhow::Result<Output> {
        self.script_with(path, args, &[])
    }

    /// Runs a repository script with this stack's settings, `overrides` replacing some.
    pub fn script_with(
        &self,
        path: &str,
        args: &[&str],
        overrides: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
        let mut command = Command::new("bash");
        command
            .arg(repo().join(path))
            .args(args)
            .current_dir(repo())
            .stdin(Stdio::null());
        for (name, _) in std::env::vars() {
            if name.starts_with("DTI_") || name.starts_with("DTICTL_") {
                command.env_remove(name);
            }
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        for (name, value) in overrides {
            command.env(name, value);
        }
        command.output().with_context(|| format!("running {path}"))
    }

    /// Runs `dtictl` against this stack, with its development secret.
    pub fn dtictl(&self, args: &[&str], extra_env: &[(&str, &str)]) -> anyhow::Result<Output> {
        let secret = std::fs::read_to_string(self.run_dir.path().join("hs256-secret"))
            .context("the stack's development secret (is it started?)")?;
        let mut command = Command::new(self.bin.join("dtictl"));
        command.args(args).stdin(Stdio::null());
        for (name, _) in std::env::vars() {
            if name.starts_with("DTI_") || name.starts_with("DTICTL_") {
                command.env_remove(name);
            }
        }
        command.env("DTI_AUTH_HS256_SECRET", secret.trim());
        if let Some(tenant) = &self.tenant {
            command.env("DTI_TENANT", tenant);
        }
        for (service, variable) in SERVICE_PORTS {
            command.env(
                format!("DTICTL_{service}_ENDPOINT"),
                format!("http://127.0.0.1:{}", self.port(variable)),
            );
        }
        for (name, value) in extra_env {
            command.env(name, value);
        }
        command.output().context("running dtictl")
    }

    /// Runs `dtictl --json args`, asserting success; what it printed.
    pub fn dtictl_json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let out = self.dtictl(&with_json, &[])?;
        if !out.status.success() {
            bail!(
                "dtictl {args:?} exited {:?}: {}",
                out.status.code(),
                text(&out.stderr)
            );
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("dtictl {args:?} printed: {}", text(&out.stdout)))
    }

    /// The gRPC port of replica `replica` (from 1) of the service whose port is `variable`
    /// (its metrics on that port + 1000).
    pub fn replica_port(&self, variable: &str, replica: u16) -> u16 {
        self.port(variable) + (replica.max(1) - 1) * REPLICA_PORT_STEP
    }

    /// What the reference national receiver accepted (`GET /control/state`).
    pub fn national_receiver_state(&self) -> anyhow::Result<serde_json::Value> {
        let url = format!(
            "http://127.0.0.1:{}/control/state",
            self.port("DTI_LOCAL_RECEIVER_PORT")
        );
        let token = std::fs::read_to_string(self.run_dir.path().join("receiver-control-token"))?;
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
        if !out.status.success() {
            bail!("{url}: {}", text(&out.stderr));
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// After the year's national sync: the receiver accepted each item of the data owners'
    /// sample file (`deploy/samples/<year>` owner values) exactly once, every general-information
    /// value as the owner gave it, and a second sync of `year` would push nothing.
    pub fn check_national_receiver(&self, year: &str) -> anyhow::Result<()> {
        use serde_json::Value;
        use std::collections::BTreeMap;

        let path = repo().join(format!("deploy/samples/hcm-{year}-owner-values.json"));
        let owners: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let state = self.national_receiver_state()?;
        let pushes = state["accepted"]
            .as_array()
            .context("the receiver's state has no accepted list")?;
        let accepted: BTreeMap<(String, String), Value> = pushes
            .iter()
            .map(|push| {
                let field = |name: &str| push[name].as_str().unwrap_or_default().to_owned();
                ((field("kind"), field("code")), push["value"].clone())
            })
            .collect();
        let mut owned = BTreeMap::new();
        for part in owners["owners"].as_object().context("owners")?.values() {
            for (key, value) in part["general_info"].as_object().context("general info")? {
                owned.insert(("general_info".to_owned(), key.clone()), value.clone());
            }
            for code in part["indicators"].as_object().context("indicators")?.keys() {
                owned.insert(("indicator".to_owned(), code.clone()), Value::Null);
            }
        }
        if accepted.keys().ne(owned.keys()) {
            bail!(
                "the receiver accepted {:?}, the owners submitted {:?}",
                accepted.keys().collect::<Vec<_>>(),
                owned.keys().collect::<Vec<_>>()
            );
        }
        if pushes.len() != owned.len() {
            bail!(
                "the receiver accepted {} pushes for {} items: some twice",
                pushes.len(),
                owned.len()
            );
        }
        for ((kind, key), value) in &owned {
            let got = &accepted[&(kind.clone(), key.clone())];
            if kind == "general_info" && got != value {
                bail!(
                    "general information {key}: the receiver holds {got}, the owner gave {value}"
                );
            }
        }
        let plan = self.dtictl_json(&["sync", "plan", "--year", year])?;
        if plan.get("toPush").is_some() {
            bail!("a second sync would push again: {plan}");
        }
        Ok(())
    }

    /// Runs `sql` with `psql` on the stack's database: rows unaligned, fields separated by one
    /// space, no headers.
    pub fn psql(&self, sql: &str) -> anyhow::Result<Output> {
        Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &self.database])
            .args(["-AtF", " ", "-qc", sql])
            .output()
            .context("running psql")
    }

    /// Stops the stack (`deploy/local/stop.sh`) and drops its database.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.stopped = true;
        self.stop_and_drop_database()
    }

    fn stop_and_drop_database(&self) -> anyhow::Result<()> {
        let stopped = self.script("deploy/local/stop.sh", &[])?;
        drop_database(&self.database)?;
        if !stopped.status.success() {
            bail!("stop.sh: {}", text(&stopped.stderr));
        }
        Ok(())
    }
}

impl Drop for IsolatedStack {
    fn drop(&mut self) {
        if !self.stopped {
            if let Err(error) = self.stop_and_drop_database() {
                eprintln!("stopping the stack of {}: {error:#}", self.database);
            }
        }
    }
}

/// Checks what `deploy/run.sh` printed: it succeeded, checked the published ranking of both
/// 2023 cohorts against the engine and found them equal, and every audit chain held.
pub fn check_year_run(run: &Output) -> anyhow::Result<()> {
    let stdout = text(&run.stdout);
    if !run.status.success() {
        bail!(
            "deploy/run.sh exited {:?}\nstdout:\n{stdout}\nstderr:\n{}",
            run.status.code(),
            text(&run.stderr)
        );
    }
    for framework in ["hcm-2023-district", "hcm-2023-department"] {
        let step = format!("== {framework}: the published ranking, checked against the engine");
        if !stdout.contains(&step) {
            bail!("deploy/run.sh did not check {framework}:\n{stdout}");
        }
    }
    let equal = stdout
        .matches("equals the engine on the verified inputs")
        .count();
    if equal != 2 {
        bail!("{equal} of 2 published rankings equal the engine:\n{stdout}");
    }
    if !stdout.contains("every link holds") {
        bail!("the audit chains were not found whole:\n{stdout}");
    }
    Ok(())
}

/// Drops a database of the local PostgreSQL, if it exists.
pub fn drop_database(database: &str) -> anyhow::Result<()> {
    let dropped = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-qc",
            &format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"),
        ])
        .output()?;
    if !dropped.status.success() {
        bail!("dropping {database}: {}", text(&dropped.stderr));
    }
    Ok(())
}
