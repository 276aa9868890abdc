//! `dti.submission.v1.RoundOperatorService`: operators open, close and read rounds and reopen a
//! round for one unit.

use dti_proto::dti::submission::v1 as pb;
use dti_proto::dti::submission::v1::round_operator_service_server::RoundOperatorService;
use dti_proto::request::parse_round;
use dti_service_kit::handler::serve;
use dti_service_kit::status::round_and_unit;
use tonic::{Request, Response, Status};

use super::convert::{deadline, reopening_to_proto, round_to_proto};
use super::RoundOperatorApi;
use crate::SubmissionError;

#[tonic::async_trait]
impl RoundOperatorService for RoundOperatorApi {
    async fn open_round(
        &self,
        request: Request<pb::OpenRoundRequest>,
    ) -> Result<Response<pb::Round>, Status> {
        serve(
            request,
            |m| {
                let round = parse_round(m.round.as_ref())?;
                Ok((round, deadline(m.deadline.as_ref())?, m.unit_ids.clone()))
            },
            |actor, (round, deadline, unit_ids)| async move {
                self.rounds.open(&actor, &round, deadline, &unit_ids).await
            },
            |view| Ok(round_to_proto(&view)),
        )
        .await
    }

    async fn close_round(
        &self,
        request: Request<pb::CloseRoundRequest>,
    ) -> Result<Response<pb::Round>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.rounds.close(&actor, &round).await },
            |view| Ok(round_to_proto(&view)),
        )
        .await
    }

    async fn reopen_for_unit(
        &self,
        request: Request<pb::ReopenForUnitRequest>,
    ) -> Result<Response<pb::UnitReopening>, Status> {
        serve(
            request,
            |m| {
                let (round, unit) = round_and_unit(m.round.as_ref(), m.unit.as_ref())?;
                let deadline = deadline(m.deadline.as_ref())?;
                Ok((round, unit, deadline, m.reason.clone()))
            },
            |actor, (round, unit, deadline, reason)| async move {
                let reopening = self
                    .rounds
                    .reopen_for_unit(&actor, &round, &unit, deadline, &reason)
                    .await?;
                Ok::<_, SubmissionError>((round, unit, reopening))
            },
            |(round, unit, reopening)| Ok(reopening_to_proto(&round, &unit, reopening)),
        )
        .await
    }

    async fn get_round(
        &self,
        request: Request<pb::GetRoundRequest>,
    ) -> Result<Response<pb::Round>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.rounds.get(&actor, &round).await },
            |view| Ok(round_to_proto(&view)),
        )
        .await
    }
}
