//! `dti.submission.v1.RegistryService`: the unit registry in force, an operator's import of a
//! new revision, and the frameworks (an operator's stored framework, the known ones).

use dti_proto::convert::timestamp;
use dti_proto::dti::submission::v1 as pb;
use dti_proto::dti::submission::v1::registry_service_server::RegistryService;
use dti_service_kit::handler::serve;
use tonic::{Request, Response, Status};

use super::RegistryApi;
use crate::frameworks::{added_at, Known, Origin};
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

    async fn add_framework(
        &self,
        request: Request<pb::AddFrameworkRequest>,
    ) -> Result<Response<pb::AddFrameworkResponse>, Status> {
        serve(
            request,
            |m| Ok::<_, SubmissionError>(m.clone()),
            |actor, m| async move {
                self.frameworks
                    .add(&actor, &m.document_toml, &m.reason)
                    .await
            },
            |added| {
                Ok::<_, SubmissionError>(pb::AddFrameworkResponse {
                    framework_id: added.framework.id.to_string(),
                    content_hash: added.content_hash,
                    changed: added.changed,
                })
            },
        )
        .await
    }

    async fn list_frameworks(
        &self,
        request: Request<pb::ListFrameworksRequest>,
    ) -> Result<Response<pb::FrameworkList>, Status> {
        serve(
            request,
            |m| Ok::<_, SubmissionError>(m.include_documents),
            |actor, include_documents| async move {
                let known = self.frameworks.list(&actor, include_documents).await?;
                Ok::<_, SubmissionError>((known, include_documents))
            },
            |(known, include_documents)| {
                Ok::<_, SubmissionError>(pb::FrameworkList {
                    frameworks: known
                        .into_iter()
                        .map(|known| known_to_proto(known, include_documents))
                        .collect(),
                })
            },
        )
        .await
    }
}

/// A known framework as protobuf.
fn known_to_proto(known: Known, include_document: bool) -> pb::KnownFramework {
    let framework = &known.framework;
    let origin = match known.origin {
        Origin::BuiltIn => pb::FrameworkOrigin::BuiltIn,
        Origin::Directory => pb::FrameworkOrigin::Directory,
        Origin::Stored => pb::FrameworkOrigin::Stored,
    };
    let added_at = added_at(&known).map(timestamp);
    let stored = known.stored.unwrap_or_default();
    pb::KnownFramework {
        framework_id: framework.id.to_string(),
        year: u32::from(framework.year),
        unit_kind: framework.unit_kind.as_str().to_owned(),
        title: framework.title.clone(),
        scored: framework.scored,
        content_hash: known.content_hash,
        origin: origin.into(),
        added_by: stored.added_by,
        added_at,
        reason: stored.reason,
        pinned_by_rounds: known.pinned_by,
        document_toml: if include_document {
            stored.document
        } else {
            String::new()
        },
    }
}
