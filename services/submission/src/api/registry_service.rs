//! `dti.submission.v1.RegistryService`: the unit registry in force, and an operator's import of
//! a new revision.

use dti_proto::convert::timestamp;
use dti_proto::dti::submission::v1 as pb;
use dti_proto::dti::submission::v1::registry_service_server::RegistryService;
use dti_service_kit::handler::serve;
use tonic::{Request, Response, Status};

use super::RegistryApi;
use crate::SubmissionError;

#[tonic::async_trait]
impl RegistryService for RegistryApi {
    async fn export_registry(
        &self,
        request: Request<pb::ExportRegistryRequest>,
    ) -> Result<Response<pb::RegistryDocument>, Status> {
        serve(
            request,
            |_| Ok::<_, SubmissionError>(()),
            |actor, ()| async move { self.registry.export(&actor).await },
            |stored| {
                Ok::<_, SubmissionError>(pb::RegistryDocument {
                    revision: stored.revision,
                    document_toml: stored.document,
                    changed_by: stored.changed_by,
                    changed_at: Some(timestamp(stored.changed_at)),
                    reason: stored.reason,
                })
            },
        )
        .await
    }

    async fn import_registry(
        &self,
        request: Request<pb::ImportRegistryRequest>,
    ) -> Result<Response<pb::ImportRegistryResponse>, Status> {
        serve(
            request,
            |m| Ok::<_, SubmissionError>(m.clone()),
            |actor, m| async move {
                self.registry
                    .import(&actor, &m.document_toml, m.expected_revision, &m.reason)
                    .await
            },
            |imported| {
                let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                Ok::<_, SubmissionError>(pb::ImportRegistryResponse {
                    revision: imported.revision,
                    changed: imported.changed,
                    units: count(imported.registry.units().count()),
                    lineage: count(imported.registry.lineage().len()),
                    cohorts: count(imported.registry.cohorts().len()),
                })
            },
        )
        .await
    }
}
