//! The gRPC handlers of `dti.scoring.v1.ScoringService`: each converts its request (naming every
//! invalid field), calls [`ScoreReader`] and maps its errors.

use dti_auth::grpc::principal;
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::scoring::v1::scoring_service_server::ScoringService;
use dti_proto::dti::scoring::v1::{GetScorecardRequest, Scorecard, WhatIfRequest, WhatIfResponse};
use dti_scores::Basis;
use dti_service_kit::status::FieldViolation;
use tonic::{Request, Response, Status};

use crate::scorecard::ScoreReader;
use crate::what_if::WhatIfChange;
use crate::ScoringError;

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

    fn finish<T>(self, parsed: Option<T>) -> Result<T, ScoringError> {
        match parsed {
            Some(parsed) if self.violations.is_empty() => Ok(parsed),
            _ => Err(ScoringError::Invalid {
                summary: "invalid request".to_owned(),
                violations: self.violations,
            }),
        }
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
        let mut check = RequestCheck::default();
        let round = check.round(message.round.as_ref());
        let unit = check.unit(message.unit.as_ref());
        let basis = check.basis(message.basis);
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
        let mut check = RequestCheck::default();
        let round = check.round(message.round.as_ref());
        let unit = check.unit(message.unit.as_ref());
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
