//! The gRPC handlers: convert the request, call the domain, map errors.

use dti_auth::grpc::principal;
use dti_domain::round::SubmissionState;
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::verification::v1 as pb;
use dti_proto::dti::verification::v1::approval_service_server::ApprovalService;
use dti_proto::dti::verification::v1::publication_service_server::PublicationService;
use dti_proto::dti::verification::v1::verification_service_server::VerificationService;
use dti_service_kit::status::FieldViolation;
use dti_workflow::rounds::{parse_round, proto_round};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::convert::{
    decision_kind_to_proto, decision_to_proto, evidence_to_proto, objection_outcome,
    objection_outcome_to_proto, points, reported_to_proto, requested_decision, score_to_proto,
    timestamp,
};
use crate::objections::{Objection, Objections};
use crate::publication::{PublicationView, Publications};
use crate::review::{Reviews, SideBySide, SubmissionReview, SubmissionSummary};
use crate::rounds::{RoundStatus, RoundSteps, VerifiedRanking};
use crate::versions::ChangeKind;
use crate::VerificationError;

fn uuid_field<I: From<Uuid>>(field: &str, raw: &str) -> Result<I, VerificationError> {
    Uuid::parse_str(raw.trim()).map(I::from).map_err(|_| {
        VerificationError::invalid_field(field, format!("{raw:?} is not an id (a UUID)"))
    })
}

fn round(round: Option<&common::RoundRef>) -> Result<RoundRef, VerificationError> {
    parse_round(round).map_err(|(field, description)| VerificationError::Invalid {
        summary: "invalid round".to_owned(),
        violations: vec![FieldViolation::new(field, description)],
    })
}

fn unit(unit: Option<&common::UnitRef>) -> Result<UnitId, VerificationError> {
    let unit = unit.ok_or_else(|| VerificationError::invalid_field("unit", "must be set"))?;
    UnitId::parse(unit.unit_id.clone())
        .map_err(|error| VerificationError::invalid_field("unit.unit_id", error.to_string()))
}

fn unit_ref(unit: &UnitId) -> common::UnitRef {
    common::UnitRef {
        unit_id: unit.to_string(),
    }
}

fn count(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

fn status_to_proto(status: &RoundStatus) -> pb::RoundStatus {
    pb::RoundStatus {
        round: Some(proto_round(&status.record.round)),
        state: status.record.state.as_str().to_owned(),
        provisional_until: status.provisional_until.map(timestamp),
    }
}

fn summary_to_proto(summary: &SubmissionSummary) -> pb::SubmissionSummary {
    pb::SubmissionSummary {
        submission_id: summary.id.to_string(),
        unit: Some(unit_ref(&summary.unit)),
        state: summary.state.as_str().to_owned(),
        latest_version: count(summary.latest_version),
        decided: count(summary.decided),
        indicators: count(summary.indicators),
    }
}

fn review_to_proto(review: &SubmissionReview) -> pb::SubmissionReview {
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

fn side_by_side_to_proto(view: &SideBySide) -> pb::SideBySide {
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
    }
}

fn ranking_to_proto(ranking: &VerifiedRanking) -> pb::VerifiedRanking {
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

fn publication_to_proto(view: &PublicationView) -> pb::Publication {
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

fn objection_to_proto(objection: &Objection) -> pb::Objection {
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

/// The verifiers' API.
#[derive(Debug, Clone)]
pub struct VerificationApi {
    reviews: Reviews,
    steps: RoundSteps,
}

impl VerificationApi {
    /// Serves `reviews` and the verifiers' round steps.
    pub fn new(reviews: Reviews, steps: RoundSteps) -> Self {
        Self { reviews, steps }
    }
}

#[tonic::async_trait]
impl VerificationService for VerificationApi {
    async fn start_round_verification(
        &self,
        request: Request<pb::StartRoundVerificationRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let status = self.steps.start_verification(&actor, &round).await?;
        Ok(Response::new(status_to_proto(&status)))
    }

    async fn list_submissions(
        &self,
        request: Request<pb::ListSubmissionsRequest>,
    ) -> Result<Response<pb::ListSubmissionsResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let round = round(message.round.as_ref())?;
        let state = match message.state.trim() {
            "" => None,
            text => Some(text.parse::<SubmissionState>().map_err(|_| {
                VerificationError::invalid_field(
                    "state",
                    format!(
                        "{text:?} is not a submission state (draft, submitted, \
                         clarification_requested, under_verification, verified)"
                    ),
                )
            })?),
        };
        let list = self.reviews.list(&actor, &round, state).await?;
        Ok(Response::new(pb::ListSubmissionsResponse {
            submissions: list.submissions.iter().map(summary_to_proto).collect(),
            units_without_submission: list.units_without_submission,
        }))
    }

    async fn open_submission(
        &self,
        request: Request<pb::OpenSubmissionRequest>,
    ) -> Result<Response<pb::SubmissionReview>, Status> {
        let actor = principal(&request)?.clone();
        let id = uuid_field("submission_id", &request.get_ref().submission_id)?;
        let review = self.reviews.open(&actor, id).await?;
        Ok(Response::new(review_to_proto(&review)))
    }

    async fn decide_indicators(
        &self,
        request: Request<pb::DecideIndicatorsRequest>,
    ) -> Result<Response<pb::DecideIndicatorsResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = uuid_field("submission_id", &message.submission_id)?;
        let requested: Vec<_> = message.decisions.iter().map(requested_decision).collect();
        let (recorded, warnings) = self
            .reviews
            .decide(&actor, id, message.version, &requested)
            .await?;
        Ok(Response::new(pb::DecideIndicatorsResponse {
            revision: u64::try_from(recorded.revision).unwrap_or(0),
            changed_indicator_codes: recorded.changed,
            warnings: warnings
                .iter()
                .map(|issue| {
                    let violation = FieldViolation::from(issue);
                    pb::ValueWarning {
                        field: violation.field,
                        description: violation.description,
                    }
                })
                .collect(),
        }))
    }

    async fn request_clarification(
        &self,
        request: Request<pb::RequestClarificationRequest>,
    ) -> Result<Response<pb::SubmissionSummary>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = uuid_field("submission_id", &message.submission_id)?;
        let questions: Vec<(String, String)> = message
            .questions
            .iter()
            .map(|q| (q.indicator_code.trim().to_owned(), q.question.clone()))
            .collect();
        let summary = self
            .reviews
            .request_clarification(&actor, id, message.version, &questions)
            .await?;
        Ok(Response::new(summary_to_proto(&summary)))
    }

    async fn complete_submission(
        &self,
        request: Request<pb::CompleteSubmissionRequest>,
    ) -> Result<Response<pb::SubmissionSummary>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = uuid_field("submission_id", &message.submission_id)?;
        let summary = self
            .reviews
            .complete(&actor, id, message.version, message.accept_undecided)
            .await?;
        Ok(Response::new(summary_to_proto(&summary)))
    }

    async fn complete_round_verification(
        &self,
        request: Request<pb::CompleteRoundVerificationRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let status = self.steps.complete_verification(&actor, &round).await?;
        Ok(Response::new(status_to_proto(&status)))
    }

    async fn get_side_by_side(
        &self,
        request: Request<pb::GetSideBySideRequest>,
    ) -> Result<Response<pb::SideBySide>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let (round, unit) = (round(message.round.as_ref())?, unit(message.unit.as_ref())?);
        let view = self.reviews.side_by_side(&actor, &round, &unit).await?;
        Ok(Response::new(side_by_side_to_proto(&view)))
    }
}

/// The approvers' API.
#[derive(Debug, Clone)]
pub struct ApprovalApi {
    steps: RoundSteps,
}

impl ApprovalApi {
    /// Serves the approvers' round steps.
    pub fn new(steps: RoundSteps) -> Self {
        Self { steps }
    }
}

#[tonic::async_trait]
impl ApprovalService for ApprovalApi {
    async fn get_verified_ranking(
        &self,
        request: Request<pb::GetVerifiedRankingRequest>,
    ) -> Result<Response<pb::VerifiedRanking>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let ranking = self.steps.verified_ranking(&actor, &round).await?;
        Ok(Response::new(ranking_to_proto(&ranking)))
    }

    async fn approve_round(
        &self,
        request: Request<pb::ApproveRoundRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let status = self.steps.approve(&actor, &round).await?;
        Ok(Response::new(status_to_proto(&status)))
    }

    async fn return_for_verification(
        &self,
        request: Request<pb::ReturnForVerificationRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let round = round(message.round.as_ref())?;
        let status = self
            .steps
            .return_for_verification(&actor, &round, &message.reason)
            .await?;
        Ok(Response::new(status_to_proto(&status)))
    }
}

/// The publication API.
#[derive(Debug, Clone)]
pub struct PublicationApi {
    publications: Publications,
    objections: Objections,
    steps: RoundSteps,
}

impl PublicationApi {
    /// Serves publications, objections and finalization.
    pub fn new(publications: Publications, objections: Objections, steps: RoundSteps) -> Self {
        Self {
            publications,
            objections,
            steps,
        }
    }
}

#[tonic::async_trait]
impl PublicationService for PublicationApi {
    async fn publish_round(
        &self,
        request: Request<pb::PublishRoundRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let view = self.publications.publish(&actor, &round).await?;
        Ok(Response::new(publication_to_proto(&view)))
    }

    async fn publish_correction(
        &self,
        request: Request<pb::PublishCorrectionRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let round = round(message.round.as_ref())?;
        let view = self
            .publications
            .correct(&actor, &round, &message.reason)
            .await?;
        Ok(Response::new(publication_to_proto(&view)))
    }

    async fn get_publication(
        &self,
        request: Request<pb::GetPublicationRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let round = round(message.round.as_ref())?;
        let view = self
            .publications
            .get(&actor, &round, message.revision)
            .await?;
        Ok(Response::new(publication_to_proto(&view)))
    }

    async fn list_publications(
        &self,
        request: Request<pb::ListPublicationsRequest>,
    ) -> Result<Response<pb::ListPublicationsResponse>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let list = self.publications.list(&actor, &round).await?;
        Ok(Response::new(pb::ListPublicationsResponse {
            publications: list
                .iter()
                .map(|p| pb::PublicationSummary {
                    revision: count(p.revision),
                    reason: p.reason.clone(),
                    published_by: p.published_by.clone(),
                    published_at: Some(timestamp(p.published_at)),
                    content_hash: hex::encode(&p.content_hash),
                })
                .collect(),
        }))
    }

    async fn file_objection(
        &self,
        request: Request<pb::FileObjectionRequest>,
    ) -> Result<Response<pb::Objection>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let (round, unit) = (round(message.round.as_ref())?, unit(message.unit.as_ref())?);
        let objection = self
            .objections
            .file(
                &actor,
                &round,
                &unit,
                &message.indicator_code,
                &message.reason,
            )
            .await?;
        Ok(Response::new(objection_to_proto(&objection)))
    }

    async fn list_objections(
        &self,
        request: Request<pb::ListObjectionsRequest>,
    ) -> Result<Response<pb::ListObjectionsResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let round = round(message.round.as_ref())?;
        let unit =
            match message.unit_id.as_str() {
                "" => None,
                id => Some(UnitId::parse(id).map_err(|error| {
                    VerificationError::invalid_field("unit_id", error.to_string())
                })?),
            };
        let list = self.objections.list(&actor, &round, unit.as_ref()).await?;
        Ok(Response::new(pb::ListObjectionsResponse {
            objections: list.iter().map(objection_to_proto).collect(),
        }))
    }

    async fn answer_objection(
        &self,
        request: Request<pb::AnswerObjectionRequest>,
    ) -> Result<Response<pb::Objection>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = uuid_field("objection_id", &message.objection_id)?;
        let objection = self
            .objections
            .answer(
                &actor,
                id,
                objection_outcome(message.outcome),
                &message.answer,
            )
            .await?;
        Ok(Response::new(objection_to_proto(&objection)))
    }

    async fn finalize_round(
        &self,
        request: Request<pb::FinalizeRoundRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let status = self.steps.finalize(&actor, &round).await?;
        Ok(Response::new(status_to_proto(&status)))
    }
}
