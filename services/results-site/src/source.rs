//! The services as the site reads them, authenticated as a `public_reader` ([`Reader`]): the
//! verification service's `PublicationService` — the published revisions of a round
//! (`ListPublications`) and one revision with its snapshot (`GetPublication`) — and the
//! submission service's `RegistryService` (`ExportRegistry`: the unit registry in force).
//! Protobuf types stop here: the rest of the site sees [`RevisionSummary`],
//! [`FetchedRevision`] and [`RegistryRevision`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dti_auth::{Principal, Role, TokenMinter};
use dti_config::AuthConfig;
use dti_domain::framework::FrameworkCatalog;
use dti_domain::RoundRef;
use dti_i18n::Message;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{
    ExportRegistryRequest, KnownFramework, ListFrameworksRequest,
};
use dti_proto::dti::verification::v1 as pb;
use dti_proto::dti::verification::v1::publication_service_client::PublicationServiceClient;
use dti_proto::frameworks::stored_files_beyond;
use dti_service_kit::grpc_client::grpc_endpoint;
use secrecy::{ExposeSecret, SecretString};
use tonic::transport::Channel;
use tonic::Code;

/// Subject of the tokens the site mints for itself.
pub const READER_SUBJECT: &str = "system:results-site";
/// How long a minted token is valid; it is replaced after half of it.
const MINTED_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Largest answer accepted (a snapshot is about 20 KiB per unit).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// One published revision as listed (no snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionSummary {
    /// Revision, from 1.
    pub revision: u32,
    /// "initial publication" or the correction's reason.
    pub reason: String,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// SHA-256 of the snapshot's canonical JSON, lowercase hex.
    pub content_hash: String,
}

/// One published revision with its snapshot, as the verification service returned it.
#[derive(Debug, Clone)]
pub struct FetchedRevision {
    /// Revision, from 1.
    pub revision: u32,
    /// "initial publication" or the correction's reason.
    pub reason: String,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// The published content hash, lowercase hex.
    pub content_hash: String,
    /// The snapshot as JSON (key order as stored; its canonical form is what was hashed).
    pub snapshot_json: String,
    /// The round's state when fetched, e.g. `provisional` or `final`.
    pub round_state: String,
    /// End of the provisional period.
    pub provisional_until: Option<DateTime<Utc>>,
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The round (or that revision of it) is not published.
    #[error("not published: {0}")]
    NotPublished(Message),
    /// The verification service could not answer.
    #[error("the verification service did not answer: {0}")]
    Unavailable(String),
}

/// The unit registry in force, as the submission service exported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRevision {
    /// Its revision (0: the seed, none stored yet).
    pub revision: i64,
    /// The registry file.
    pub document: String,
}

/// How the site authenticates.
enum Credentials {
    /// A configured `public_reader` token.
    Configured(SecretString),
    /// Tokens minted from the HS256 secret, the current one with its mint time.
    Minted {
        minter: TokenMinter,
        current: Mutex<Option<(Instant, String)>>,
    },
}

/// The site as a caller of the services: a `public_reader`, with a configured token or tokens
/// it mints with the HS256 secret of `[auth]`.
pub struct Reader {
    credentials: Credentials,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// Why a source could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The endpoint or its CA file cannot be used.
    #[error(transparent)]
    Endpoint(#[from] dti_service_kit::grpc_client::EndpointError),
    /// Neither a reader token nor an HS256 secret to mint one is configured.
    #[error("service.reader_token: set a public_reader token, or auth.hs256_secret to mint one")]
    NoCredentials,
}

impl Reader {
    /// Sends `reader_token`, or tokens minted with `auth`'s HS256 secret.
    pub fn new(reader_token: Option<SecretString>, auth: &AuthConfig) -> Result<Self, SetupError> {
        let credentials = match reader_token {
            Some(token) => Credentials::Configured(token),
            None => Credentials::Minted {
                minter: TokenMinter::from_config(auth).map_err(|_| SetupError::NoCredentials)?,
                current: Mutex::new(None),
            },
        };
        Ok(Self { credentials })
    }

    /// `message` with the reader's `authorization` header.
    fn authorized<T>(&self, message: T) -> Result<tonic::Request<T>, SourceError> {
        let token = self.token()?;
        let mut request = tonic::Request::new(message);
        let value = format!("Bearer {token}").parse().map_err(|_| {
            SourceError::Unavailable("the reader token is not a header value".into())
        })?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }

    /// The token to send now.
    fn token(&self) -> Result<String, SourceError> {
        match &self.credentials {
            Credentials::Configured(token) => Ok(token.expose_secret().to_owned()),
            Credentials::Minted { minter, current } => {
                let mut current = current
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some((minted_at, token)) = current.as_ref() {
                    if minted_at.elapsed() < MINTED_TOKEN_TTL / 2 {
                        return Ok(token.clone());
                    }
                }
                let token = minter
                    .mint(&reader(), MINTED_TOKEN_TTL)
                    .map_err(|error| SourceError::Unavailable(error.to_string()))?;
                *current = Some((Instant::now(), token.clone()));
                Ok(token)
            }
        }
    }
}

/// A channel to the endpoint of setting `field` (connected on first use; an `https://` one
/// verified against the CA file of setting `ca_field`, or the system's roots).
fn channel(
    field: &'static str,
    endpoint: &str,
    ca_field: &'static str,
    ca_file: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<Channel, SetupError> {
    Ok(grpc_endpoint(field, endpoint, ca_field, ca_file)?
        .timeout(timeout)
        .connect_timeout(timeout)
        .connect_lazy())
}

/// A client of the verification service's `PublicationService`.
#[derive(Debug)]
pub struct PublicationSource {
    client: PublicationServiceClient<Channel>,
    reader: Arc<Reader>,
}

impl PublicationSource {
    /// A source reading from `endpoint` (`service.verification_endpoint`, verified against
    /// `ca_file` when `https://`) as `reader`.
    pub fn new(
        endpoint: &str,
        ca_file: Option<&std::path::Path>,
        timeout: Duration,
        reader: Arc<Reader>,
    ) -> Result<Self, SetupError> {
        let channel = channel(
            "service.verification_endpoint",
            endpoint,
            "service.verification_ca_file",
            ca_file,
            timeout,
        )?;
        Ok(Self {
            client: PublicationServiceClient::new(channel)
                .max_decoding_message_size(MAX_ANSWER_BYTES),
            reader,
        })
    }

    /// Every published revision of `round`, oldest first (empty when none is).
    pub async fn list(&self, round: &RoundRef) -> Result<Vec<RevisionSummary>, SourceError> {
        let request = self.reader.authorized(pb::ListPublicationsRequest {
            round: Some(round_ref(round)),
        })?;
        let answer = self.client.clone().list_publications(request).await;
        match answer {
            Ok(answer) => Ok(answer
                .into_inner()
                .publications
                .into_iter()
                .map(|summary| RevisionSummary {
                    revision: summary.revision,
                    reason: summary.reason,
                    published_at: summary
                        .published_at
                        .as_ref()
                        .and_then(dti_proto::convert::instant),
                    content_hash: summary.content_hash,
                })
                .collect()),
            Err(status) if status.code() == Code::NotFound => Ok(Vec::new()),
            Err(status) => Err(unavailable(&status)),
        }
    }

    /// Revision `revision` of `round` with its snapshot.
    pub async fn get(
        &self,
        round: &RoundRef,
        revision: u32,
    ) -> Result<FetchedRevision, SourceError> {
        let request = self.reader.authorized(pb::GetPublicationRequest {
            round: Some(round_ref(round)),
            revision,
        })?;
        let publication = match self.client.clone().get_publication(request).await {
            Ok(answer) => answer.into_inner(),
            Err(status) if status.code() == Code::NotFound => {
                return Err(SourceError::NotPublished(
                    Message::new("site-no-revision")
                        .arg("round", round.to_string())
                        .arg("revision", revision),
                ))
            }
            Err(status) => return Err(unavailable(&status)),
        };
        if !publication.hash_verified {
            return Err(SourceError::Unavailable(format!(
                "revision {} of {round} no longer matches its published hash",
                publication.revision
            )));
        }
        Ok(FetchedRevision {
            revision: publication.revision,
            reason: publication.reason,
            published_at: publication
                .published_at
                .as_ref()
                .and_then(dti_proto::convert::instant),
            content_hash: publication.content_hash,
            snapshot_json: publication.snapshot_json,
            round_state: publication.round_state,
            provisional_until: publication
                .provisional_until
                .as_ref()
                .and_then(dti_proto::convert::instant),
        })
    }
}

/// A client of the submission service's `RegistryService`.
#[derive(Debug)]
pub struct RegistrySource {
    client: RegistryServiceClient<Channel>,
    reader: Arc<Reader>,
}

impl RegistrySource {
    /// A source reading from `endpoint` (`service.submission_endpoint`, verified against
    /// `ca_file` when `https://`) as `reader`.
    pub fn new(
        endpoint: &str,
        ca_file: Option<&std::path::Path>,
        timeout: Duration,
        reader: Arc<Reader>,
    ) -> Result<Self, SetupError> {
        let channel = channel(
            "service.submission_endpoint",
            endpoint,
            "service.submission_ca_file",
            ca_file,
            timeout,
        )?;
        Ok(Self {
            client: RegistryServiceClient::new(channel),
            reader,
        })
    }

    /// The frameworks operators stored on the platform that `local` does not hold with the same
    /// content, as (id, file). The list is read without files first; the files are fetched only
    /// when a stored framework is new to `local` or names other content there.
    pub async fn stored_frameworks(
        &self,
        local: &FrameworkCatalog,
    ) -> Result<Vec<(String, String)>, SourceError> {
        let listed = self.list_frameworks(false).await?;
        if !listed.iter().any(|known| known.is_stored_beyond(local)) {
            return Ok(Vec::new());
        }
        Ok(stored_files_beyond(
            local,
            self.list_frameworks(true).await?,
        ))
    }

    /// The frameworks the platform knows, with the stored files when `include_documents`.
    async fn list_frameworks(
        &self,
        include_documents: bool,
    ) -> Result<Vec<KnownFramework>, SourceError> {
        let request = self
            .reader
            .authorized(ListFrameworksRequest { include_documents })?;
        Ok(self
            .client
            .clone()
            .list_frameworks(request)
            .await
            .map_err(|status| unavailable(&status))?
            .into_inner()
            .frameworks)
    }

    /// The unit registry in force.
    pub async fn in_force(&self) -> Result<RegistryRevision, SourceError> {
        let request = self.reader.authorized(ExportRegistryRequest {})?;
        let document = self
            .client
            .clone()
            .export_registry(request)
            .await
            .map_err(|status| unavailable(&status))?
            .into_inner();
        Ok(RegistryRevision {
            revision: document.revision,
            document: document.document_toml,
        })
    }
}

/// The principal the site acts as: a `public_reader`, which reads published results only.
pub fn reader() -> Principal {
    Principal::city(READER_SUBJECT, Role::PublicReader)
}

fn round_ref(round: &RoundRef) -> common::RoundRef {
    common::RoundRef {
        year: u32::from(round.year),
        framework: round.framework.as_str().to_owned(),
    }
}

fn unavailable(status: &tonic::Status) -> SourceError {
    SourceError::Unavailable(format!("{:?}: {}", status.code(), status.message()))
}
