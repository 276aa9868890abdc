//! `dti.verification.v1.VerificationService`: verifiers start a round's verification, review
//! submissions, decide indicators, ask for clarification and complete submissions and the
//! round; units read their side-by-side view.

use dti_domain::round::SubmissionState;
use dti_i18n::Message;
use dti_proto::dti::verification::v1 as pb;
use dti_proto::dti::verification::v1::verification_service_server::VerificationService;
use dti_proto::request::{parse_id, parse_round, FieldError};
use dti_service_kit::handler::serve;
use dti_service_kit::status::{round_and_unit, RequestCheck};
use tonic::{Request, Response, Status};

use super::render::{
    review_to_proto, side_by_side_to_proto, status_to_proto, summary_to_proto, warnings_to_proto,
};
use super::VerificationApi;
use crate::convert::requested_decision;

/// A submission state filter (field `state`): empty is every state.
fn parse_state(text: &str) -> Result<Option<SubmissionState>, FieldError> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse::<SubmissionState>().map(Some).map_err(|_| {
            FieldError::new(
                "state",
                Message::new("verification-not-a-state").arg("text", format!("{text:?}")),
            )
        }),
    }
}

#[tonic::async_trait]
impl VerificationService for VerificationApi {
    async fn start_round_verification(
        &self,
        request: Request<pb::StartRoundVerificationRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.steps.start_verification(&actor, &round).await },
            |status| Ok(status_to_proto(&status)),
        )
        .await
    }

    async fn list_submissions(
        &self,
        request: Request<pb::ListSubmissionsRequest>,
    ) -> Result<Response<pb::ListSubmissionsResponse>, Status> {
        serve(
            request,
            |m| {
                let mut check = RequestCheck::new();
                let round = check.field(parse_round(m.round.as_ref()));
                let state = check.field(parse_state(&m.state));
                Ok(check.finish(round.zip(state))?)
            },
            |actor, (round, state)| async move { self.reviews.list(&actor, &round, state).await },
            |list| {
                Ok(pb::ListSubmissionsResponse {
                    submissions: list.submissions.iter().map(summary_to_proto).collect(),
                    units_without_submission: list.units_without_submission,
                })
            },
        )
        .await
    }

    async fn open_submission(
        &self,
        request: Request<pb::OpenSubmissionRequest>,
    ) -> Result<Response<pb::SubmissionReview>, Status> {
        serve(
            request,
            |m| Ok(parse_id("submission_id", &m.submission_id)?),
            |actor, id| async move { self.reviews.open(&actor, id).await },
            |review| Ok(review_to_proto(&review)),
        )
        .await
    }

    async fn decide_indicators(
        &self,
        request: Request<pb::DecideIndicatorsRequest>,
    ) -> Result<Response<pb::DecideIndicatorsResponse>, Status> {
        serve(
            request,
            |m| {
                let id = parse_id("submission_id", &m.submission_id)?;
                let requested: Vec<_> = m.decisions.iter().map(requested_decision).collect();
                Ok((id, m.version, requested))
            },
            |actor, (id, version, requested)| async move {
                self.reviews.decide(&actor, id, version, &requested).await
            },
            |(recorded, warnings)| {
                Ok(pb::DecideIndicatorsResponse {
                    revision: u64::try_from(recorded.revision).unwrap_or(0),
                    changed_indicator_codes: recorded.changed,
                    warnings: warnings_to_proto(&warnings),
                })
            },
        )
        .await
    }

    async fn request_clarification(
        &self,
        request: Request<pb::RequestClarificationRequest>,
    ) -> Result<Response<pb::SubmissionSummary>, Status> {
        serve(
            request,
            |m| {
                let id = parse_id("submission_id", &m.submission_id)?;
                let questions: Vec<(String, String)> = m
                    .questions
                    .iter()
                    .map(|q| (q.indicator_code.trim().to_owned(), q.question.clone()))
                    .collect();
                Ok((id, m.version, questions))
            },
            |actor, (id, version, questions)| async move {
                self.reviews
                    .request_clarification(&actor, id, version, &questions)
                    .await
            },
            |summary| Ok(summary_to_proto(&summary)),
        )
        .await
    }

    async fn complete_submission(
        &self,
        request: Request<pb::CompleteSubmissionRequest>,
    ) -> Result<Response<pb::SubmissionSummary>, Status> {
        serve(
            request,
            |m| {
                let id = parse_id("submission_id", &m.submission_id)?;
                Ok((id, m.version, m.accept_undecided))
            },
            |actor, (id, version, accept_undecided)| async move {
                self.reviews
                    .complete(&actor, id, version, accept_undecided)
                    .await
            },
            |summary| Ok(summary_to_proto(&summary)),
        )
        .await
    }

    async fn complete_round_verification(
        &self,
        request: Request<pb::CompleteRoundVerificationRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.steps.complete_verification(&actor, &round).await },
            |status| Ok(status_to_proto(&status)),
        )
        .await
    }

    async fn get_side_by_side(
        &self,
        request: Request<pb::GetSideBySideRequest>,
    ) -> Result<Response<pb::SideBySide>, Status> {
        serve(
            request,
            |m| Ok(round_and_unit(m.round.as_ref(), m.unit.as_ref())?),
            |actor, (round, unit)| async move {
                self.reviews.side_by_side(&actor, &round, &unit).await
            },
            |view| Ok(side_by_side_to_proto(&view)),
        )
        .await
    }
}
