//! The gRPC handlers of `dti.ranking.v1.RankingService`: each converts its request (naming every
//! invalid field), calls [`Rankings`] and maps its errors.

use dti_auth::grpc::principal;
use dti_proto::dti::ranking::v1::ranking_service_server::RankingService;
use dti_proto::dti::ranking::v1::{
    GetRankingRequest, GetUnitPositionRequest, Ranking, UnitPosition,
};
use dti_proto::request::{parse_round, parse_unit};
use dti_scores::Basis;
use dti_service_kit::status::RequestCheck;
use tonic::{Request, Response, Status};

use crate::rankings::{PageRequest, Rankings};

/// The ranking service's gRPC API.
#[derive(Debug, Clone)]
pub struct RankingApi {
    rankings: Rankings,
}

impl RankingApi {
    /// The API over `rankings`.
    pub fn new(rankings: Rankings) -> Self {
        Self { rankings }
    }
}

/// An empty group code ranks by total.
fn group(code: &str) -> Option<&str> {
    (!code.is_empty()).then_some(code)
}

#[tonic::async_trait]
impl RankingService for RankingApi {
    async fn get_ranking(
        &self,
        request: Request<GetRankingRequest>,
    ) -> Result<Response<Ranking>, Status> {
        let caller = principal(&request)?.clone();
        let message = request.get_ref();
        let mut check = RequestCheck::new();
        let round = check.field(parse_round(message.round.as_ref()));
        let basis = check.field(Basis::parse_request(message.basis));
        let (round, basis) = check.finish(round.zip(basis))?;
        let page = PageRequest {
            group: group(&message.group_code).map(str::to_owned),
            size: message.page_size,
            token: message.page_token.clone(),
        };
        let ranking = self.rankings.page(&caller, &round, basis, &page).await?;
        Ok(Response::new(ranking))
    }

    async fn get_unit_position(
        &self,
        request: Request<GetUnitPositionRequest>,
    ) -> Result<Response<UnitPosition>, Status> {
        let caller = principal(&request)?.clone();
        let message = request.get_ref();
        let mut check = RequestCheck::new();
        let round = check.field(parse_round(message.round.as_ref()));
        let basis = check.field(Basis::parse_request(message.basis));
        let unit = check.field(parse_unit(message.unit.as_ref()));
        let (round, basis, unit) = check.finish(
            round
                .zip(basis)
                .zip(unit)
                .map(|((round, basis), unit)| (round, basis, unit)),
        )?;
        let position = self
            .rankings
            .position(&caller, &round, basis, &unit, group(&message.group_code))
            .await?;
        Ok(Response::new(position))
    }
}
