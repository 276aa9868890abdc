//! The whole platform in-process for `dtictl`'s command tests: the six services on one test
//! database, NATS prefix and Redis prefix, the reference national receiver they push to, and a
//! runner of the real `dtictl` binary pointed at them with the development secret.
//!
//! Each test binary that needs it declares `mod support;` and starts its own [`Stack`]; tests
//! never share a stack, so they may run in parallel.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the stack"
)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dti_service_kit::RunningService;
use dti_testkit::{TestBackends, TEST_HS256_SECRET};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the repository as a string path (e.g. `deploy/samples/hcm-2023-districts.json`).
pub fn repo_file(relative: &str) -> String {
    repo().join(relative).to_string_lossy().into_owned()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The district round of every command test, as flags.
pub const ROUND: [&str; 4] = ["--year", "2023", "--framework", "hcm-2023-district"];

/// The sample district cohort file (every unit of the round).
pub const SAMPLE: &str = "deploy/samples/hcm-2023-districts.json";

/// `command` followed by the round's flags.
pub fn with_round<'a>(command: &[&'a str]) -> Vec<&'a str> {
    command.iter().copied().chain(ROUND).collect()
}

/// A refusal a command must give: run as `token` (`DTI_TOKEN`; the minted caller when `None`),
/// it exits with `code` and its standard error names each of `named`.
pub struct Refusal<'a> {
    /// The command line.
    pub args: Vec<&'a str>,
    /// Another caller's token.
    pub token: Option<&'a str>,
    /// The exit code.
    pub code: i32,
    /// What standard error must name (a field, a unit…).
    pub named: Vec<&'a str>,
}

/// Bad input: exit 2, naming each of `named`.
pub fn bad_input<'a>(args: Vec<&'a str>, named: &[&'a str]) -> Refusal<'a> {
    Refusal {
        args,
        token: None,
        code: 2,
        named: named.to_vec(),
    }
}

/// The wrong role: exit 4 as `token`.
pub fn wrong_role<'a>(args: Vec<&'a str>, token: &'a str) -> Refusal<'a> {
    Refusal {
        args,
        token: Some(token),
        code: 4,
        named: Vec::new(),
    }
}

/// Seconds from a round's first publication until it may be finalized, on the test stack.
pub const PROVISIONAL_PERIOD_SECS: u64 = 3;

fn bare(bearer: String) -> String {
    bearer.trim_start_matches("Bearer ").to_owned()
}

/// The control token of the stack's national receiver.
pub const RECEIVER_CONTROL_TOKEN: &str = "control-token-of-the-dtictl-tests";

/// The six services and the reference receiver, running until [`Stack::stop`].
pub struct Stack {
    /// The test's database and prefixes.
    pub backends: TestBackends,
    /// gRPC endpoint per `DTICTL_<SERVICE>_ENDPOINT` variable.
    pub endpoints: Vec<(&'static str, String)>,
    /// Base URL of the reference national receiver (control token [`RECEIVER_CONTROL_TOKEN`]).
    pub receiver_url: String,
    services: Vec<RunningService>,
    evidence_root: tempfile::TempDir,
    receiver_shutdown: CancellationToken,
    receiver: JoinHandle<Result<(), dti_national_receiver::ReceiverError>>,
}

impl Stack {
    /// Starts everything on fresh backends. Services start one after another, so their
    /// migrations of the shared database never race.
    pub async fn start() -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let backends = TestBackends::create().await?;
        let receiver = dti_national_receiver::Args::try_parse_from([
            "dti-national-receiver",
            "--listen",
            "127.0.0.1:0",
            "--control-token",
            RECEIVER_CONTROL_TOKEN,
        ])
        .context("receiver flags")?
        .bind()
        .await
        .context("starting the receiver")?;
        let receiver_url = receiver.base_url()?;
        let receiver_shutdown = CancellationToken::new();
        let receiver = tokio::spawn(receiver.serve(receiver_shutdown.clone().cancelled_owned()));

        let evidence_root = tempfile::tempdir()?;
        let mut services = Vec::new();
        let mut endpoints = Vec::new();

        let config = backends.service_config(dti_submission::Settings::default());
        let service = dti_submission::build(&config).await?.spawn()?;
        endpoints.push(("DTICTL_SUBMISSION_ENDPOINT", service.endpoint()));
        services.push(service);

        let evidence = dti_evidence::Settings::local(evidence_root.path(), false);
        let service = dti_evidence::build(&backends.service_config(evidence))
            .await?
            .spawn()?;
        endpoints.push(("DTICTL_EVIDENCE_ENDPOINT", service.endpoint()));
        services.push(service);

        let config = backends.service_config(dti_scoring::Settings::default());
        let service = dti_scoring::build(&config).await?.spawn()?;
        endpoints.push(("DTICTL_SCORING_ENDPOINT", service.endpoint()));
        services.push(service);

        let config = backends.service_config(dti_ranking::Settings::default());
        let service = dti_ranking::build(&config).await?.spawn()?;
        endpoints.push(("DTICTL_RANKING_ENDPOINT", service.endpoint()));
        services.push(service);

        // A provisional period of seconds, so a test can finalize; the finalizer task checks
        // rarely, so finalizing is the test's own step.
        let verification = dti_verification::Settings {
            provisional_period_secs: PROVISIONAL_PERIOD_SECS,
            finalize_check_interval_secs: 3600,
            ..dti_verification::Settings::default()
        };
        let config = backends.service_config(verification);
        let service = dti_verification::build(&config).await?.spawn()?;
        endpoints.push(("DTICTL_VERIFICATION_ENDPOINT", service.endpoint()));
        services.push(service);

        let mut sync = dti_national_sync::Settings::default();
        sync.national.endpoint = Some(receiver_url.clone());
        sync.national.allow_plain_http = true;
        sync.push.poll_interval_ms = 200;
        sync.push.retry_min_delay_ms = 20;
        sync.push.retry_max_delay_ms = 100;
        let service = dti_national_sync::build(&backends.service_config(sync))
            .await?
            .spawn()?;
        endpoints.push(("DTICTL_NATIONAL_SYNC_ENDPOINT", service.endpoint()));
        services.push(service);

        Ok(Self {
            backends,
            endpoints,
            receiver_url,
            services,
            evidence_root,
            receiver_shutdown,
            receiver,
        })
    }

    /// Runs `dtictl args` against the stack with the development secret (tokens minted per
    /// command's principal) and `extra_env` (e.g. `DTI_TOKEN` of another role).
    pub async fn dtictl_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        self.run(args, Some("en"), extra_env).await
    }

    /// Runs `dtictl args` against the stack as a person does: no `DTI_LANG` unless `extra_env`
    /// sets it, so dtictl speaks its default language.
    pub async fn dtictl_as_is(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        self.run(args, None, extra_env).await
    }

    async fn run(&self, args: &[&str], lang: Option<&str>, extra_env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dtictl"));
        command.args(args).stdin(Stdio::null());
        for (name, _) in std::env::vars() {
            if name.starts_with("DTI_") || name.starts_with("DTICTL_") {
                command.env_remove(name);
            }
        }
        command.env("DTI_AUTH_HS256_SECRET", TEST_HS256_SECRET);
        // The command tests read dtictl's English texts; the language tests choose their own.
        if let Some(lang) = lang {
            command.env("DTI_LANG", lang);
        }
        for (name, endpoint) in &self.endpoints {
            command.env(name, endpoint);
        }
        for (name, value) in extra_env {
            command.env(name, value);
        }
        tokio::task::spawn_blocking(move || command.output().expect("dtictl runs"))
            .await
            .expect("dtictl's runner does not panic")
    }

    /// Runs `dtictl args` against the stack as [`Stack::dtictl_with`] without extra variables.
    pub async fn dtictl(&self, args: &[&str]) -> Output {
        self.dtictl_with(args, &[]).await
    }

    /// Runs `dtictl args` and asserts it succeeded; its standard output.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.dtictl(args).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "dtictl {args:?}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs `dtictl --json args` and parses what it printed.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let stdout = self.ok(&with_json).await;
        serde_json::from_str(&stdout)
            .unwrap_or_else(|error| panic!("dtictl {args:?} printed no JSON ({error}): {stdout}"))
    }

    /// Runs `dtictl args` (with `token` as `DTI_TOKEN` when given) and asserts it exits with
    /// `code`; its standard error.
    pub async fn exits(&self, args: &[&str], token: Option<&str>, code: i32) -> String {
        let env: Vec<(&str, &str)> = token.map(|t| ("DTI_TOKEN", t)).into_iter().collect();
        let out = self.dtictl_with(args, &env).await;
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(code),
            "dtictl {args:?}\nstdout: {}\nstderr: {stderr}",
            text(&out.stdout)
        );
        stderr
    }

    /// Checks each refusal in turn ([`Refusal`]).
    pub async fn refuses(&self, refusals: impl IntoIterator<Item = Refusal<'_>>) {
        for refusal in refusals {
            let stderr = self.exits(&refusal.args, refusal.token, refusal.code).await;
            for named in &refusal.named {
                assert!(
                    stderr.contains(named),
                    "dtictl {:?}: {named:?} in {stderr}",
                    refusal.args
                );
            }
        }
    }

    /// Opens the district round (as the operator).
    pub async fn open_round(&self) -> String {
        self.ok(&with_round(&["round", "open"])).await
    }

    /// Submits the sample cohort for every unit of it (as each unit); what dtictl printed.
    pub async fn submit_sample(&self) -> String {
        let sample = repo_file(SAMPLE);
        self.ok(&["submit", "--year", "2023", "--input", &sample])
            .await
    }

    /// A token (for `DTI_TOKEN`) of `role`, city-wide, for wrong-role checks.
    pub fn token(&self, role: dti_auth::Role) -> String {
        bare(self.backends.token(role))
    }

    /// A token (for `DTI_TOKEN`) of `unit_id`'s submitter.
    pub fn unit_token(&self, unit_id: &str) -> String {
        bare(self.backends.unit_token(unit_id))
    }

    /// A token (for `DTI_TOKEN`) of `department_id`'s data owner.
    pub fn department_token(&self, department_id: &str) -> String {
        bare(self.backends.department_token(department_id))
    }

    /// Stops every service and the receiver, then drops the test database.
    pub async fn stop(self) -> anyhow::Result<()> {
        for service in self.services.into_iter().rev() {
            service.stop().await?;
        }
        self.receiver_shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.receiver).await;
        drop(self.evidence_root);
        self.backends.close().await?;
        Ok(())
    }
}
