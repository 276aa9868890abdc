//! The gRPC handlers: convert the request, call [`Submissions`] or [`Rounds`], map errors.

use dti_auth::grpc::principal;
use dti_domain::round::{RoundState as DomainRoundState, SubmissionState as DomainState};
use dti_domain::UnitId;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::submission::v1 as pb;
use dti_proto::dti::submission::v1::round_operator_service_server::RoundOperatorService;
use dti_proto::dti::submission::v1::submission_service_server::SubmissionService;
use dti_service_kit::status::FieldViolation;
use dti_workflow::rounds::{parse_round, proto_round};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::rounds::{RoundView, Rounds};
use crate::submissions::{Entry, SubmissionView, Submissions, VersionView};
use crate::SubmissionError;
use dti_proto::convert::{indicator_to_proto, instant, timestamp};

/// The unit-facing API.
#[derive(Debug, Clone)]
pub struct SubmissionApi {
    submissions: Submissions,
}

impl SubmissionApi {
    /// Serves `submissions`.
    pub fn new(submissions: Submissions) -> Self {
        Self { submissions }
    }
}

/// The operators' API.
#[derive(Debug, Clone)]
pub struct RoundOperatorApi {
    rounds: Rounds,
}

impl RoundOperatorApi {
    /// Serves `rounds`.
    pub fn new(rounds: Rounds) -> Self {
        Self { rounds }
    }
}

fn submission_id(raw: &str) -> Result<Uuid, SubmissionError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        SubmissionError::invalid_field(
            "submission_id",
            format!("{raw:?} is not a submission id (a UUID)"),
        )
    })
}

fn round(round: Option<&common::RoundRef>) -> Result<dti_domain::RoundRef, SubmissionError> {
    parse_round(round).map_err(|(field, description)| SubmissionError::Invalid {
        summary: "invalid round".to_owned(),
        violations: vec![FieldViolation::new(field, description)],
    })
}

fn unit(unit: Option<&common::UnitRef>) -> Result<UnitId, SubmissionError> {
    let unit = unit.ok_or_else(|| SubmissionError::invalid_field("unit", "must be set"))?;
    UnitId::parse(unit.unit_id.clone())
        .map_err(|error| SubmissionError::invalid_field("unit.unit_id", error.to_string()))
}

fn submission_state(state: DomainState) -> pb::SubmissionState {
    match state {
        DomainState::Draft => pb::SubmissionState::Draft,
        DomainState::Submitted => pb::SubmissionState::Submitted,
        DomainState::ClarificationRequested => pb::SubmissionState::ClarificationRequested,
        DomainState::UnderVerification => pb::SubmissionState::UnderVerification,
        DomainState::Verified => pb::SubmissionState::Verified,
    }
}

fn round_state(state: DomainRoundState) -> pb::RoundState {
    match state {
        DomainRoundState::Draft => pb::RoundState::Draft,
        DomainRoundState::Open => pb::RoundState::Open,
        DomainRoundState::Closed => pb::RoundState::Closed,
        DomainRoundState::UnderVerification => pb::RoundState::UnderVerification,
        DomainRoundState::Verified => pb::RoundState::Verified,
        DomainRoundState::Approved => pb::RoundState::Approved,
        DomainRoundState::Provisional => pb::RoundState::Provisional,
        DomainRoundState::Final => pb::RoundState::Final,
    }
}

/// Splits entries into protobuf values and not-applicable marks.
fn entries_to_proto(
    entries: &[(String, Entry)],
) -> (Vec<common::IndicatorValue>, Vec<pb::NotApplicable>) {
    let mut values = Vec::new();
    let mut not_applicable = Vec::new();
    for (code, entry) in entries {
        match entry {
            Entry::Values(v) => values.push(indicator_to_proto(code, v)),
            Entry::NotApplicable(reason) => not_applicable.push(pb::NotApplicable {
                indicator_code: code.clone(),
                reason: reason.clone(),
            }),
        }
    }
    (values, not_applicable)
}

fn submission_to_proto(view: &SubmissionView) -> pb::Submission {
    let (values, not_applicable) = entries_to_proto(&view.entries);
    pb::Submission {
        submission_id: view.head.id.to_string(),
        round: Some(proto_round(&view.head.round)),
        unit: Some(common::UnitRef {
            unit_id: view.head.unit.to_string(),
        }),
        state: submission_state(view.head.state) as i32,
        latest_version: u32::try_from(view.head.latest_version).unwrap_or(0),
        values,
        not_applicable,
        created_at: Some(timestamp(view.created_at)),
        updated_at: Some(timestamp(view.updated_at)),
        clarifications: view
            .clarifications
            .iter()
            .map(|c| pb::ClarificationQuestion {
                indicator_code: c.indicator_code.clone(),
                question: c.question.clone(),
                version: u32::try_from(c.version).unwrap_or(0),
            })
            .collect(),
    }
}

fn version_to_proto(version: &VersionView) -> pb::SubmissionVersion {
    let (values, not_applicable) = entries_to_proto(&version.entries);
    pb::SubmissionVersion {
        version: u32::try_from(version.version).unwrap_or(0),
        values,
        not_applicable,
        submitted_at: Some(timestamp(version.submitted_at)),
        submitted_by: version.submitted_by.clone(),
    }
}

fn round_to_proto(view: &RoundView) -> pb::Round {
    pb::Round {
        round: Some(proto_round(&view.record.round)),
        state: round_state(view.record.state) as i32,
        deadline: view.record.deadline.map(timestamp),
        unit_ids: view.units.clone(),
    }
}

/// A deadline at the database's precision (microseconds), so a retried request with the same
/// deadline compares equal to the stored one.
fn deadline(
    at: Option<&prost_types::Timestamp>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, SubmissionError> {
    use chrono::SubsecRound;
    at.map(|at| {
        instant(at)
            .map(|at| at.trunc_subsecs(6))
            .ok_or_else(|| SubmissionError::invalid_field("deadline", "is not a valid instant"))
    })
    .transpose()
}

#[tonic::async_trait]
impl SubmissionService for SubmissionApi {
    async fn create_draft(
        &self,
        request: Request<pb::CreateDraftRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let (round, unit) = (round(message.round.as_ref())?, unit(message.unit.as_ref())?);
        let view = self.submissions.create_draft(&actor, &round, &unit).await?;
        Ok(Response::new(submission_to_proto(&view)))
    }

    async fn set_values(
        &self,
        request: Request<pb::SetValuesRequest>,
    ) -> Result<Response<pb::SetValuesResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = submission_id(&message.submission_id)?;
        let (view, warnings) = self
            .submissions
            .set_values(&actor, id, &message.values)
            .await?;
        Ok(Response::new(pb::SetValuesResponse {
            submission: Some(submission_to_proto(&view)),
            warnings: warnings
                .iter()
                .map(|issue| {
                    let violation = FieldViolation::from(issue);
                    pb::ValidationWarning {
                        field: violation.field,
                        description: violation.description,
                    }
                })
                .collect(),
        }))
    }

    async fn set_not_applicable(
        &self,
        request: Request<pb::SetNotApplicableRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = submission_id(&message.submission_id)?;
        let view = self
            .submissions
            .set_not_applicable(&actor, id, &message.indicator_code, &message.reason)
            .await?;
        Ok(Response::new(submission_to_proto(&view)))
    }

    async fn clear_indicator(
        &self,
        request: Request<pb::ClearIndicatorRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = submission_id(&message.submission_id)?;
        let view = self
            .submissions
            .clear_indicator(&actor, id, &message.indicator_code)
            .await?;
        Ok(Response::new(submission_to_proto(&view)))
    }

    async fn submit(
        &self,
        request: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let id = submission_id(&message.submission_id)?;
        let submitted = self
            .submissions
            .submit(&actor, id, &message.client_request_id)
            .await?;
        Ok(Response::new(pb::SubmitResponse {
            submission: Some(submission_to_proto(&submitted.view)),
            version: u32::try_from(submitted.version).unwrap_or(0),
        }))
    }

    async fn submit_assessment(
        &self,
        request: Request<pb::SubmitAssessmentRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let (round, unit) = (round(message.round.as_ref())?, unit(message.unit.as_ref())?);
        let not_applicable: Vec<(String, String)> = message
            .not_applicable
            .iter()
            .map(|mark| (mark.indicator_code.clone(), mark.reason.clone()))
            .collect();
        let submitted = self
            .submissions
            .submit_assessment(
                &actor,
                &round,
                &unit,
                &message.values,
                &not_applicable,
                &message.client_request_id,
            )
            .await?;
        Ok(Response::new(pb::SubmitResponse {
            submission: Some(submission_to_proto(&submitted.view)),
            version: u32::try_from(submitted.version).unwrap_or(0),
        }))
    }

    async fn get_submission(
        &self,
        request: Request<pb::GetSubmissionRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        let actor = principal(&request)?.clone();
        let id = submission_id(&request.get_ref().submission_id)?;
        let view = self.submissions.get(&actor, id).await?;
        Ok(Response::new(submission_to_proto(&view)))
    }

    async fn find_submission(
        &self,
        request: Request<pb::FindSubmissionRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let (round, unit) = (round(message.round.as_ref())?, unit(message.unit.as_ref())?);
        let view = self.submissions.find(&actor, &round, &unit).await?;
        Ok(Response::new(submission_to_proto(&view)))
    }

    async fn list_versions(
        &self,
        request: Request<pb::ListVersionsRequest>,
    ) -> Result<Response<pb::ListVersionsResponse>, Status> {
        let actor = principal(&request)?.clone();
        let id = submission_id(&request.get_ref().submission_id)?;
        let versions = self.submissions.versions(&actor, id).await?;
        Ok(Response::new(pb::ListVersionsResponse {
            versions: versions.iter().map(version_to_proto).collect(),
        }))
    }
}

#[tonic::async_trait]
impl RoundOperatorService for RoundOperatorApi {
    async fn open_round(
        &self,
        request: Request<pb::OpenRoundRequest>,
    ) -> Result<Response<pb::Round>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let round = round(message.round.as_ref())?;
        let deadline = deadline(message.deadline.as_ref())?;
        let view = self
            .rounds
            .open(&actor, &round, deadline, &message.unit_ids)
            .await?;
        Ok(Response::new(round_to_proto(&view)))
    }

    async fn close_round(
        &self,
        request: Request<pb::CloseRoundRequest>,
    ) -> Result<Response<pb::Round>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let view = self.rounds.close(&actor, &round).await?;
        Ok(Response::new(round_to_proto(&view)))
    }

    async fn reopen_for_unit(
        &self,
        request: Request<pb::ReopenForUnitRequest>,
    ) -> Result<Response<pb::UnitReopening>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.get_ref();
        let (round, unit) = (round(message.round.as_ref())?, unit(message.unit.as_ref())?);
        let deadline = deadline(message.deadline.as_ref())?;
        let reopening = self
            .rounds
            .reopen_for_unit(&actor, &round, &unit, deadline, &message.reason)
            .await?;
        Ok(Response::new(pb::UnitReopening {
            round: Some(proto_round(&round)),
            unit: Some(common::UnitRef {
                unit_id: unit.to_string(),
            }),
            deadline: Some(timestamp(reopening.deadline)),
            reason: reopening.reason,
        }))
    }

    async fn get_round(
        &self,
        request: Request<pb::GetRoundRequest>,
    ) -> Result<Response<pb::Round>, Status> {
        let actor = principal(&request)?.clone();
        let round = round(request.get_ref().round.as_ref())?;
        let view = self.rounds.get(&actor, &round).await?;
        Ok(Response::new(round_to_proto(&view)))
    }
}
