//! Submitting against the real PostgreSQL and NATS JetStream: versions, retries, exactly one
//! `submission.submitted` per version across a relay restart, the deadline and reopening, and
//! the audit chain.

mod support;

use std::time::Duration;

use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::submission::v1::{
    GetSubmissionRequest, ReopenForUnitRequest, SetNotApplicableRequest, SubmissionState,
};
use dti_testkit::refusals::assert_names_field;
use dti_testkit::with_auth;
use support::{round, some_values, Stack};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_grow_and_a_retried_submit_returns_the_same_version() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3600))
        .await?;
    let draft = stack.draft("quan-1").await?;
    assert_eq!(draft.state, SubmissionState::Draft as i32);
    let again = stack.draft("quan-1").await?;
    assert_eq!(
        again.submission_id, draft.submission_id,
        "CreateDraft is idempotent"
    );
    let id = draft.submission_id.clone();

    stack.set("quan-1", &id, some_values(7)).await?;
    assert_eq!(stack.submit("quan-1", &id, "req-1").await?, 1);
    assert_eq!(
        stack.submit("quan-1", &id, "req-1").await?,
        1,
        "a retry returns version 1"
    );
    let refused = stack.submit("quan-1", &id, "req-2").await.unwrap_err();
    assert_eq!(
        refused.code(),
        Code::FailedPrecondition,
        "nothing changed since version 1"
    );

    stack.set("quan-1", &id, some_values(9)).await?;
    let not_applicable = SetNotApplicableRequest {
        submission_id: id.clone(),
        indicator_code: "7.3".into(),
        reason: "no public service points of this kind".into(),
    };
    stack
        .submissions()
        .set_not_applicable(with_auth(not_applicable, &stack.unit_token("quan-1")))
        .await?;
    assert_eq!(stack.submit("quan-1", &id, "req-3").await?, 2);
    assert_eq!(stack.submit("quan-1", &id, "req-3").await?, 2);
    assert_eq!(
        stack.submit("quan-1", &id, "req-1").await?,
        1,
        "the first request id still maps to 1"
    );

    let versions = stack.api().versions("quan-1", &id).await?;
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    let a_of = |v: &dti_proto::dti::submission::v1::SubmissionVersion| {
        v.values
            .iter()
            .find(|i| i.indicator_code == "1.2")
            .and_then(|i| i.variables.get("a").cloned())
    };
    assert_eq!(a_of(&versions[0]), Some(support::count(7)));
    assert_eq!(a_of(&versions[1]), Some(support::count(9)));
    assert_eq!(versions[1].not_applicable.len(), 1);
    assert!(
        versions[0].not_applicable.is_empty(),
        "version 1 is immutable"
    );

    stack.wait_outbox_drained().await?;
    let ids = stack.published_ids("submission.submitted.v1").await?;
    assert_eq!(
        ids,
        [format!("submission/{id}/v1"), format!("submission/{id}/v2")],
        "exactly one event per version"
    );

    let report = dti_audit::verify_round(
        stack.backends.db.pool(),
        &dti_domain::RoundRef {
            year: 2023,
            framework: "hcm-2023-district".parse()?,
        },
    )
    .await?;
    assert_eq!(report.first_broken, None);
    assert!(
        report.entries >= 8,
        "round, draft, values, n/a and submits are audited"
    );
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restarted_mid_flight_publishes_each_version_once() -> anyhow::Result<()> {
    let mut stack = Stack::start().await?;
    let registry = dti_domain::UnitRegistry::builtin()?;
    let districts = registry
        .cohort(&dti_domain::RoundRef {
            year: 2023,
            framework: "hcm-2023-district".parse()?,
        })
        .expect("the 2023 district cohort");
    let units: Vec<String> = districts.units[..12]
        .iter()
        .map(ToString::to_string)
        .collect();
    let unit_refs: Vec<&str> = units.iter().map(String::as_str).collect();
    stack
        .open_round(&unit_refs, Duration::from_secs(3600))
        .await?;
    let mut ids = Vec::new();
    for unit in &units {
        let id = stack.draft(unit).await?.submission_id;
        stack.set(unit, &id, some_values(5)).await?;
        ids.push(id);
    }
    // Every unit submits concurrently, each call retried once, and the service is stopped
    // abruptly right after: the relay may be mid-batch.
    let calls = units.iter().zip(&ids).map(|(unit, id)| {
        let stack = &stack;
        async move {
            let first = stack.submit(unit, id, &format!("{unit}-r1")).await?;
            let retry = stack.submit(unit, id, &format!("{unit}-r1")).await?;
            anyhow::ensure!(first == 1 && retry == 1, "{unit}: {first} then {retry}");
            anyhow::Ok(())
        }
    });
    for result in futures::future::join_all(calls).await {
        result?;
    }
    stack.service.take().expect("running").abort();
    // A relay that died after publishing but before marking leaves rows pending: make some.
    sqlx::query(
        "UPDATE outbox_messages SET published_at = NULL \
         WHERE id IN (SELECT id FROM outbox_messages WHERE subject LIKE '%submission.submitted%' ORDER BY id LIMIT 5)",
    )
    .execute(stack.backends.db.pool())
    .await?;
    stack.service = Some(dti_submission::build(&stack.config).await?.spawn()?);
    stack.wait_outbox_drained().await?;

    let published = stack.published_ids("submission.submitted.v1").await?;
    let mut expected: Vec<String> = ids.iter().map(|id| format!("submission/{id}/v1")).collect();
    expected.sort();
    assert_eq!(published, expected);
    assert_eq!(stack.count("submission_versions").await?, 12);
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_deadline_only_a_reopened_unit_may_submit() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3))
        .await?;
    let q1 = stack.draft("quan-1").await?.submission_id;
    let q3 = stack.draft("quan-3").await?.submission_id;
    stack.set("quan-1", &q1, some_values(3)).await?;
    stack.set("quan-3", &q3, some_values(4)).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;

    let late = stack.submit("quan-1", &q1, "late-1").await.unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(
        late.message().contains("deadline") || late.message().contains("closed"),
        "{}",
        late.message()
    );

    let reopen = ReopenForUnitRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-1".into(),
        }),
        deadline: Some(dti_proto::convert::timestamp(
            chrono::Utc::now() + Duration::from_secs(3600),
        )),
        reason: "the district's portal was down on the deadline day".into(),
    };
    stack
        .operators()
        .reopen_for_unit(with_auth(reopen.clone(), &stack.operator_token()))
        .await?;
    assert_eq!(stack.submit("quan-1", &q1, "late-1").await?, 1);
    let still_late = stack.submit("quan-3", &q3, "late-3").await.unwrap_err();
    assert_eq!(
        still_late.code(),
        Code::FailedPrecondition,
        "only quan-1 was reopened"
    );

    // The deadline closer closed the round on its own.
    let state: String = sqlx::query_scalar("SELECT state FROM rounds")
        .fetch_one(stack.backends.db.pool())
        .await?;
    assert_eq!(state, "closed");

    // A reopening needs a reason and a future deadline; a unit outside the cohort is refused.
    let mut no_reason = reopen.clone();
    no_reason.reason = " ".into();
    let status = stack
        .operators()
        .reopen_for_unit(with_auth(no_reason, &stack.operator_token()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("reason"), "{}", status.message());
    let mut outsider = reopen;
    outsider.unit = Some(UnitRef {
        unit_id: "quan-12".into(),
    });
    let status = stack
        .operators()
        .reopen_for_unit(with_auth(outsider, &stack.operator_token()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    let q1_view = stack
        .submissions()
        .get_submission(with_auth(
            GetSubmissionRequest { submission_id: q1 },
            &stack.unit_token("quan-1"),
        ))
        .await?
        .into_inner();
    assert_eq!(q1_view.state, SubmissionState::Submitted as i32);
    assert_eq!(q1_view.latest_version, 1);
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_left_after_a_submitted_version_is_not_submitted_after_close_unless_reopened(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1"], Duration::from_secs(3600))
        .await?;
    let q1 = stack.draft("quan-1").await?.submission_id;
    stack.set("quan-1", &q1, some_values(3)).await?;
    assert_eq!(stack.submit("quan-1", &q1, "first").await?, 1);
    // The unit takes its submitted version back into a draft, and the round closes.
    stack.set("quan-1", &q1, some_values(5)).await?;
    stack.api().close_round(round()).await?;
    let view = || async {
        let view = stack
            .submissions()
            .get_submission(with_auth(
                GetSubmissionRequest {
                    submission_id: q1.clone(),
                },
                &stack.unit_token("quan-1"),
            ))
            .await?
            .into_inner();
        Ok::<_, anyhow::Error>((view.state, view.latest_version))
    };
    assert_eq!(view().await?, (SubmissionState::Draft as i32, 1));

    let refused = stack
        .submit("quan-1", &q1, "after-close")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("closed"),
        "{}",
        refused.message()
    );
    let edit = stack.set("quan-1", &q1, some_values(6)).await.unwrap_err();
    let edit = edit.downcast_ref::<tonic::Status>().expect("a status");
    assert_eq!(edit.code(), Code::FailedPrecondition);
    assert_eq!(view().await?, (SubmissionState::Draft as i32, 1));
    assert_eq!(stack.count("submission_versions").await?, 1);

    // Reopened for the unit: it may submit until the reopening's deadline, not after it.
    let reopen = |until: std::time::SystemTime| ReopenForUnitRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-1".into(),
        }),
        deadline: Some(dti_proto::convert::timestamp(until.into())),
        reason: "the district asked to correct 1.2".into(),
    };
    let until = std::time::SystemTime::now() + Duration::from_secs(3);
    stack
        .operators()
        .reopen_for_unit(with_auth(reopen(until), &stack.operator_token()))
        .await?;
    stack.set("quan-1", &q1, some_values(6)).await?;
    let left = until
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(500)).await;
    let late = stack.submit("quan-1", &q1, "too-late").await.unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(late.message().contains("has passed"), "{}", late.message());
    assert_eq!(view().await?, (SubmissionState::Draft as i32, 1));
    assert_eq!(stack.count("submission_versions").await?, 1);

    stack
        .operators()
        .reopen_for_unit(with_auth(
            reopen(std::time::SystemTime::now() + Duration::from_secs(3600)),
            &stack.operator_token(),
        ))
        .await?;
    assert_eq!(stack.submit("quan-1", &q1, "reopened").await?, 2);
    assert_eq!(view().await?, (SubmissionState::Submitted as i32, 2));
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_assessment_is_submitted_in_one_call_all_or_nothing() -> anyhow::Result<()> {
    use dti_proto::dti::submission::v1::{NotApplicable, SubmitAssessmentRequest};
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3600))
        .await?;
    let token = stack.unit_token("quan-1");
    let request =
        |values, not_applicable: Vec<(&str, &str)>, request_id: &str| SubmitAssessmentRequest {
            round: Some(round()),
            unit: Some(UnitRef {
                unit_id: "quan-1".into(),
            }),
            values,
            not_applicable: not_applicable
                .into_iter()
                .map(|(code, reason)| NotApplicable {
                    indicator_code: code.into(),
                    reason: reason.into(),
                })
                .collect(),
            client_request_id: request_id.into(),
            ..Default::default()
        };
    let first = stack
        .submissions()
        .submit_assessment(with_auth(
            request(some_values(7), vec![("7.3", "none here")], "a-1"),
            &token,
        ))
        .await?
        .into_inner();
    assert_eq!(first.version, 1);
    let view = first.submission.expect("submission");
    assert_eq!(view.state, SubmissionState::Submitted as i32);
    assert_eq!(view.values.len(), 3);
    assert_eq!(view.not_applicable.len(), 1);
    let retry = stack
        .submissions()
        .submit_assessment(with_auth(request(some_values(99), vec![], "a-1"), &token))
        .await?
        .into_inner();
    assert_eq!(
        retry.version, 1,
        "a retry returns the first version and changes nothing"
    );

    // The second assessment replaces the draft exactly: 2.1 and 7.3 are gone.
    let fewer = some_values(8).into_iter().take(2).collect();
    let second = stack
        .submissions()
        .submit_assessment(with_auth(request(fewer, vec![], "a-2"), &token))
        .await?
        .into_inner();
    assert_eq!(second.version, 2);
    let view = second.submission.expect("submission");
    assert_eq!(view.values.len(), 2);
    assert!(view.not_applicable.is_empty());
    let stored = stack
        .submissions()
        .get_submission(with_auth(
            GetSubmissionRequest {
                submission_id: view.submission_id.clone(),
            },
            &token,
        ))
        .await?
        .into_inner();
    assert_eq!(stored.values, view.values, "the response is what is stored");

    // Invalid: a bad value, a mark that repeats a valued indicator, a mark without reason.
    let versions_before = stack.count("submission_version_values").await?;
    let bad = vec![
        support::indicator("1.1", &[("head_role", support::choice("head"))]),
        support::indicator("1.2", &[("a", support::count(1)), ("b", support::count(0))]),
    ];
    for (values, marks, field) in [
        (bad, vec![], "unit quan-1 / indicator 1.2 / variable b"),
        (
            some_values(1),
            vec![("1.2", "no")],
            "unit quan-1 / indicator 1.2",
        ),
        (
            some_values(1),
            vec![("7.3", " ")],
            "unit quan-1 / indicator 7.3",
        ),
        (
            some_values(1),
            vec![("42.1", "no")],
            "unit quan-1 / indicator 42.1",
        ),
    ] {
        let status = stack
            .submissions()
            .submit_assessment(with_auth(request(values, marks, "a-3"), &token))
            .await
            .unwrap_err();
        assert_names_field(&status, field, field);
    }
    assert_eq!(
        stack.count("submission_version_values").await?,
        versions_before
    );
    let other = stack
        .submissions()
        .submit_assessment(with_auth(
            request(some_values(1), vec![], "a-4"),
            &stack.unit_token("quan-3"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        other.code(),
        Code::PermissionDenied,
        "quan-3 cannot submit for quan-1"
    );

    stack.wait_outbox_drained().await?;
    let id = view.submission_id;
    assert_eq!(
        stack.published_ids("submission.submitted.v1").await?,
        [format!("submission/{id}/v1"), format!("submission/{id}/v2")]
    );
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assessment_is_written_once_and_its_draft_is_that_version_until_edited(
) -> anyhow::Result<()> {
    use dti_proto::dti::submission::v1::{NotApplicable, SubmitAssessmentRequest};
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1"], Duration::from_secs(3600))
        .await?;
    let token = stack.unit_token("quan-1");
    let request = |values, request_id: &str| SubmitAssessmentRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-1".into(),
        }),
        values,
        not_applicable: vec![NotApplicable {
            indicator_code: "7.3".into(),
            reason: "none here".into(),
        }],
        client_request_id: request_id.into(),
        ..Default::default()
    };
    let first = stack
        .submissions()
        .submit_assessment(with_auth(request(some_values(7), "a-1"), &token))
        .await?
        .into_inner();
    let id = first.submission.expect("submission").submission_id;
    // The four entries are stored once, in version 1; the draft reads them from there.
    assert_eq!(stack.count("submission_version_values").await?, 4);
    assert_eq!(stack.count("submission_draft_values").await?, 0);
    let get = |id: String| GetSubmissionRequest { submission_id: id };
    let draft = stack
        .submissions()
        .get_submission(with_auth(get(id.clone()), &token))
        .await?
        .into_inner();
    assert_eq!(draft.values, some_values(7));
    assert_eq!(draft.not_applicable.len(), 1);

    // An edit copies the version into the draft and changes the copy only.
    let edited: Vec<_> = some_values(9)
        .into_iter()
        .filter(|v| v.indicator_code == "1.2")
        .collect();
    stack.set("quan-1", &id, edited).await?;
    assert_eq!(stack.count("submission_draft_values").await?, 4);
    let draft = stack
        .submissions()
        .get_submission(with_auth(get(id.clone()), &token))
        .await?
        .into_inner();
    assert_eq!(draft.values, some_values(9));
    assert_eq!(draft.not_applicable.len(), 1);
    assert_eq!(stack.submit("quan-1", &id, "s-2").await?, 2);

    // A whole assessment again: version 3 holds it, the draft is that version again.
    stack
        .submissions()
        .submit_assessment(with_auth(request(some_values(5), "a-3"), &token))
        .await?;
    assert_eq!(stack.count("submission_draft_values").await?, 0);
    let versions = stack.api().versions("quan-1", &id).await?;
    let values: Vec<_> = versions.iter().map(|v| v.values.clone()).collect();
    assert_eq!(values, [some_values(7), some_values(9), some_values(5)]);
    assert!(versions.iter().all(|v| v.not_applicable.len() == 1));
    let draft = stack
        .submissions()
        .get_submission(with_auth(get(id.clone()), &token))
        .await?
        .into_inner();
    assert_eq!(draft.values, some_values(5));

    // The assessment's audit entry keeps the digest of its values, not a copy of them.
    let after: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'submission.assessment_replaced' ORDER BY id",
    )
    .fetch_all(stack.backends.db.pool())
    .await?;
    assert_eq!(after.len(), 2);
    for entry in &after {
        assert_eq!(entry["indicators"], 4, "{entry}");
        assert_eq!(
            entry["values_sha256"].as_str().map(str::len),
            Some(64),
            "{entry}"
        );
        assert!(entry.get("1.2").is_none(), "no copy of the values: {entry}");
    }
    assert_ne!(after[0]["values_sha256"], after[1]["values_sha256"]);

    // The resubmitted assessment is recorded as the edit, the replaced assessment and the
    // submit, in that order, and the unit's chain still verifies.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE chain = 'unit:quan-1' ORDER BY seq DESC LIMIT 3",
    )
    .fetch_all(stack.backends.db.pool())
    .await?;
    assert_eq!(
        actions,
        [
            "submission.submit",
            "submission.assessment_replaced",
            "submission.edit"
        ]
    );
    let round = dti_domain::RoundRef {
        year: 2023,
        framework: "hcm-2023-district".parse()?,
    };
    let report = dti_audit::verify_round(stack.backends.db.pool(), &round).await?;
    assert_eq!(report.first_broken, None);
    stack.close().await
}
