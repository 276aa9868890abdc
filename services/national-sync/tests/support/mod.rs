//! The national-sync service's test wiring: the service started on the test's own database
//! and NATS prefix, the reference receiver ([`receiver`]), owners' values generated from the
//! framework data, gRPC clients with tokens, and waiting for pushes to finish. Backends,
//! tokens and polling come from `dti-testkit`.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod receiver;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use dti_domain::framework::VariableType;
use dti_national_receiver::ReceiverState;
use dti_national_sync::national_set::{ItemKind, ItemShape, NationalSet};
use dti_national_sync::Settings;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_proto::dti::nationalsync::v1::national_sync_service_client::NationalSyncServiceClient;
use dti_proto::dti::nationalsync::v1::owner_data_service_client::OwnerDataServiceClient;
use dti_service_kit::RunningService;
use dti_testkit::{with_auth, Poll, TestBackends};
use tonic::transport::Channel;

pub use receiver::RunningReceiver;

/// The year the tests fill in.
pub const YEAR: u32 = 2024;

/// How long a test waits for a run to finish or its pushes to be answered.
pub const WAIT: Duration = Duration::from_secs(90);

/// rustls needs a process-wide provider for the test's own HTTP client (the service builds
/// its own configuration with ring explicitly).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The routed national set.
pub fn national_set() -> NationalSet {
    NationalSet::builtin("mic-2022-province").expect("the built-in set routes")
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

impl Clients {
    /// The dry run of `year`'s sync, read with `token`.
    pub async fn dry_run(&mut self, year: u32, token: &str) -> anyhow::Result<pb::SyncPlan> {
        let request = with_auth(pb::PlanSyncRequest { year }, token);
        Ok(self.sync.plan_sync(request).await?.into_inner())
    }
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
    let plan = clients.dry_run(year, &operator).await?;
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

/// Polls `check` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    dti_testkit::eventually(what, Poll::new(limit, Duration::from_millis(100)), check).await
}

/// Waits (at most `limit`) until sync run `run_id` has finished, and returns it.
pub async fn finished_run(
    backends: &TestBackends,
    c: &mut Clients,
    run_id: &str,
    limit: Duration,
) -> anyhow::Result<pb::SyncRun> {
    let token = backends.token(dti_auth::Role::Operator);
    eventually(limit, "the run to finish", || {
        let mut sync = c.sync.clone();
        let token = token.clone();
        let run_id = run_id.to_owned();
        async move {
            let run = sync
                .get_sync_run(with_auth(pb::GetSyncRunRequest { run_id }, &token))
                .await?
                .into_inner();
            Ok(run.finished_at.is_some().then_some(run))
        }
    })
    .await
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
    receiver: &RunningReceiver,
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

/// Row counts of everything a write could change.
pub async fn footprint(pool: &sqlx::PgPool) -> anyhow::Result<[i64; 5]> {
    let mut counts = [0; 5];
    for (slot, table) in [
        "national_owner_parts",
        "national_value_versions",
        "national_items",
        "audit_log",
        "outbox_messages",
    ]
    .iter()
    .enumerate()
    {
        counts[slot] =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(pool)
                .await?;
    }
    Ok(counts)
}

/// An amount of money.
pub fn money(amount: u64) -> common::VariableValue {
    common::VariableValue {
        value: Some(common::variable_value::Value::Money(amount)),
    }
}

/// A request setting one variable of one indicator of [`YEAR`].
pub fn one_indicator(
    code: &str,
    variable: &str,
    value: common::VariableValue,
) -> pb::SubmitOwnerValuesRequest {
    pb::SubmitOwnerValuesRequest {
        year: YEAR,
        indicators: vec![pb::OwnerIndicatorValues {
            indicator_code: code.into(),
            variables: [(variable.to_owned(), value)].into_iter().collect(),
            evidence: vec![],
        }],
        general_info: vec![],
    }
}
