//! The gRPC handlers of `dti.scoring.v1.ScoringService`: each converts its request (naming every
//! invalid field), calls [`ScoreReader`] and maps its errors.

use dti_auth::grpc::principal;
use dti_proto::dti::scoring::v1::scoring_service_server::ScoringService;
use dti_proto::dti::scoring::v1::{GetScorecardRequest, Scorecard, WhatIfRequest, WhatIfResponse};
use dti_proto::request::{parse_round, parse_unit};
use dti_scores::Basis;
use dti_service_kit::status::RequestCheck;
use tonic::{Request, Response, Status};

use crate::scorecard::ScoreReader;
use crate::what_if::WhatIfChange;

/// The scoring service's gRPC API.
#[derive(Debug, Clone)]
pub struct ScoringApi {
    reader: ScoreReader,
}

impl ScoringApi {
    /// The API over `reader`.
    pub fn new(reader: ScoreReader) -> Self {
        Self { reader }
    }
}

#[tonic::async_trait]
impl ScoringService for ScoringApi {
    async fn get_scorecard(
        &self,
        request: Request<GetScorecardRequest>,
    ) -> Result<Response<Scorecard>, Status> {
        let caller = principal(&request)?.clone();
        let message = request.get_ref();
        let mut check = RequestCheck::new();
        let round = check.field(parse_round(message.round.as_ref()));
        let unit = check.field(parse_unit(message.unit.as_ref()));
        let basis = check.field(Basis::parse_request(message.basis));
        let (round, unit, basis) =
            check.finish(round.zip(unit).zip(basis).map(|((r, u), b)| (r, u, b)))?;
        let card = self.reader.scorecard(&caller, &round, &unit, basis).await?;
        Ok(Response::new(card))
    }

    async fn what_if(
        &self,
        request: Request<WhatIfRequest>,
    ) -> Result<Response<WhatIfResponse>, Status> {
        let caller = principal(&request)?.clone();
        let message = request.into_inner();
        let mut check = RequestCheck::new();
        let round = check.field(parse_round(message.round.as_ref()));
        let unit = check.field(parse_unit(message.unit.as_ref()));
        let (round, unit) = check.finish(round.zip(unit))?;
        let change = WhatIfChange {
            values: message.values,
            not_applicable: message.not_applicable,
            cleared: message.cleared,
        };
        let response = self.reader.what_if(&caller, &round, &unit, &change).await?;
        Ok(Response::new(response))
    }
}
