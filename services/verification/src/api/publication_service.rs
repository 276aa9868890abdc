//! `dti.verification.v1.PublicationService`: publishing a round and its corrections, reading
//! revisions back, units' objections and their answers, and finalization.

use dti_domain::UnitId;
use dti_proto::dti::verification::v1 as pb;
use dti_proto::dti::verification::v1::publication_service_server::PublicationService;
use dti_proto::request::{parse_id, parse_round, FieldError};
use dti_service_kit::handler::serve;
use dti_service_kit::status::{round_and_unit, RequestCheck};
use tonic::{Request, Response, Status};

use super::render::{
    objection_to_proto, publication_list_to_proto, publication_to_proto, status_to_proto,
};
use super::PublicationApi;
use crate::convert::objection_outcome;

/// An optional unit filter (field `unit_id`): empty is every unit.
fn parse_unit_filter(id: &str) -> Result<Option<UnitId>, FieldError> {
    match id {
        "" => Ok(None),
        id => UnitId::parse(id)
            .map(Some)
            .map_err(|error| FieldError::new("unit_id", error.to_string())),
    }
}

#[tonic::async_trait]
impl PublicationService for PublicationApi {
    async fn publish_round(
        &self,
        request: Request<pb::PublishRoundRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.publications.publish(&actor, &round).await },
            |view| Ok(publication_to_proto(&view)),
        )
        .await
    }

    async fn publish_correction(
        &self,
        request: Request<pb::PublishCorrectionRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        serve(
            request,
            |m| Ok((parse_round(m.round.as_ref())?, m.reason.clone())),
            |actor, (round, reason)| async move {
                self.publications.correct(&actor, &round, &reason).await
            },
            |view| Ok(publication_to_proto(&view)),
        )
        .await
    }

    async fn get_publication(
        &self,
        request: Request<pb::GetPublicationRequest>,
    ) -> Result<Response<pb::Publication>, Status> {
        serve(
            request,
            |m| Ok((parse_round(m.round.as_ref())?, m.revision)),
            |actor, (round, revision)| async move {
                self.publications.get(&actor, &round, revision).await
            },
            |view| Ok(publication_to_proto(&view)),
        )
        .await
    }

    async fn list_publications(
        &self,
        request: Request<pb::ListPublicationsRequest>,
    ) -> Result<Response<pb::ListPublicationsResponse>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.publications.list(&actor, &round).await },
            |list| {
                Ok(pb::ListPublicationsResponse {
                    publications: publication_list_to_proto(&list),
                })
            },
        )
        .await
    }

    async fn file_objection(
        &self,
        request: Request<pb::FileObjectionRequest>,
    ) -> Result<Response<pb::Objection>, Status> {
        serve(
            request,
            |m| {
                let (round, unit) = round_and_unit(m.round.as_ref(), m.unit.as_ref())?;
                Ok((round, unit, m.indicator_code.clone(), m.reason.clone()))
            },
            |actor, (round, unit, indicator, reason)| async move {
                self.objections
                    .file(&actor, &round, &unit, &indicator, &reason)
                    .await
            },
            |objection| Ok(objection_to_proto(&objection)),
        )
        .await
    }

    async fn list_objections(
        &self,
        request: Request<pb::ListObjectionsRequest>,
    ) -> Result<Response<pb::ListObjectionsResponse>, Status> {
        serve(
            request,
            |m| {
                let mut check = RequestCheck::new();
                let round = check.field(parse_round(m.round.as_ref()));
                let unit = check.field(parse_unit_filter(&m.unit_id));
                Ok(check.finish(round.zip(unit))?)
            },
            |actor, (round, unit)| async move {
                self.objections.list(&actor, &round, unit.as_ref()).await
            },
            |list| {
                Ok(pb::ListObjectionsResponse {
                    objections: list.iter().map(objection_to_proto).collect(),
                })
            },
        )
        .await
    }

    async fn answer_objection(
        &self,
        request: Request<pb::AnswerObjectionRequest>,
    ) -> Result<Response<pb::Objection>, Status> {
        serve(
            request,
            |m| {
                let id = parse_id("objection_id", &m.objection_id)?;
                Ok((id, objection_outcome(m.outcome), m.answer.clone()))
            },
            |actor, (id, outcome, answer)| async move {
                self.objections.answer(&actor, id, outcome, &answer).await
            },
            |objection| Ok(objection_to_proto(&objection)),
        )
        .await
    }

    async fn finalize_round(
        &self,
        request: Request<pb::FinalizeRoundRequest>,
    ) -> Result<Response<pb::RoundStatus>, Status> {
        serve(
            request,
            |m| Ok(parse_round(m.round.as_ref())?),
            |actor, round| async move { self.steps.finalize(&actor, &round).await },
            |status| Ok(status_to_proto(&status)),
        )
        .await
    }
}
