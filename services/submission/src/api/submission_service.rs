//! `dti.submission.v1.SubmissionService`: units create drafts, set values, submit, and read
//! their submission and its versions.

use dti_proto::dti::submission::v1 as pb;
use dti_proto::dti::submission::v1::submission_service_server::SubmissionService;
use dti_proto::request::parse_id;
use dti_service_kit::handler::serve;
use dti_service_kit::status::round_and_unit;
use tonic::{Request, Response, Status};

use super::convert::{
    general_info_inputs, indicator_inputs, not_applicable_marks, set_values_response,
    submission_to_proto, submit_response, version_to_proto,
};
use super::SubmissionApi;
use crate::submissions::AssessmentInput;

#[tonic::async_trait]
impl SubmissionService for SubmissionApi {
    async fn create_draft(
        &self,
        request: Request<pb::CreateDraftRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        serve(
            request,
            |m| Ok(round_and_unit(m.round.as_ref(), m.unit.as_ref())?),
            |actor, (round, unit)| async move {
                self.submissions.create_draft(&actor, &round, &unit).await
            },
            |view| submission_to_proto(&view),
        )
        .await
    }

    async fn set_values(
        &self,
        request: Request<pb::SetValuesRequest>,
    ) -> Result<Response<pb::SetValuesResponse>, Status> {
        serve(
            request,
            |m| {
                let id = parse_id("submission_id", &m.submission_id)?;
                Ok((
                    id,
                    indicator_inputs(&m.values),
                    general_info_inputs(&m.general_info),
                ))
            },
            |actor, (id, values, general_info)| async move {
                self.submissions
                    .set_values(&actor, id, &values, &general_info)
                    .await
            },
            |(view, warnings)| set_values_response(&view, &warnings),
        )
        .await
    }

    async fn set_not_applicable(
        &self,
        request: Request<pb::SetNotApplicableRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        serve(
            request,
            |m| {
                let id = parse_id("submission_id", &m.submission_id)?;
                Ok((id, m.indicator_code.clone(), m.reason.clone()))
            },
            |actor, (id, code, reason)| async move {
                self.submissions
                    .set_not_applicable(&actor, id, &code, &reason)
                    .await
            },
            |view| submission_to_proto(&view),
        )
        .await
    }

    async fn clear_indicator(
        &self,
        request: Request<pb::ClearIndicatorRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        serve(
            request,
            |m| Ok((parse_id("submission_id", &m.submission_id)?, m.indicator_code.clone())),
            |actor, (id, code)| async move {
                self.submissions.clear_indicator(&actor, id, &code).await
            },
            |view| submission_to_proto(&view),
        )
        .await
    }

    async fn submit(
        &self,
        request: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        serve(
            request,
            |m| {
                Ok((
                    parse_id("submission_id", &m.submission_id)?,
                    m.client_request_id.clone(),
                ))
            },
            |actor, (id, request_id)| async move {
                self.submissions.submit(&actor, id, &request_id).await
            },
            |submitted| submit_response(&submitted),
        )
        .await
    }

    async fn submit_assessment(
        &self,
        request: Request<pb::SubmitAssessmentRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        serve(
            request,
            |m| {
                let (round, unit) = round_and_unit(m.round.as_ref(), m.unit.as_ref())?;
                let assessment = AssessmentInput {
                    values: indicator_inputs(&m.values),
                    not_applicable: not_applicable_marks(&m.not_applicable),
                    general_info: general_info_inputs(&m.general_info),
                };
                Ok((round, unit, assessment, m.client_request_id.clone()))
            },
            |actor, (round, unit, assessment, request_id)| async move {
                self.submissions
                    .submit_assessment(&actor, &round, &unit, &assessment, &request_id)
                    .await
            },
            |submitted| submit_response(&submitted),
        )
        .await
    }

    async fn get_submission(
        &self,
        request: Request<pb::GetSubmissionRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        serve(
            request,
            |m| Ok(parse_id("submission_id", &m.submission_id)?),
            |actor, id| async move { self.submissions.get(&actor, id).await },
            |view| submission_to_proto(&view),
        )
        .await
    }

    async fn find_submission(
        &self,
        request: Request<pb::FindSubmissionRequest>,
    ) -> Result<Response<pb::Submission>, Status> {
        serve(
            request,
            |m| Ok(round_and_unit(m.round.as_ref(), m.unit.as_ref())?),
            |actor, (round, unit)| async move { self.submissions.find(&actor, &round, &unit).await },
            |view| submission_to_proto(&view),
        )
        .await
    }

    async fn list_versions(
        &self,
        request: Request<pb::ListVersionsRequest>,
    ) -> Result<Response<pb::ListVersionsResponse>, Status> {
        serve(
            request,
            |m| Ok(parse_id("submission_id", &m.submission_id)?),
            |actor, id| async move { self.submissions.versions(&actor, id).await },
            |versions| {
                Ok(pb::ListVersionsResponse {
                    versions: versions
                        .iter()
                        .map(version_to_proto)
                        .collect::<Result<_, _>>()?,
                })
            },
        )
        .await
    }
}
