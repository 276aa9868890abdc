//! Sync to the national system on the real stack, against the reference receiver: dry run and
//! diff, push and idempotency, rejection and correction, the receiver failing and timing out
//! then recovering, and the scheduled sync. HTTPS is `https.rs`; roles, tokens and bad input
//! of every sync RPC are `sync_access.rs`.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_i18n::Lang;
use dti_national_receiver::Faults;
use dti_national_sync::national_api::PushBody;
use dti_national_sync::national_set::NationalSet;
use dti_national_sync::report::{self, PushOutcome};
use dti_proto::dti::common::v1 as common_pb;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_testkit::{with_auth, TestBackends};
use serde_json::json;
use support::{
    assert_every_item_accepted_once, clients, eventually, finished_run, national_set,
    owner_request, plan_and_push, push_settings, start_service, submit_all, wait_for_pushes,
    Clients, RunningReceiver, WAIT, YEAR,
};
use tonic::Code;

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

/// The statistics office submits `count` as [`YEAR`]'s population.
async fn submit_population(
    c: &mut Clients,
    backends: &TestBackends,
    count: u64,
) -> anyhow::Result<()> {
    let owner = backends.department_token("cuc-thong-ke");
    c.owners
        .submit_owner_values(with_auth(population(count), &owner))
        .await?;
    Ok(())
}

/// The reconciliation report of [`YEAR`].
async fn read_report(backends: &TestBackends) -> anyhow::Result<report::Report> {
    let request = report::ReportRequest::new(YEAR, "mic-2022-province")?;
    Ok(request.read(backends.db.pool()).await?)
}

/// The report's row of the item `code`.
fn report_row<'a>(report: &'a report::Report, code: &str) -> &'a report::ReportRow {
    let row = report.rows.iter().find(|row| row.code == code);
    row.unwrap_or_else(|| panic!("the report has a row of {code}"))
}

fn planned<'a>(plan: &'a pb::SyncPlan, code: &str) -> &'a pb::PlannedItem {
    plan.items
        .iter()
        .find(|i| i.item.as_ref().is_some_and(|r| r.code == code))
        .expect("item in plan")
}

/// Every department's completeness of [`YEAR`], read as `operator`.
async fn completeness(c: &mut Clients, operator: &str) -> anyhow::Result<pb::Completeness> {
    let request = pb::GetCompletenessRequest {
        year: YEAR,
        department_id: String::new(),
    };
    Ok(c.sync
        .get_completeness(with_auth(request, operator))
        .await?
        .into_inner())
}

#[tokio::test]
async fn dry_run_shows_payload_and_diff_then_push_is_accepted_and_not_repeated(
) -> anyhow::Result<()> {
    let receiver = RunningReceiver::start(&[]).await?;
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    let set = national_set();
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let operator = backends.token(Role::Operator);

    let plan = c.dry_run(YEAR, &operator).await?;
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
    submit_population(&mut c, &backends, 9_400_000).await?;
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
    let run = finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
    assert_eq!(
        (run.accepted as usize, run.rejected, run.pending),
        (set.items().len(), 0, 0)
    );
    assert_every_item_accepted_once(backends.db.pool(), &receiver).await?;

    // Nothing new: the next dry run pushes nothing and a sync queues nothing.
    let again = c.dry_run(YEAR, &operator).await?;
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
    submit_population(&mut c, &backends, 9_500_000).await?;
    let changed = c.dry_run(YEAR, &operator).await?;
    assert_eq!(changed.to_push, 1);
    let item = planned(&changed, "population");
    assert_eq!(item.diff, i32::from(pb::ValueDiff::Changed));
    assert_eq!(item.value_json, "9500000");
    assert_eq!(item.last_accepted_value_json, "9400000");
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
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
    let report = read_report(&backends).await?;
    let row = report_row(&report, "population");
    let pushed = row.last_pushed.as_ref().expect("pushed");
    assert_eq!(
        (pushed.version, &pushed.value),
        (3, &json!(9_500_000)),
        "11, then 9.4 M, then 9.5 M"
    );
    assert!(matches!(pushed.outcome, PushOutcome::Accepted(_)));
    let table = report.render_table(Lang::En);
    let bang = report.render_table(Lang::Vi);
    assert!(bang.contains("thông tin chung population"), "{bang}");
    assert!(
        bang.contains("đã được tiếp nhận (biên nhận NAT-2024-"),
        "{bang}"
    );
    assert!(table.contains("general information population"), "{table}");
    assert!(table.contains("accepted (receipt NAT-2024-"), "{table}");

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_queued_older_version_is_superseded_and_never_sent() -> anyhow::Result<()> {
    let receiver = RunningReceiver::start(&[]).await?;
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
    let first = finished_run(&backends, &mut c, &first.run_id, WAIT).await?;
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
    let receiver = RunningReceiver::start(&["--reject", &reject]).await?;
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    let operator = backends.token(Role::Operator);
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
    assert_eq!(run.rejected, 1);

    let seen = completeness(&mut c, &operator).await?;
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
    let plan = c.dry_run(YEAR, &operator).await?;
    assert_eq!(
        planned(&plan, "6.22").action,
        i32::from(pb::PlanAction::Rejected)
    );
    assert_eq!(planned(&plan, "6.22").rejection_reason, reason);
    let report = read_report(&backends).await?;
    let row = report_row(&report, "6.22");
    assert_eq!(
        row.last_pushed.as_ref().map(|p| p.outcome.clone()),
        Some(PushOutcome::Rejected(reason.into()))
    );
    assert!(report
        .render_table(Lang::En)
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
    let plan = c.dry_run(YEAR, &operator).await?;
    assert_eq!(plan.to_push, 1);
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
    assert_eq!(run.accepted, 1);
    let state = receiver.state().await?;
    let accepted: Vec<_> = state.accepted.iter().filter(|a| a.code == "6.22").collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].value, json!({"amount": 2_000_003}));
    let seen = completeness(&mut c, &operator).await?;
    assert_eq!((seen.disputed, seen.missing), (0, 0));

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}

#[tokio::test]
async fn no_database_transaction_stays_open_while_a_push_travels() -> anyhow::Result<()> {
    // The first five pushes are answered only after 1.5 s (within the client's timeout). A
    // worker claims, commits, then sends: while those answers are awaited, no session of the
    // service's database sits inside a transaction.
    let receiver = RunningReceiver::start(&["--delay-first", "5", "--delay-ms", "1500"]).await?;
    let backends = TestBackends::create().await?;
    let mut settings = push_settings(&receiver.url);
    settings.national.request_timeout_ms = 5_000;
    let running = start_service(&backends, settings).await?;
    let mut c = clients(&running);
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let pool = backends.db.pool();
    let mut samples = 0;
    let mut held_open = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < until {
        let state = receiver.state().await?;
        let in_flight = state.requests > 0 && state.delayed < 5;
        let idle_in_transaction: Vec<String> = sqlx::query_scalar(
            "SELECT coalesce(query, '') FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND state LIKE 'idle in transaction%' \
             AND now() - state_change > interval '300 milliseconds'",
        )
        .fetch_all(pool)
        .await?;
        held_open.extend(idle_in_transaction);
        if in_flight || state.delayed > 0 {
            samples += 1;
        }
        if state.delayed >= 5 && state.accepted.len() > 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(samples >= 5, "the delayed pushes were watched: {samples}");
    assert!(
        held_open.is_empty(),
        "a transaction was held open across a push: {held_open:?}"
    );
    let run = finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
    assert_eq!((run.rejected, run.pending), (0, 0));
    assert_every_item_accepted_once(pool, &receiver).await?;
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
    let receiver = RunningReceiver::start(&[
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
    let run = finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
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
    let receiver = RunningReceiver::start(&[]).await?;
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

#[test]
fn the_test_set_matches_the_framework_data() {
    let set: NationalSet = national_set();
    assert_eq!(set.items().len(), 121);
}
