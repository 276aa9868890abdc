//! The verification service's answers rendered as protobuf: round status, submission
//! summaries and reviews, the side-by-side view, the verified ranking, publications and
//! objections.

use dti_domain::values::InputIssue;
use dti_domain::UnitId;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::verification::v1 as pb;
use dti_service_kit::status::FieldViolation;
use dti_workflow::rounds::proto_round;

use crate::convert::{
    decision_kind_to_proto, decision_to_proto, evidence_to_proto, objection_outcome_to_proto,
    points, reported_to_proto, score_to_proto, timestamp,
};
use crate::objections::Objection;
use crate::publication::{PublicationSummary, PublicationView};
use crate::review::{SideBySide, SubmissionReview, SubmissionSummary};
use crate::rounds::{RoundStatus, VerifiedRanking};
use crate::versions::ChangeKind;

/// A unit id as protobuf.
pub(super) fn unit_ref(unit: &UnitId) -> common::UnitRef {
    common::UnitRef {
        unit_id: unit.to_string(),
    }
}

/// A count as protobuf (saturating at `u32::MAX`).
pub(super) fn count(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// A round's status as protobuf.
pub(super) fn status_to_proto(status: &RoundStatus) -> pb::RoundStatus {
    pb::RoundStatus {
        round: Some(proto_round(&status.record.round)),
        state: status.record.state.as_str().to_owned(),
        provisional_until: status.provisional_until.map(timestamp),
    }
}

/// A submission's summary as protobuf.
pub(super) fn summary_to_proto(summary: &SubmissionSummary) -> pb::SubmissionSummary {
    pb::SubmissionSummary {
        submission_id: summary.id.to_string(),
        unit: Some(unit_ref(&summary.unit)),
        state: summary.state.as_str().to_owned(),
        latest_version: count(summary.latest_version),
        decided: count(summary.decided),
        indicators: count(summary.indicators),
    }
}

/// A submission under review as protobuf.
pub(super) fn review_to_proto(review: &SubmissionReview) -> pb::SubmissionReview {
    pb::SubmissionReview {
        summary: Some(summary_to_proto(&review.summary)),
        round: Some(proto_round(&review.round)),
        submitted_at: Some(timestamp(review.submitted_at)),
        indicators: review
            .indicators
            .iter()
            .map(|row| pb::IndicatorReview {
                indicator_code: row.indicator.code.to_string(),
                name: row.indicator.name.clone(),
                max_points: row.indicator.points.to_string(),
                self_value: reported_to_proto(&row.indicator.code, row.reported.as_ref()),
                self_score: score_to_proto(row.self_score.as_ref()),
                evidence: evidence_to_proto(&row.evidence),
                decision: row
                    .decision
                    .as_ref()
                    .map(|d| decision_to_proto(&row.indicator.code, d)),
            })
            .collect(),
        previous_version: count(review.previous_version),
        changes: review
            .changes
            .iter()
            .map(|reviewed| {
                let change = &reviewed.change;
                pb::VersionChange {
                    indicator_code: change.code.to_string(),
                    kind: match change.kind {
                        ChangeKind::Added => pb::ChangeKind::Added,
                        ChangeKind::Removed => pb::ChangeKind::Removed,
                        ChangeKind::Changed => pb::ChangeKind::Changed,
                    } as i32,
                    previous: reported_to_proto(&change.code, change.previous.as_ref()),
                    current: reported_to_proto(&change.code, change.current.as_ref()),
                    question: reviewed.question.clone().unwrap_or_default(),
                }
            })
            .collect(),
        decisions_revision: u64::try_from(review.decisions_revision).unwrap_or(0),
        self_total: points(review.self_total),
    }
}

/// The side-by-side view of a unit as protobuf.
pub(super) fn side_by_side_to_proto(view: &SideBySide) -> pb::SideBySide {
    let difference = dti_engine::Points(view.verified_total.0 - view.self_total.0);
    pb::SideBySide {
        round: Some(proto_round(&view.round)),
        unit: Some(unit_ref(&view.unit)),
        submission_id: view
            .submission
            .as_ref()
            .map(|s| s.id.to_string())
            .unwrap_or_default(),
        version: view.submission.as_ref().map_or(0, |s| count(s.version)),
        state: view
            .submission
            .as_ref()
            .map(|s| s.state.as_str().to_owned())
            .unwrap_or_default(),
        rows: view
            .rows
            .iter()
            .map(|row| {
                let code = &row.indicator.code;
                pb::SideBySideRow {
                    indicator_code: code.to_string(),
                    name: row.indicator.name.clone(),
                    self_value: reported_to_proto(code, row.reported.as_ref()),
                    self_score: score_to_proto(row.self_score.as_ref()),
                    verified_value: reported_to_proto(code, row.verified.as_ref()),
                    verified_score: score_to_proto(row.verified_score.as_ref()),
                    difference: points(row.difference()),
                    difference_cents: row.difference().cents(),
                    decision: row
                        .decision
                        .as_ref()
                        .map_or(pb::DecisionKind::Unspecified, |d| {
                            decision_kind_to_proto(d.decision.kind())
                        }) as i32,
                    reason: row
                        .decision
                        .as_ref()
                        .and_then(|d| d.reason.clone())
                        .unwrap_or_default(),
                    evidence: evidence_to_proto(&row.evidence),
                }
            })
            .collect(),
        self_total: points(view.self_total),
        verified_total: points(view.verified_total),
        total_difference: points(difference),
        total_difference_cents: difference.cents(),
        self_warnings: warnings_to_proto(&view.self_warnings),
        verified_warnings: warnings_to_proto(&view.verified_warnings),
    }
}

/// The verified ranking as protobuf.
pub(super) fn ranking_to_proto(ranking: &VerifiedRanking) -> pb::VerifiedRanking {
    pb::VerifiedRanking {
        round: Some(proto_round(&ranking.record.round)),
        state: ranking.record.state.as_str().to_owned(),
        units: ranking
            .units
            .iter()
            .map(|unit| pb::RankedUnit {
                unit_id: unit.unit.to_string(),
                total: points(unit.total),
                total_cents: unit.total.cents(),
                rank: unit.rank,
                self_total: points(unit.self_total),
                self_rank: unit.self_rank,
                submission_state: unit
                    .state
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                version: count(unit.version),
            })
            .collect(),
    }
}

/// A publication revision as protobuf.
pub(super) fn publication_to_proto(view: &PublicationView) -> pb::Publication {
    pb::Publication {
        round: Some(proto_round(&view.round)),
        revision: count(view.revision),
        reason: view.reason.clone(),
        published_by: view.published_by.clone(),
        published_at: Some(timestamp(view.published_at)),
        content_hash: hex::encode(&view.content_hash),
        hash_verified: view.hash_verified,
        snapshot_json: view
            .snapshot
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        ranks: view
            .ranks
            .iter()
            .map(|rank| pb::PublishedRank {
                unit_id: rank.unit.clone(),
                total: points(dti_engine::Points(rank.total_cents)),
                total_cents: rank.total_cents,
                rank: count(rank.rank),
            })
            .collect(),
        round_state: view.round_state.as_str().to_owned(),
        provisional_until: view.provisional_until.map(timestamp),
    }
}

/// An objection as protobuf.
pub(super) fn objection_to_proto(objection: &Objection) -> pb::Objection {
    pb::Objection {
        objection_id: objection.id.to_string(),
        round: Some(proto_round(&objection.round)),
        unit: Some(unit_ref(&objection.unit)),
        indicator_code: objection.indicator_code.clone().unwrap_or_default(),
        revision: count(objection.revision),
        reason: objection.reason.clone(),
        filed_by: objection.filed_by.clone(),
        filed_at: Some(timestamp(objection.filed_at)),
        outcome: objection_outcome_to_proto(objection.status) as i32,
        answer: objection
            .answer
            .as_ref()
            .map(|a| a.text.clone())
            .unwrap_or_default(),
        answered_by: objection
            .answer
            .as_ref()
            .map(|a| a.by.clone())
            .unwrap_or_default(),
        answered_at: objection.answer.as_ref().map(|a| timestamp(a.at)),
    }
}

/// Value warnings as protobuf, each naming unit, indicator and variable.
pub(super) fn warnings_to_proto(warnings: &[InputIssue]) -> Vec<pb::ValueWarning> {
    warnings
        .iter()
        .map(|issue| {
            let violation = FieldViolation::from(issue);
            pb::ValueWarning {
                field: violation.field,
                description: violation.description,
            }
        })
        .collect()
}

/// A round's publication revisions as protobuf.
pub(super) fn publication_list_to_proto(
    list: &[PublicationSummary],
) -> Vec<pb::PublicationSummary> {
    list.iter()
        .map(|p| pb::PublicationSummary {
            revision: count(p.revision),
            reason: p.reason.clone(),
            published_by: p.published_by.clone(),
            published_at: Some(timestamp(p.published_at)),
            content_hash: hex::encode(&p.content_hash),
        })
        .collect()
}
