//! Approval and publication: the approver's verified ranking, an immutable first revision with
//! a content hash anyone can recompute, a correction that adds revision 2 and leaves revision 1
//! untouched, objections only during the provisional period, finalization only after it (by an
//! operator or the background task), and every change refused once the result is final.

mod support;

use std::time::Duration;

use dti_proto::dti::verification::v1::{
    AnswerObjectionRequest, FileObjectionRequest, FinalizeRoundRequest, GetPublicationRequest,
    ListObjectionsRequest, ListPublicationsRequest, ObjectionOutcome, PublishCorrectionRequest,
    RequestClarificationRequest, ReturnForVerificationRequest,
};
use dti_testkit::{wait_until, with_auth, Poll};
use dti_verification::Settings;
use sha2::{Digest, Sha256};
use support::{accept, count, overridden, round, unit_ref, values, Stack};
use tonic::Code;

fn objection(unit: &str, indicator: &str, reason: &str) -> FileObjectionRequest {
    FileObjectionRequest {
        round: Some(round()),
        unit: Some(unit_ref(unit)),
        indicator_code: indicator.to_owned(),
        reason: reason.to_owned(),
    }
}

fn finalize() -> FinalizeRoundRequest {
    FinalizeRoundRequest {
        round: Some(round()),
    }
}

fn revision(n: u32) -> GetPublicationRequest {
    GetPublicationRequest {
        round: Some(round()),
        revision: n,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_adds_a_revision_and_never_touches_the_first() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let ids = stack
        .verified_round(&[
            ("quan-1", Some(values(7, 4))),
            ("quan-3", Some(values(9, 8))),
            ("quan-4", None),
        ])
        .await?;
    let q1 = ids["quan-1"].clone();
    stack.approve().await?;
    let first = stack.publish().await?;
    assert_eq!(first.revision, 1);
    assert_eq!(first.reason, "initial publication");
    assert_eq!(first.round_state, "provisional");
    assert!(first.hash_verified);
    let ranked: Vec<(&str, u32)> = first
        .ranks
        .iter()
        .map(|r| (r.unit_id.as_str(), r.rank))
        .collect();
    assert_eq!(ranked, [("quan-3", 1), ("quan-1", 2), ("quan-4", 3)]);
    let until = first.provisional_until.expect("a provisional period");
    let published = first.published_at.expect("published_at");
    assert_eq!(
        until.seconds - published.seconds,
        7 * 24 * 3600,
        "the default: 7 days"
    );

    // The snapshot: framework version, inputs, every score with its explanation, ranks; and a
    // hash anyone can recompute from it.
    assert!(
        first.snapshot_json.is_empty(),
        "read the snapshot with GetPublication"
    );
    let stored_first = stack
        .publication()
        .get_publication(with_auth(revision(1), &stack.unit("quan-1")))
        .await?
        .into_inner();
    assert!(stored_first.hash_verified);
    assert_eq!(stored_first.content_hash, first.content_hash);
    let snapshot: serde_json::Value = serde_json::from_str(&stored_first.snapshot_json)?;
    assert_eq!(snapshot["format"], "dti-publication/1");
    assert_eq!(snapshot["framework"]["id"], "hcm-2023-district");
    assert_eq!(snapshot["units"][1]["unit"], "quan-1");
    assert_eq!(snapshot["units"][1]["input"]["submission_id"], q1.as_str());
    assert_eq!(snapshot["units"][1]["input"]["version"], 1);
    assert_eq!(
        snapshot["units"][1]["indicators"].as_array().map(Vec::len),
        Some(51)
    );
    assert!(snapshot["units"][1]["indicators"][1]["explanation"]["summary"].is_string());
    assert!(
        snapshot["units"][2]["input"].is_null(),
        "quan-4 submitted nothing"
    );
    let recomputed = hex::encode(Sha256::digest(
        dti_audit::canonical_json(&snapshot).as_bytes(),
    ));
    assert_eq!(recomputed, first.content_hash);

    // Published revisions cannot be edited, by the API or in the database.
    let again = stack.publish().await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let edit = sqlx::query("UPDATE publications SET snapshot = '{}'::jsonb WHERE revision = 1")
        .execute(stack.backends.db.pool())
        .await
        .unwrap_err();
    assert!(edit.to_string().contains("immutable"), "{edit}");
    let removal = sqlx::query("DELETE FROM publication_ranks")
        .execute(stack.backends.db.pool())
        .await
        .unwrap_err();
    assert!(removal.to_string().contains("immutable"), "{removal}");
    let unchanged = stack
        .publication()
        .publish_correction(with_auth(
            PublishCorrectionRequest {
                round: Some(round()),
                reason: "nothing to correct".into(),
            },
            &stack.approver(),
        ))
        .await
        .unwrap_err();
    assert_eq!(unchanged.code(), Code::FailedPrecondition);
    assert!(
        unchanged.message().contains("nothing changed"),
        "{}",
        unchanged.message()
    );

    // quan-1 objects; the objection is upheld and corrected.
    let filed = stack
        .publication()
        .file_objection(with_auth(
            objection(
                "quan-1",
                "5.1",
                "we run 12 approved systems; the list is attached",
            ),
            &stack.unit("quan-1"),
        ))
        .await?
        .into_inner();
    assert_eq!(filed.revision, 1);
    assert_eq!(filed.outcome, ObjectionOutcome::Unspecified as i32);
    let no_reason = stack.decide(&q1, 1, vec![accept("1.1")]).await.unwrap_err();
    assert_eq!(
        no_reason.code(),
        Code::InvalidArgument,
        "a correction always says why"
    );
    let corrected = stack
        .decide(
            &q1,
            1,
            vec![overridden(
                "5.1",
                &[("a", count(12))],
                "objection upheld: 12 systems are approved",
            )],
        )
        .await?;
    assert_eq!(corrected.changed_indicator_codes, ["5.1"]);
    let second = stack
        .publication()
        .publish_correction(with_auth(
            PublishCorrectionRequest {
                round: Some(round()),
                reason: "objection of quan-1 on 5.1 upheld".into(),
            },
            &stack.approver(),
        ))
        .await?
        .into_inner();
    assert_eq!(second.revision, 2);
    assert_eq!(second.reason, "objection of quan-1 on 5.1 upheld");
    assert!(second.hash_verified);
    assert_ne!(second.content_hash, first.content_hash);
    let ranked: Vec<(&str, u32)> = second
        .ranks
        .iter()
        .map(|r| (r.unit_id.as_str(), r.rank))
        .collect();
    assert_eq!(ranked, [("quan-1", 1), ("quan-3", 2), ("quan-4", 3)]);

    let still_first = stack
        .publication()
        .get_publication(with_auth(revision(1), &stack.unit("quan-4")))
        .await?
        .into_inner();
    assert_eq!(still_first.snapshot_json, stored_first.snapshot_json);
    assert_eq!(still_first.content_hash, first.content_hash);
    assert!(
        still_first.hash_verified,
        "revision 1 still hashes to its content hash"
    );
    assert_eq!(still_first.ranks, first.ranks);
    let latest = stack
        .publication()
        .get_publication(with_auth(revision(0), &stack.operator()))
        .await?
        .into_inner();
    assert_eq!(latest.revision, 2);
    let listed = stack
        .publication()
        .list_publications(with_auth(
            ListPublicationsRequest {
                round: Some(round()),
            },
            &stack.verifier(),
        ))
        .await?
        .into_inner()
        .publications;
    assert_eq!(
        listed.iter().map(|p| p.revision).collect::<Vec<_>>(),
        [1, 2]
    );

    let answered = stack
        .publication()
        .answer_objection(with_auth(
            AnswerObjectionRequest {
                objection_id: filed.objection_id.clone(),
                outcome: ObjectionOutcome::Upheld as i32,
                answer: "corrected in revision 2".into(),
            },
            &stack.approver(),
        ))
        .await?
        .into_inner();
    assert_eq!(answered.outcome, ObjectionOutcome::Upheld as i32);
    let twice = stack
        .publication()
        .answer_objection(with_auth(
            AnswerObjectionRequest {
                objection_id: filed.objection_id.clone(),
                outcome: ObjectionOutcome::Rejected as i32,
                answer: "changed my mind".into(),
            },
            &stack.verifier(),
        ))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);

    let early = stack
        .publication()
        .finalize_round(with_auth(finalize(), &stack.operator()))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("provisional period"),
        "{}",
        early.message()
    );
    assert_eq!(stack.round_state().await?, "provisional");

    stack.wait_outbox_drained().await?;
    assert_eq!(
        stack.published_ids("verification.published.v1").await?,
        [
            "publication/2023/hcm-2023-district/r1",
            "publication/2023/hcm-2023-district/r2"
        ]
    );
    assert_eq!(
        stack
            .published_ids("verification.objection_filed.v1")
            .await?,
        [format!("objection/{}", filed.objection_id)]
    );
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objections_come_only_in_the_period_and_open_ones_hold_the_result() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .verified_round(&[
            ("quan-1", Some(values(7, 4))),
            ("quan-3", Some(values(9, 8))),
        ])
        .await?;
    let early = stack
        .publication()
        .file_objection(with_auth(
            objection("quan-1", "", "the ranking is wrong"),
            &stack.unit("quan-1"),
        ))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "not published yet");
    stack.approve().await?;
    stack.publish().await?;
    let filed = stack
        .publication()
        .file_objection(with_auth(
            objection("quan-3", "", "our 5.1 systems were not all counted"),
            &stack.unit("quan-3"),
        ))
        .await?
        .into_inner();
    let own = stack
        .publication()
        .list_objections(with_auth(
            ListObjectionsRequest {
                round: Some(round()),
                unit_id: String::new(),
            },
            &stack.unit("quan-1"),
        ))
        .await?
        .into_inner();
    assert!(
        own.objections.is_empty(),
        "quan-1 sees only its own objections"
    );
    let all = stack
        .publication()
        .list_objections(with_auth(
            ListObjectionsRequest {
                round: Some(round()),
                unit_id: String::new(),
            },
            &stack.verifier(),
        ))
        .await?
        .into_inner();
    assert_eq!(all.objections.len(), 1);

    // Move the end of the provisional period into the past (as if a week went by).
    sqlx::query(
        "UPDATE round_provisional_periods SET published_at = now() - interval '7 days', \
         provisional_until = now() - interval '1 second'",
    )
    .execute(stack.backends.db.pool())
    .await?;
    let late = stack
        .publication()
        .file_objection(with_auth(
            objection("quan-1", "1.2", "too late"),
            &stack.unit("quan-1"),
        ))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(late.message().contains("ended"), "{}", late.message());
    let held = stack
        .publication()
        .finalize_round(with_auth(finalize(), &stack.operator()))
        .await
        .unwrap_err();
    assert_eq!(held.code(), Code::FailedPrecondition);
    assert!(
        held.message().contains("not answered"),
        "{}",
        held.message()
    );
    stack
        .publication()
        .answer_objection(with_auth(
            AnswerObjectionRequest {
                objection_id: filed.objection_id.clone(),
                outcome: ObjectionOutcome::Rejected as i32,
                answer: "every approved system was counted".into(),
            },
            &stack.verifier(),
        ))
        .await?;
    let approver_finalizing = stack
        .publication()
        .finalize_round(with_auth(finalize(), &stack.approver()))
        .await
        .unwrap_err();
    assert_eq!(approver_finalizing.code(), Code::PermissionDenied);
    let status = stack
        .publication()
        .finalize_round(with_auth(finalize(), &stack.operator()))
        .await?
        .into_inner();
    assert_eq!(status.state, "final");
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_final_every_change_is_refused() -> anyhow::Result<()> {
    let stack = Stack::start_with(Settings {
        provisional_period_secs: 0,
        finalize_check_interval_secs: 3600,
        ..Settings::default()
    })
    .await?;
    let ids = stack
        .verified_round(&[
            ("quan-1", Some(values(7, 4))),
            ("quan-3", Some(values(9, 8))),
        ])
        .await?;
    let q1 = ids["quan-1"].clone();
    stack.approve().await?;
    stack.publish().await?;
    stack
        .publication()
        .finalize_round(with_auth(finalize(), &stack.operator()))
        .await?;
    assert_eq!(stack.round_state().await?, "final");
    let before = stack.footprint().await?;

    let mut refusals = vec![
        stack.publish().await.unwrap_err(),
        stack.approve().await.unwrap_err(),
        stack.start_verification().await.unwrap_err(),
        stack.complete_round().await.unwrap_err(),
        stack.complete(&q1, 1).await.unwrap_err(),
        stack
            .decide(
                &q1,
                1,
                vec![overridden(
                    "1.2",
                    &[("a", count(1)), ("b", count(10))],
                    "late",
                )],
            )
            .await
            .unwrap_err(),
    ];
    refusals.push(
        stack
            .publication()
            .publish_correction(with_auth(
                PublishCorrectionRequest {
                    round: Some(round()),
                    reason: "a late correction".into(),
                },
                &stack.approver(),
            ))
            .await
            .unwrap_err(),
    );
    refusals.push(
        stack
            .publication()
            .file_objection(with_auth(
                objection("quan-1", "", "too late"),
                &stack.unit("quan-1"),
            ))
            .await
            .unwrap_err(),
    );
    refusals.push(
        stack
            .publication()
            .finalize_round(with_auth(finalize(), &stack.operator()))
            .await
            .unwrap_err(),
    );
    refusals.push(
        stack
            .approval()
            .return_for_verification(with_auth(
                ReturnForVerificationRequest {
                    round: Some(round()),
                    reason: "look again".into(),
                },
                &stack.approver(),
            ))
            .await
            .unwrap_err(),
    );
    refusals.push(
        stack
            .verification()
            .request_clarification(with_auth(
                RequestClarificationRequest {
                    submission_id: q1.clone(),
                    version: 1,
                    questions: vec![dti_proto::dti::verification::v1::ClarificationQuestion {
                        indicator_code: "1.2".into(),
                        question: "Why?".into(),
                    }],
                },
                &stack.verifier(),
            ))
            .await
            .unwrap_err(),
    );
    for refusal in &refusals {
        assert_eq!(refusal.code(), Code::FailedPrecondition, "{refusal:?}");
    }
    assert!(
        refusals[5].message().contains("final"),
        "{}",
        refusals[5].message()
    );
    assert_eq!(stack.footprint().await?, before, "nothing changed");
    assert_eq!(stack.round_state().await?, "final");
    let published = stack
        .publication()
        .get_publication(with_auth(revision(0), &stack.unit("quan-3")))
        .await?
        .into_inner();
    assert_eq!(published.revision, 1);
    assert_eq!(published.round_state, "final");
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_finalizer_makes_a_result_final_when_its_period_ends() -> anyhow::Result<()> {
    let stack = Stack::start_with(Settings {
        provisional_period_secs: 0,
        finalize_check_interval_secs: 1,
        ..Settings::default()
    })
    .await?;
    stack
        .verified_round(&[("quan-1", Some(values(7, 4)))])
        .await?;
    stack.approve().await?;
    stack.publish().await?;
    let poll = Poll::new(Duration::from_secs(10), Duration::from_millis(100));
    let finalized = wait_until("the round to be final", poll, || async {
        Ok(stack.round_state().await? == "final")
    })
    .await;
    assert!(finalized.is_ok(), "{finalized:?}");
    assert_eq!(stack.round_state().await?, "final");
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM audit_log WHERE action = 'round.finalize'")
            .fetch_one(stack.backends.db.pool())
            .await?;
    assert_eq!(actor, "system:provisional-period");
    stack.close().await
}
