//! Shared test harness: the reference receiver run as its real binary, the service started on
//! the test's own database and NATS prefix, owners' values generated from the framework data,
//! gRPC clients with tokens, and waiting for pushes to finish.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::future::Future;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use dti_domain::framework::VariableType;
use dti_national_sync::national_set::{ItemKind, ItemShape, NationalSet};
use dti_national_sync::receiver::{Faults, ReceiverState};
use dti_national_sync::Settings;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_proto::dti::nationalsync::v1::national_sync_service_client::NationalSyncServiceClient;
use dti_proto::dti::nationalsync::v1::owner_data_service_client::OwnerDataServiceClient;
use dti_service_kit::RunningService;
use dti_testkit::{with_auth, TestBackends};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::Channel;

/// The year the tests fill in.
pub const YEAR: u32 = 2024;

/// rustls needs a process-wide provider for the test's own HTTP client (the service builds
/// its own configuration with ring explicitly).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The routed national set.
pub fn national_set() -> NationalSet {
    NationalSet::builtin("mic-2022-province").expect("the built-in set routes")
}

/// The reference receiver, running as its binary.
pub struct ReceiverProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
    client: reqwest::Client,
}

impl ReceiverProcess {
    /// Starts `dti-national-receiver` on a free loopback port with `args`.
    pub async fn start(args: &[&str]) -> anyhow::Result<Self> {
        install_crypto();
        Self::start_with_client(args, reqwest::Client::new()).await
    }

    /// Starts it with a client that trusts what `args` serves (HTTPS tests).
    pub async fn start_with_client(args: &[&str], client: reqwest::Client) -> anyhow::Result<Self> {
        install_crypto();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dti-national-receiver"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting dti-national-receiver")?;
        let stdout = child.stdout.take().context("receiver stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .context("waiting for the receiver to listen")??
            .context("the receiver exited before listening")?;
        let url = line
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line {line:?}"))?
            .to_owned();
        Ok(Self { child, url, client })
    }

    /// What it has seen.
    pub async fn state(&self) -> anyhow::Result<ReceiverState> {
        let response = self
            .client
            .get(format!("{}/control/state", self.url))
            .send()
            .await?
            .error_for_status()?;
        Ok(serde_json::from_slice(&response.bytes().await?)?)
    }

    /// Replaces its faults.
    pub async fn set_faults(&self, faults: &Faults) -> anyhow::Result<()> {
        self.client
            .put(format!("{}/control/faults", self.url))
            .body(serde_json::to_vec(faults)?)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Stops it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// Settings pushing to `endpoint` with short timeouts and delays.
pub fn push_settings(endpoint: &str) -> Settings {
    let mut settings = Settings::default();
    settings.national.endpoint = Some(endpoint.to_owned());
    settings.national.allow_plain_http = true;
    settings.national.request_timeout_ms = 400;
    settings.national.connect_timeout_ms = 400;
    settings.push.workers = 3;
    settings.push.poll_interval_ms = 200;
    settings.push.retry_min_delay_ms = 20;
    settings.push.retry_max_delay_ms = 100;
    settings.push.retry_max_times = 2;
    settings.push.requeue_delay_ms = 200;
    settings.push.max_requeue_delay_ms = 600;
    settings
}

/// Starts the service in-process on `backends`.
pub async fn start_service(
    backends: &TestBackends,
    settings: Settings,
) -> anyhow::Result<RunningService> {
    let config = backends.service_config(settings);
    Ok(dti_national_sync::build(&config).await?.spawn()?)
}

/// Clients of both services.
pub struct Clients {
    /// Owner API.
    pub owners: OwnerDataServiceClient<Channel>,
    /// Sync API.
    pub sync: NationalSyncServiceClient<Channel>,
}

/// Clients over `running`'s channel.
pub fn clients(running: &RunningService) -> Clients {
    Clients {
        owners: OwnerDataServiceClient::new(running.channel()),
        sync: NationalSyncServiceClient::new(running.channel()),
    }
}

fn value(ty: &VariableType, seed: u64) -> common::VariableValue {
    use common::variable_value::Value as Case;
    let case = match ty {
        VariableType::Count => Case::Count(10 + seed),
        VariableType::Money => Case::Money(1_000_000 + seed),
        VariableType::Bool => Case::Flag(seed.is_multiple_of(2)),
        VariableType::Choice { choices } => Case::Choice(choices[0].clone()),
        VariableType::Decimal => Case::Decimal(format!("12.{seed}5")),
        VariableType::Text => Case::Text(format!("text {seed}")),
        VariableType::Activities => Case::Activities(common::ActivityList::default()),
    };
    common::VariableValue { value: Some(case) }
}

/// The values of one indicator for `seed`.
pub fn indicator_values(set: &NationalSet, code: &str, seed: u64) -> pb::OwnerIndicatorValues {
    let item = set
        .item(&dti_national_sync::national_set::ItemKey::indicator(code))
        .expect("a known indicator");
    let indicator = set.indicator(item).expect("an indicator item");
    pb::OwnerIndicatorValues {
        indicator_code: code.to_owned(),
        variables: indicator
            .variables
            .iter()
            .map(|v| (v.name.to_string(), value(&v.ty, seed)))
            .collect(),
        evidence: vec![pb::EvidenceRef {
            reference: format!("evidence/{code}/{seed}"),
            title: "Báo cáo".into(),
        }],
    }
}

/// `department`'s request setting every item it owns, values derived from `seed`.
pub fn owner_request(
    set: &NationalSet,
    department: &str,
    year: u32,
    seed: u64,
) -> pb::SubmitOwnerValuesRequest {
    let mut request = pb::SubmitOwnerValuesRequest {
        year,
        ..Default::default()
    };
    for item in set
        .items()
        .iter()
        .filter(|i| i.owners.iter().any(|o| o.as_str() == department))
    {
        match (&item.key.kind, &item.shape) {
            (ItemKind::Indicator, _) => {
                request
                    .indicators
                    .push(indicator_values(set, &item.key.code, seed))
            }
            (ItemKind::GeneralInfo, ItemShape::GeneralInfo(ty)) => {
                request.general_info.push(pb::OwnerGeneralInfoValue {
                    key: item.key.code.clone(),
                    value: Some(value(ty, seed)),
                    evidence: vec![],
                })
            }
            _ => {}
        }
    }
    request
}

/// Every owner submits every item it owns.
pub async fn submit_all(
    backends: &TestBackends,
    clients: &mut Clients,
    year: u32,
    seed: u64,
) -> anyhow::Result<()> {
    let set = national_set();
    for owner in set.owners() {
        let request = owner_request(&set, owner.as_str(), year, seed);
        clients
            .owners
            .submit_owner_values(with_auth(
                request,
                &backends.department_token(owner.as_str()),
            ))
            .await
            .with_context(|| format!("{owner} submits its values"))?;
    }
    Ok(())
}

/// Dry run then push as an operator; returns the run.
pub async fn plan_and_push(
    backends: &TestBackends,
    clients: &mut Clients,
    year: u32,
) -> anyhow::Result<(pb::SyncPlan, pb::SyncRun)> {
    let operator = backends.token(dti_auth::Role::Operator);
    let plan = clients
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year }, &operator))
        .await?
        .into_inner();
    let run = clients
        .sync
        .start_sync(with_auth(
            pb::StartSyncRequest {
                year,
                plan_digest: plan.plan_digest.clone(),
            },
            &operator,
        ))
        .await?
        .into_inner();
    Ok((plan, run))
}

/// Polls `check` until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until no push of the database is pending.
pub async fn wait_for_pushes(pool: &sqlx::PgPool, limit: Duration) -> anyhow::Result<()> {
    eventually(limit, "every push to be answered", || async {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM national_push_jobs WHERE state = 'pending'")
                .fetch_one(pool)
                .await?;
        Ok((pending == 0).then_some(()))
    })
    .await
}

/// Accepted pushes at the receiver per item code; each value is how many times it was accepted.
pub fn accepted_counts(
    state: &ReceiverState,
) -> std::collections::BTreeMap<(String, String), usize> {
    let mut counts = std::collections::BTreeMap::new();
    for push in &state.accepted {
        *counts
            .entry((push.kind.clone(), push.code.clone()))
            .or_insert(0) += 1;
    }
    counts
}

/// Asserts the receiver accepted every item of the set exactly once and the service's push
/// log records exactly one acceptance per item, version and owner.
pub async fn assert_every_item_accepted_once(
    pool: &sqlx::PgPool,
    receiver: &ReceiverProcess,
) -> anyhow::Result<()> {
    let set = national_set();
    let state = receiver.state().await?;
    let counts = accepted_counts(&state);
    assert_eq!(counts.len(), set.items().len(), "every item was accepted");
    for item in set.items() {
        let key = (item.key.kind.as_str().to_owned(), item.key.code.clone());
        assert_eq!(
            counts.get(&key),
            Some(&1),
            "{} accepted exactly once",
            item.key
        );
    }
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM national_push_log WHERE event = 'accepted' \
         GROUP BY year, item_kind, item_code, version, owner_id HAVING count(*) > 1) d",
    )
    .fetch_one(pool)
    .await?;
    assert_eq!(duplicates, 0, "no acceptance is logged twice");
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT (item_kind, item_code)) FROM national_push_log WHERE event = 'accepted'",
    )
    .fetch_one(pool)
    .await?;
    assert_eq!(usize::try_from(logged)?, set.items().len());
    let accepted_jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM national_push_jobs WHERE state = 'accepted'")
            .fetch_one(pool)
            .await?;
    assert_eq!(usize::try_from(accepted_jobs)?, set.items().len());
    Ok(())
}
