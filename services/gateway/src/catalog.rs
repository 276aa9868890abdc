//! The public RPCs the gateway serves, read from the descriptors the project compiles
//! ([`dti_proto::FILE_DESCRIPTOR_SET`]): every method of every service in a `dti.*` package,
//! each with the backend channel that serves it. A new RPC in a proto file is in the catalogue
//! with no change here; a new service package needs its backend in [`crate::config::Backends`]
//! (the gateway refuses to start without it).

use std::collections::BTreeMap;
use std::path::Path;

use dti_service_kit::grpc_client::grpc_endpoint;
use prost_reflect::{DescriptorPool, MethodDescriptor, ServiceDescriptor};
use tonic::transport::Channel;

use crate::config::Backends;

/// Why the catalogue could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The compiled descriptor set does not decode.
    #[error("decoding the proto descriptors: {0}")]
    Descriptors(#[from] prost_reflect::DescriptorError),
    /// A service package has no backend setting.
    #[error("service {0} has no backend endpoint in the gateway's settings")]
    NoBackend(String),
    /// A backend endpoint or its CA file cannot be used.
    #[error(transparent)]
    Endpoint(#[from] dti_service_kit::grpc_client::EndpointError),
}

/// One RPC reachable through the gateway.
#[derive(Debug, Clone)]
pub struct Rpc {
    /// The method's descriptor (input, output, streaming, comments).
    pub method: MethodDescriptor,
    /// gRPC path, `/dti.ranking.v1.RankingService/GetRanking`.
    pub grpc_path: http::uri::PathAndQuery,
    /// Channel to the service that serves it.
    pub channel: Channel,
}

impl Rpc {
    /// Full name, `dti.ranking.v1.RankingService/GetRanking` (the HTTP path after `/v1/`).
    pub fn name(&self) -> &str {
        self.grpc_path.as_str().trim_start_matches('/')
    }
}

/// Every public RPC by full name, and the descriptor pool they come from.
#[derive(Debug, Clone)]
pub struct Catalog {
    pool: DescriptorPool,
    rpcs: BTreeMap<String, Rpc>,
}

/// The descriptor pool of every DTI package.
pub fn descriptor_pool() -> Result<DescriptorPool, prost_reflect::DescriptorError> {
    DescriptorPool::decode(dti_proto::FILE_DESCRIPTOR_SET)
}

/// The services the gateway exposes: those of `dti.*` packages, in a stable order.
pub fn public_services(pool: &DescriptorPool) -> Vec<ServiceDescriptor> {
    let mut services: Vec<_> = pool
        .services()
        .filter(|service| service.package_name().starts_with("dti."))
        .collect();
    services.sort_by(|a, b| a.full_name().cmp(b.full_name()));
    services
}

impl Catalog {
    /// Reads the descriptors and opens a lazily connecting channel per backend; `https://`
    /// backends are verified against `ca_file` (the system's roots without one).
    pub fn load(backends: &Backends, ca_file: Option<&Path>) -> Result<Self, CatalogError> {
        let pool = descriptor_pool()?;
        let mut channels: BTreeMap<&str, Channel> = BTreeMap::new();
        for (name, url) in backends.named() {
            if !channels.contains_key(url) {
                let endpoint = grpc_endpoint(
                    &format!("service.backends.{name}"),
                    url,
                    "service.backends_ca_file",
                    ca_file,
                )?;
                channels.insert(url, endpoint.tcp_nodelay(true).connect_lazy());
            }
        }
        let mut rpcs = BTreeMap::new();
        for service in public_services(&pool) {
            let channel = backends
                .for_package(service.package_name())
                .and_then(|url| channels.get(url))
                .ok_or_else(|| CatalogError::NoBackend(service.full_name().to_owned()))?
                .clone();
            for method in service.methods() {
                let name = format!("{}/{}", service.full_name(), method.name());
                let grpc_path = format!("/{name}")
                    .parse()
                    .expect("proto names are valid path characters");
                rpcs.insert(
                    name,
                    Rpc {
                        method,
                        grpc_path,
                        channel: channel.clone(),
                    },
                );
            }
        }
        Ok(Self { pool, rpcs })
    }

    /// The RPC `service/method` (e.g. `dti.ranking.v1.RankingService`, `GetRanking`).
    pub fn rpc(&self, service: &str, method: &str) -> Option<&Rpc> {
        self.rpcs.get(&format!("{service}/{method}"))
    }

    /// Every RPC, by full name.
    pub fn rpcs(&self) -> impl Iterator<Item = &Rpc> {
        self.rpcs.values()
    }

    /// The descriptor pool.
    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_service_of_the_six_is_in_the_catalogue_with_its_streaming_rpcs() {
        let catalog = Catalog::load(&Backends::default(), None).expect("the catalogue loads");
        let ranking = catalog
            .rpc("dti.ranking.v1.RankingService", "GetRanking")
            .expect("GetRanking is public");
        assert_eq!(ranking.name(), "dti.ranking.v1.RankingService/GetRanking");
        assert_eq!(
            ranking.method.input().full_name(),
            "dti.ranking.v1.GetRankingRequest"
        );
        let upload = catalog
            .rpc("dti.evidence.v1.EvidenceService", "UploadEvidence")
            .expect("uploads are public");
        assert!(upload.method.is_client_streaming());
        let packages: std::collections::BTreeSet<_> = catalog
            .rpcs()
            .map(|rpc| rpc.method.parent_service().package_name().to_owned())
            .collect();
        assert_eq!(packages.len(), 6, "{packages:?}");
        assert!(catalog
            .rpc("dti.ranking.v1.RankingService", "Nope")
            .is_none());
    }
}
