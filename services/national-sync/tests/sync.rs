//! Sync to the national system on the real stack, against the reference receiver binary:
//! dry run and diff, push and idempotency, rejection and correction, the receiver failing and
//! timing out then recovering, the scheduled sync, HTTPS with a configured CA file, and the
//! roles, tokens and bad inputs of every sync RPC.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    assert_every_item_accepted_once, clients, eventually, install_crypto, national_set,
    owner_request, plan_and_push, push_settings, start_service, submit_all, wait_for_pushes,
    Clients, ReceiverProcess, YEAR,
};
use dti_auth::{Principal, Role, Scope, TokenMinter};
use dti_national_sync::national_api::{
    HttpNationalApi, HttpSettings, NationalApi, PushBody, PushDecision,
};
use dti_national_sync::national_set::NationalSet;
use dti_national_sync::receiver::Faults;
use dti_national_sync::report::{self, PushOutcome};
use dti_national_sync::Settings;
use dti_proto::dti::common::v1 as common_pb;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_service_kit::status::field_violations;
use dti_testkit::{with_auth, TestBackends};
use serde_json::json;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(90);

fn population(count: u64) -> pb::SubmitOwnerValuesRequest {
    pb::SubmitOwnerValuesRequest {
        year: YEAR,
        indicators: vec![],
        general_info: vec![pb::OwnerGeneralInfoValue {
            key: "population".into(),
            value: Some(common_pb::VariableValue {
                value: Some(common_pb::variable_value::Value::Count(count)),
            }),
            evidence: vec![],
        }],
    }
}

fn planned<'a>(plan: &'a pb::SyncPlan, code: &str) -> &'a pb::PlannedItem {
    plan.items
        .iter()
        .find(|i| i.item.as_ref().is_some_and(|r| r.code == code))
        .expect("item in plan")
}

async fn finished_run(
    backends: &TestBackends,
    c: &mut Clients,
    run_id: &str,
) -> anyhow::Result<pb::SyncRun> {
    let token = backends.token(Role::Operator);
    eventually(WAIT, "the run to finish", || {
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

#[tokio::test]
async fn dry_run_shows_payload_and_diff_then_push_is_accepted_and_not_repeated(
) -> anyhow::Result<()> {
    let receiver = ReceiverProcess::start(&[]).await?;
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    let set = national_set();
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let operator = backends.token(Role::Operator);

    let plan = c
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    assert_eq!(plan.to_push as usize, set.items().len());
    let item = planned(&plan, "6.22");
    assert_eq!(item.action, i32::from(pb::PlanAction::Push));
    assert_eq!(item.diff, i32::from(pb::ValueDiff::Added));
    let body: PushBody = serde_json::from_str(&item.payload_json)?;
    assert_eq!(body.combine, "sum");
    assert_eq!(body.owners.len(), 3);
    assert_eq!(
        body.value,
        json!({"amount": 3_000_003}),
        "the three owners' 1_000_001 summed"
    );
    assert_eq!(body.idempotency_key, item.idempotency_key);
    assert_eq!((body.year, body.province.as_str()), (2024, "79"));
    assert_eq!(
        receiver.state().await?.requests,
        0,
        "the dry run sends nothing"
    );

    // A confirmation of a plan that is no longer current is refused.
    c.owners
        .submit_owner_values(with_auth(
            population(9_400_000),
            &backends.department_token("cuc-thong-ke"),
        ))
        .await?;
    let stale = c
        .sync
        .start_sync(with_auth(
            pb::StartSyncRequest {
                year: YEAR,
                plan_digest: plan.plan_digest.clone(),
            },
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        stale.code(),
        Code::FailedPrecondition,
        "{}",
        stale.message()
    );
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM national_sync_runs")
        .fetch_one(backends.db.pool())
        .await?;
    assert_eq!(runs, 0);

    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    assert_eq!(run.items as usize, set.items().len());
    let run = finished_run(&backends, &mut c, &run.run_id).await?;
    assert_eq!(
        (run.accepted as usize, run.rejected, run.pending),
        (set.items().len(), 0, 0)
    );
    assert_every_item_accepted_once(backends.db.pool(), &receiver).await?;

    // Nothing new: the next dry run pushes nothing and a sync queues nothing.
    let again = c
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    assert_eq!(again.to_push, 0);
    assert!(again
        .items
        .iter()
        .all(|i| i.action == i32::from(pb::PlanAction::AlreadyAccepted)
            && i.diff == i32::from(pb::ValueDiff::Unchanged)));
    let (_, empty) = plan_and_push(&backends, &mut c, YEAR).await?;
    assert_eq!(empty.items, 0);
    assert!(empty.finished_at.is_some());

    // One owner changes one value: only it is pushed, with its diff.
    c.owners
        .submit_owner_values(with_auth(
            population(9_500_000),
            &backends.department_token("cuc-thong-ke"),
        ))
        .await?;
    let changed = c
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    assert_eq!(changed.to_push, 1);
    let item = planned(&changed, "population");
    assert_eq!(item.diff, i32::from(pb::ValueDiff::Changed));
    assert_eq!(item.value_json, "9500000");
    assert_eq!(item.last_accepted_value_json, "9400000");
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    finished_run(&backends, &mut c, &run.run_id).await?;
    let state = receiver.state().await?;
    let pushed: Vec<_> = state
        .accepted
        .iter()
        .filter(|a| a.code == "population")
        .map(|a| a.value.clone())
        .collect();
    assert_eq!(pushed, [json!(9_400_000), json!(9_500_000)]);

    // The push log per owner, and the reconciliation report.
    let log = c
        .sync
        .list_push_log(with_auth(
            pb::ListPushLogRequest {
                year: YEAR,
                department_id: "so-tai-chinh".into(),
                ..Default::default()
            },
            &operator,
        ))
        .await?
        .into_inner();
    assert!(log
        .entries
        .iter()
        .all(|e| e.department_id == "so-tai-chinh"));
    assert!(log
        .entries
        .iter()
        .any(|e| e.event == i32::from(pb::PushEvent::Sent)
            && e.item.as_ref().is_some_and(|i| i.code == "6.22")));
    assert!(log
        .entries
        .iter()
        .any(|e| e.event == i32::from(pb::PushEvent::Accepted)
            && e.item.as_ref().is_some_and(|i| i.code == "6.22")));
    let report = report::report_from_database(backends.db.url(), YEAR, "mic-2022-province").await?;
    let row = report
        .rows
        .iter()
        .find(|r| r.code == "population")
        .expect("population row");
    let pushed = row.last_pushed.as_ref().expect("pushed");
    assert_eq!(
        (pushed.version, &pushed.value),
        (3, &json!(9_500_000)),
        "11, then 9.4 M, then 9.5 M"
    );
    assert!(matches!(pushed.outcome, PushOutcome::Accepted(_)));
    let table = report.render_table();
    assert!(table.contains("general information population"), "{table}");
    assert!(table.contains("accepted (receipt NAT-2024-"), "{table}");

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_queued_older_version_is_superseded_and_never_sent() -> anyhow::Result<()> {
    let receiver = ReceiverProcess::start(&[]).await?;
    let backends = TestBackends::create().await?;
    // First an instance that queues but does not push.
    let mut quiet = push_settings(&receiver.url);
    quiet.push.workers = 0;
    let running = start_service(&backends, quiet).await?;
    let mut c = clients(&running);
    let owner = backends.department_token("cuc-thong-ke");
    let request = owner_request(&national_set(), "cuc-thong-ke", YEAR, 1);
    let owned = request.indicators.len() + request.general_info.len();
    c.owners
        .submit_owner_values(with_auth(request, &owner))
        .await?;
    let (_, first) = plan_and_push(&backends, &mut c, YEAR).await?;
    assert_eq!(first.items as usize, owned);
    c.owners
        .submit_owner_values(with_auth(population(9_600_000), &owner))
        .await?;
    let (plan, second) = plan_and_push(&backends, &mut c, YEAR).await?;
    assert_eq!(plan.to_push, 1);
    assert_eq!(second.items, 1);
    running.stop().await?;

    // Then an instance that pushes: population goes out once, as the newer value.
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    wait_for_pushes(backends.db.pool(), WAIT).await?;
    let first = finished_run(&backends, &mut c, &first.run_id).await?;
    assert_eq!((first.accepted as usize, first.superseded), (owned - 1, 1));
    let state = receiver.state().await?;
    let pushed: Vec<_> = state
        .accepted
        .iter()
        .filter(|a| a.code == "population")
        .map(|a| a.value.clone())
        .collect();
    assert_eq!(pushed, [json!(9_600_000)], "the older value was never sent");
    assert_eq!(state.accepted.len(), owned);
    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_rejected_indicator_is_disputed_until_its_owner_corrects_it() -> anyhow::Result<()> {
    let reason = "exceeds the budget the province reported to the Ministry of Finance";
    let reject = format!("6.22={reason}");
    let receiver = ReceiverProcess::start(&["--reject", &reject]).await?;
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    let operator = backends.token(Role::Operator);
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id).await?;
    assert_eq!(run.rejected, 1);

    let seen = c
        .sync
        .get_completeness(with_auth(
            pb::GetCompletenessRequest {
                year: YEAR,
                department_id: String::new(),
            },
            &operator,
        ))
        .await?
        .into_inner();
    assert_eq!(seen.disputed, 1);
    let item = seen
        .items
        .iter()
        .find(|i| i.item.as_ref().is_some_and(|r| r.code == "6.22"))
        .expect("6.22");
    assert_eq!(item.status, i32::from(pb::ItemStatus::Disputed));
    assert_eq!(item.disputes.len(), 3, "each owner is asked to look");
    assert!(item
        .disputes
        .iter()
        .all(|d| d.reason == reason && d.source == i32::from(pb::DisputeSource::NationalSystem)));
    for owner in ["so-tai-chinh", "so-ke-hoach-dau-tu", "so-tttt"] {
        let grouped = seen
            .owners
            .iter()
            .find(|o| o.department_id == owner)
            .expect("owner");
        assert!(grouped.disputed.iter().any(|i| i.code == "6.22"), "{owner}");
    }
    let log = c
        .sync
        .list_push_log(with_auth(
            pb::ListPushLogRequest {
                year: YEAR,
                run_id: run.run_id.clone(),
                ..Default::default()
            },
            &backends.department_token("so-ke-hoach-dau-tu"),
        ))
        .await?
        .into_inner();
    let rejected: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.event == i32::from(pb::PushEvent::Rejected))
        .collect();
    assert_eq!(rejected.len(), 1, "the owner sees its own entry");
    assert_eq!(rejected[0].detail, reason);
    let plan = c
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    assert_eq!(
        planned(&plan, "6.22").action,
        i32::from(pb::PlanAction::Rejected)
    );
    assert_eq!(planned(&plan, "6.22").rejection_reason, reason);
    let report = report::report_from_database(backends.db.url(), YEAR, "mic-2022-province").await?;
    let row = report
        .rows
        .iter()
        .find(|r| r.code == "6.22")
        .expect("6.22 row");
    assert_eq!(
        row.last_pushed.as_ref().map(|p| p.outcome.clone()),
        Some(PushOutcome::Rejected(reason.into()))
    );
    assert!(report
        .render_table()
        .contains(&format!("rejected: {reason}")));

    // The national system is fixed and Sở TT&TT corrects its part: a new version is accepted.
    receiver.set_faults(&Faults::default()).await?;
    let mut correction = owner_request(&national_set(), "so-tttt", YEAR, 1);
    correction.general_info.clear();
    correction.indicators.retain(|i| i.indicator_code == "6.22");
    correction.indicators[0].variables.insert(
        "amount".into(),
        common_pb::VariableValue {
            value: Some(common_pb::variable_value::Value::Money(1)),
        },
    );
    c.owners
        .submit_owner_values(with_auth(correction, &backends.department_token("so-tttt")))
        .await?;
    let plan = c
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    assert_eq!(plan.to_push, 1);
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id).await?;
    assert_eq!(run.accepted, 1);
    let state = receiver.state().await?;
    let accepted: Vec<_> = state.accepted.iter().filter(|a| a.code == "6.22").collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].value, json!({"amount": 2_000_003}));
    let seen = c
        .sync
        .get_completeness(with_auth(
            pb::GetCompletenessRequest {
                year: YEAR,
                department_id: String::new(),
            },
            &operator,
        ))
        .await?
        .into_inner();
    assert_eq!((seen.disputed, seen.missing), (0, 0));

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

#[tokio::test]
async fn receiver_failing_and_timing_out_then_recovering_ends_with_every_item_accepted_once(
) -> anyhow::Result<()> {
    // 15 pushes fail with 503 (not processed); the next 10 are processed but answered after
    // 1.5 s, beyond the client's 400 ms timeout, so their retries meet the idempotency record.
    let receiver = ReceiverProcess::start(&[
        "--fail-first",
        "15",
        "--delay-first",
        "10",
        "--delay-ms",
        "1500",
    ])
    .await?;
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id).await?;
    assert_eq!((run.rejected, run.pending), (0, 0));
    assert_every_item_accepted_once(backends.db.pool(), &receiver).await?;
    let state = receiver.state().await?;
    assert_eq!((state.injected_failures, state.delayed), (15, 10));
    assert!(
        state.replays >= 1,
        "a timed-out push was resent and answered from the record"
    );
    let failures: i64 =
        sqlx::query_scalar("SELECT count(*) FROM national_push_log WHERE event = 'failed'")
            .fetch_one(backends.db.pool())
            .await?;
    assert!(
        failures >= 25,
        "every failure and timeout is in the push log, got {failures}"
    );
    let with_status: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM national_push_log WHERE event = 'failed' AND http_status = 503",
    )
    .fetch_one(backends.db.pool())
    .await?;
    assert!(with_status >= 15);

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_scheduled_sync_pushes_the_current_year_only_when_values_changed() -> anyhow::Result<()>
{
    let receiver = ReceiverProcess::start(&[]).await?;
    let backends = TestBackends::create().await?;
    let mut settings = push_settings(&receiver.url);
    settings.schedule.interval_secs = 1;
    let running = start_service(&backends, settings).await?;
    let mut c = clients(&running);
    let year = dti_national_sync::schedule::current_year();
    let set = national_set();
    let request = owner_request(&set, "cuc-thong-ke", year, 1);
    let owned = request.indicators.len() + request.general_info.len();
    c.owners
        .submit_owner_values(with_auth(
            request,
            &backends.department_token("cuc-thong-ke"),
        ))
        .await?;
    eventually(
        WAIT,
        "the scheduled sync to push cuc-thong-ke's items",
        || async { Ok((receiver.state().await?.accepted.len() == owned).then_some(())) },
    )
    .await?;
    wait_for_pushes(backends.db.pool(), WAIT).await?;
    // Nothing changed: a few more intervals start no run.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let runs: Vec<(String, i32)> =
        sqlx::query_as("SELECT trigger, items FROM national_sync_runs ORDER BY created_at")
            .fetch_all(backends.db.pool())
            .await?;
    assert_eq!(runs, [("schedule".to_owned(), i32::try_from(owned)?)]);
    // A change is pushed by the next interval.
    let mut changed = population(1);
    changed.year = year;
    c.owners
        .submit_owner_values(with_auth(
            changed,
            &backends.department_token("cuc-thong-ke"),
        ))
        .await?;
    eventually(WAIT, "the change to be pushed", || async {
        Ok((receiver.state().await?.accepted.len() == owned + 1).then_some(()))
    })
    .await?;
    let runs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM national_sync_runs WHERE trigger = 'schedule'")
            .fetch_one(backends.db.pool())
            .await?;
    assert_eq!(runs, 2);

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`.
fn write_test_pki(
    dir: &std::path::Path,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test national DTI CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server_key = KeyPair::generate()?;
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "national receiver");
    let server_cert = server_params.signed_by(&server_key, &issuer)?;
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server-key.pem"),
    );
    std::fs::write(&ca, ca_cert.pem())?;
    std::fs::write(&cert, server_cert.pem())?;
    std::fs::write(&key, server_key.serialize_pem())?;
    Ok((ca, cert, key))
}

#[tokio::test]
async fn https_with_a_configured_ca_file_pushes_and_an_untrusted_server_is_refused(
) -> anyhow::Result<()> {
    install_crypto();
    let dir = tempfile::tempdir()?;
    let (ca, cert, key) = write_test_pki(dir.path())?;
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(&ca)?)?])
        .build()?;
    let receiver = ReceiverProcess::start_with_client(
        &[
            "--tls-cert",
            cert.to_str().unwrap_or_default(),
            "--tls-key",
            key.to_str().unwrap_or_default(),
            "--token",
            "national-api-token-for-tests",
        ],
        trusting,
    )
    .await?;
    assert!(
        receiver.url.starts_with("https://127.0.0.1:"),
        "{}",
        receiver.url
    );

    // Without the CA file the system's roots do not trust the server: no answer.
    let untrusted = HttpNationalApi::new(&HttpSettings {
        endpoint: receiver.url.clone(),
        ca_file: None,
        api_token: None,
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let failure = untrusted.push("k", &json!({})).await.unwrap_err();
    assert!(
        failure.is_transient() && failure.to_string().contains("certificate"),
        "{failure}"
    );

    // The service with the CA file configured pushes over HTTPS.
    let backends = TestBackends::create().await?;
    let mut settings = push_settings(&receiver.url);
    settings.national.allow_plain_http = false;
    settings.national.ca_file = Some(ca.clone());
    settings.national.api_token = Some("national-api-token-for-tests".to_owned().into());
    settings.national.request_timeout_ms = 5_000;
    let running = start_service(&backends, settings).await?;
    let mut c = clients(&running);
    let set = national_set();
    let request = owner_request(&set, "so-noi-vu", YEAR, 1);
    let owned = request.general_info.len() + request.indicators.len();
    c.owners
        .submit_owner_values(with_auth(request, &backends.department_token("so-noi-vu")))
        .await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id).await?;
    assert_eq!(run.accepted as usize, owned);
    let state = receiver.state().await?;
    assert_eq!(state.accepted.len(), owned);
    assert!(state
        .accepted
        .iter()
        .all(|a| a.idempotency_key.starts_with("79-2024-")));

    // The HTTP client itself, trusting the CA: a repeated key gets the first answer.
    let trusted = HttpNationalApi::new(&HttpSettings {
        endpoint: receiver.url.clone(),
        ca_file: Some(ca.clone()),
        api_token: Some("national-api-token-for-tests".to_owned().into()),
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let job: (String, serde_json::Value) =
        sqlx::query_as("SELECT idempotency_key, body FROM national_push_jobs LIMIT 1")
            .fetch_one(backends.db.pool())
            .await?;
    let replay = trusted.push(&job.0, &job.1).await?;
    assert!(matches!(replay.decision, PushDecision::Accepted { .. }));
    assert_eq!(
        receiver.state().await?.accepted.len(),
        owned,
        "a replay accepts nothing new"
    );
    // Without the national API token the request itself is refused (not retried at once).
    let tokenless = HttpNationalApi::new(&HttpSettings {
        endpoint: receiver.url.clone(),
        ca_file: Some(ca),
        api_token: None,
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let refused = tokenless.push(&job.0, &job.1).await.unwrap_err();
    assert_eq!(refused.http_status(), Some(401));
    assert!(!refused.is_transient());

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

/// The sync RPCs, each with a valid request (some need data to exist to succeed, but the
/// authentication and role checks come first).
#[derive(Debug, Clone, Copy)]
enum Rpc {
    Completeness,
    Dispute,
    Plan,
    Start,
    GetRun,
    PushLog,
}

impl Rpc {
    const ALL: [Rpc; 6] = [
        Rpc::Completeness,
        Rpc::Dispute,
        Rpc::Plan,
        Rpc::Start,
        Rpc::GetRun,
        Rpc::PushLog,
    ];

    /// Roles that may not call it.
    fn forbidden(self) -> &'static [Role] {
        match self {
            Rpc::Completeness | Rpc::PushLog => &[Role::UnitSubmitter, Role::Approver],
            Rpc::Dispute => &[
                Role::UnitSubmitter,
                Role::Approver,
                Role::NationalSync,
                Role::DataOwner,
            ],
            Rpc::Plan | Rpc::Start => &[
                Role::UnitSubmitter,
                Role::Approver,
                Role::Verifier,
                Role::DataOwner,
            ],
            Rpc::GetRun => &[Role::UnitSubmitter, Role::Approver, Role::DataOwner],
        }
    }

    async fn call(self, c: &mut Clients, bearer: Option<&str>) -> Result<(), tonic::Status> {
        fn request<T>(message: T, bearer: Option<&str>) -> tonic::Request<T> {
            match bearer {
                Some(bearer) => with_auth(message, bearer),
                None => tonic::Request::new(message),
            }
        }
        let item = Some(pb::ItemRef {
            kind: pb::ItemKind::Indicator.into(),
            code: "1.1".into(),
        });
        match self {
            Rpc::Completeness => c
                .sync
                .get_completeness(request(
                    pb::GetCompletenessRequest {
                        year: YEAR,
                        department_id: String::new(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::Dispute => c
                .sync
                .dispute_value(request(
                    pb::DisputeValueRequest {
                        year: YEAR,
                        item,
                        department_id: "so-tttt".into(),
                        reason: "why".into(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::Plan => c
                .sync
                .plan_sync(request(pb::PlanSyncRequest { year: YEAR }, bearer))
                .await
                .map(drop),
            Rpc::Start => c
                .sync
                .start_sync(request(
                    pb::StartSyncRequest {
                        year: YEAR,
                        plan_digest: "abc".into(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::GetRun => c
                .sync
                .get_sync_run(request(
                    pb::GetSyncRunRequest {
                        run_id: uuid::Uuid::nil().to_string(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::PushLog => c
                .sync
                .list_push_log(request(
                    pb::ListPushLogRequest {
                        year: YEAR,
                        ..Default::default()
                    },
                    bearer,
                ))
                .await
                .map(drop),
        }
    }
}

fn principal_of(role: Role) -> Principal {
    let scope = match role {
        Role::DataOwner => Scope::Department {
            department_id: "so-tttt".into(),
        },
        Role::UnitSubmitter => Scope::Unit {
            unit_id: "quan-1".into(),
        },
        _ => Scope::City,
    };
    Principal {
        subject: format!("t-{role}"),
        role,
        scope,
    }
}

#[tokio::test]
async fn sync_rpcs_refuse_bad_tokens_wrong_roles_and_bad_input() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    // No national endpoint: StartSync cannot push.
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let operator = principal_of(Role::Operator);
    let expired = format!(
        "Bearer {}",
        backends
            .minter()
            .mint_at(&operator, now - 7200, now - 3600)?
    );
    let forged = format!(
        "Bearer {}",
        TokenMinter::hs256(
            b"not-the-test-secret-not-the-test-secret!",
            "dti-platform",
            "dti"
        )
        .mint(&operator, Duration::from_secs(600))?
    );
    let wrong_audience = format!(
        "Bearer {}",
        TokenMinter::hs256(
            b"test-only-hs256-secret-0123456789abcdef",
            "dti-platform",
            "someone-else"
        )
        .mint(&operator, Duration::from_secs(600))?
    );
    for rpc in Rpc::ALL {
        for bearer in [
            None,
            Some(expired.as_str()),
            Some(forged.as_str()),
            Some(wrong_audience.as_str()),
        ] {
            let status = rpc.call(&mut c, bearer).await.unwrap_err();
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{rpc:?} with {bearer:?}"
            );
        }
        for role in rpc.forbidden() {
            let bearer = backends.bearer(&principal_of(*role));
            let status = rpc.call(&mut c, Some(&bearer)).await.unwrap_err();
            assert_eq!(
                status.code(),
                Code::PermissionDenied,
                "{rpc:?} as {role}: {}",
                status.message()
            );
        }
    }
    // A data owner reading another department's completeness or push log.
    let owner = backends.department_token("so-noi-vu");
    let other = |department: &str| pb::GetCompletenessRequest {
        year: YEAR,
        department_id: department.into(),
    };
    let status = c
        .sync
        .get_completeness(with_auth(other("so-tttt"), &owner))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = c
        .sync
        .list_push_log(with_auth(
            pb::ListPushLogRequest {
                year: YEAR,
                department_id: "so-tttt".into(),
                ..Default::default()
            },
            &owner,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Bad input, each naming its field.
    let operator = backends.token(Role::Operator);
    let invalid = |status: tonic::Status, field: &str| {
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{field}: {}",
            status.message()
        );
        let fields: Vec<String> = field_violations(&status)
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert!(
            fields.iter().any(|f| f == field),
            "{fields:?} should name {field}"
        );
    };
    invalid(
        c.sync
            .get_completeness(with_auth(
                pb::GetCompletenessRequest {
                    year: 2021,
                    department_id: String::new(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "year",
    );
    invalid(
        c.sync
            .get_completeness(with_auth(other("so-y-te"), &operator))
            .await
            .unwrap_err(),
        "department_id",
    );
    invalid(
        c.sync
            .plan_sync(with_auth(pb::PlanSyncRequest { year: 0 }, &operator))
            .await
            .unwrap_err(),
        "year",
    );
    invalid(
        c.sync
            .start_sync(with_auth(
                pb::StartSyncRequest {
                    year: YEAR,
                    plan_digest: " ".into(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "plan_digest",
    );
    invalid(
        c.sync
            .start_sync(with_auth(
                pb::StartSyncRequest {
                    year: 2500,
                    plan_digest: "x".into(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "year",
    );
    invalid(
        c.sync
            .get_sync_run(with_auth(
                pb::GetSyncRunRequest {
                    run_id: "run-1".into(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "run_id",
    );
    invalid(
        c.sync
            .list_push_log(with_auth(
                pb::ListPushLogRequest {
                    year: YEAR,
                    limit: 10_000,
                    ..Default::default()
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "limit",
    );
    invalid(
        c.sync
            .list_push_log(with_auth(
                pb::ListPushLogRequest {
                    year: YEAR,
                    run_id: "x".into(),
                    ..Default::default()
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "run_id",
    );
    let dispute =
        |item: Option<pb::ItemRef>, department: &str, reason: &str| pb::DisputeValueRequest {
            year: YEAR,
            item,
            department_id: department.into(),
            reason: reason.into(),
        };
    let indicator = |code: &str| {
        Some(pb::ItemRef {
            kind: pb::ItemKind::Indicator.into(),
            code: code.into(),
        })
    };
    invalid(
        c.sync
            .dispute_value(with_auth(dispute(None, "so-tttt", "why"), &operator))
            .await
            .unwrap_err(),
        "item",
    );
    invalid(
        c.sync
            .dispute_value(with_auth(
                dispute(
                    Some(pb::ItemRef {
                        kind: 0,
                        code: "1.1".into(),
                    }),
                    "so-tttt",
                    "why",
                ),
                &operator,
            ))
            .await
            .unwrap_err(),
        "item.kind",
    );
    invalid(
        c.sync
            .dispute_value(with_auth(
                dispute(indicator("99.1"), "so-tttt", "why"),
                &operator,
            ))
            .await
            .unwrap_err(),
        "item.code",
    );
    invalid(
        c.sync
            .dispute_value(with_auth(
                dispute(indicator("1.1"), "so-noi-vu", "why"),
                &operator,
            ))
            .await
            .unwrap_err(),
        "department_id",
    );
    invalid(
        c.sync
            .dispute_value(with_auth(
                dispute(indicator("1.1"), "so-tttt", " "),
                &operator,
            ))
            .await
            .unwrap_err(),
        "reason",
    );

    // Valid requests about things that do not exist, and a push with no endpoint.
    let status = c
        .sync
        .dispute_value(with_auth(
            dispute(indicator("1.1"), "so-tttt", "why"),
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "nothing supplied yet");
    let status = Rpc::GetRun.call(&mut c, Some(&operator)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let plan = c
        .sync
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    let status = c
        .sync
        .start_sync(with_auth(
            pb::StartSyncRequest {
                year: YEAR,
                plan_digest: plan.plan_digest,
            },
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM national_sync_runs")
        .fetch_one(backends.db.pool())
        .await?;
    assert_eq!(runs, 0, "nothing was started");

    running.stop().await?;
    backends.close().await?;
    Ok(())
}

#[test]
fn the_test_set_matches_the_framework_data() {
    let set: NationalSet = national_set();
    assert_eq!(set.items().len(), 121);
}
