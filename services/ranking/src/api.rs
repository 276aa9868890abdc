//! The gRPC handlers of `dti.ranking.v1.RankingService`: each converts its request (naming every
//! invalid field), calls [`Rankings`] and maps its errors.

use dti_auth::grpc::principal;
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::ranking::v1::ranking_service_server::RankingService;
use dti_proto::dti::ranking::v1::{
    GetRankingRequest, GetUnitPositionRequest, Ranking, UnitPosition,
};
use dti_scores::Basis;
use dti_service_kit::status::FieldViolation;
use tonic::{Request, Response, Status};

use crate::rankings::{PageRequest, Rankings};
use crate::RankingError;

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

/// Collects the violations of a request while its fields are converted.
#[derive(Default)]
struct RequestCheck {
    violations: Vec<FieldViolation>,
}

impl RequestCheck {
    fn round(&mut self, round: Option<&common::RoundRef>) -> Option<RoundRef> {
        dti_workflow::rounds::parse_round(round)
            .map_err(|(field, problem)| self.violations.push(FieldViolation::new(field, problem)))
            .ok()
    }

    fn basis(&mut self, basis: i32) -> Option<Basis> {
        let parsed = Basis::from_proto(basis);
        if parsed.is_none() {
            self.violations.push(FieldViolation::new(
                "basis",
                "must be BASIS_SELF_ASSESSED or BASIS_VERIFIED",
            ));
        }
        parsed
    }

    fn unit(&mut self, unit: Option<&common::UnitRef>) -> Option<UnitId> {
        let Some(unit) = unit else {
            self.violations
                .push(FieldViolation::new("unit", "must be set"));
            return None;
        };
        UnitId::parse(unit.unit_id.clone())
            .map_err(|error| {
                self.violations
                    .push(FieldViolation::new("unit.unit_id", error.to_string()))
            })
            .ok()
    }

    fn finish<T>(self, parsed: Option<T>) -> Result<T, RankingError> {
        match parsed {
            Some(parsed) if self.violations.is_empty() => Ok(parsed),
            _ => Err(RankingError::Invalid {
                summary: "invalid request".to_owned(),
                violations: self.violations,
            }),
        }
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
        let mut check = RequestCheck::default();
        let round = check.round(message.round.as_ref());
        let basis = check.basis(message.basis);
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
        let mut check = RequestCheck::default();
        let round = check.round(message.round.as_ref());
        let basis = check.basis(message.basis);
        let unit = check.unit(message.unit.as_ref());
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
