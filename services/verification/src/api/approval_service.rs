//! `dti.verification.v1.ApprovalService`: approvers read the verified ranking, approve the
//! round or return it for verification.

use dti_proto::dti::verification::v1 as pb;
use dti_proto::dti::verification::v1::approval_service_server::ApprovalService;
use dti_proto::request::parse_round;
use dti_service_kit::handler::serve;
use tonic::{Request, Response, Status};

use super::render::{ranking_to_proto, status_to_proto};
use super::ApprovalApi;

#[tonic::async_trait]
impl ApprovalService for ApprovalApi {
    async fn get_verified_ranking(
        &self,
        request: Request<pb::GetVerifiedRankingRequest>,
    ) -> Result<Response<pb::VerifiedRanking>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.steps.verified_ranking(&actor, &round).await },
            |ranking| Ok(ranking_to_proto(&ranking)),
        )
        .await
    }

    async fn approve_round(
        &self,
        request: Request<pb::ApproveRoundRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.steps.approve(&actor, &round).await },
            |status| Ok(status_to_proto(&status)),
        )
        .await
    }

    async fn return_for_verification(
        &self,
        request: Request<pb::ReturnForVerificationRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        serve(
            request,
            |m| Ok((parse_round(m.round.as_ref())?, m.reason.clone())),
            |actor, (round, reason)| async move {
                self.steps
                    .return_for_verification(&actor, &round, &reason)
                    .await
            },
            |status| Ok(status_to_proto(&status)),
        )
        .await
    }
}
