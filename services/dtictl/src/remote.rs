//! Calling the platform's services: where each one is, who the caller is, how a refusal maps
//! to an exit code, and how an answer is printed (a table for people, `--json` for scripts).
//!
//! Every command that talks to a running service takes [`Remote`] (flattened into its
//! arguments) and acts as one principal: the token in `--token` / `DTI_TOKEN` as is, or, on a
//! development stack, one minted with the services' HS256 secret for the role the command
//! implies (an operator opens rounds, a verifier decides, a unit submits for itself).
//!
//! Exit codes of a refused call ([`refused`]): 2 for the caller's input (`InvalidArgument`,
//! `NotFound`, every field violation listed), 3 for a state change the platform refused
//! (`FailedPrecondition`, `Aborted`, `AlreadyExists`), 4 for a caller who may not do it
//! (`PermissionDenied`, `Unauthenticated`); anything else is unexpected (1).

use std::future::Future;
use std::time::Duration;

use dti_auth::{Principal, Role, TokenMinter};
use dti_service_kit::grpc_client::grpc_endpoint;
use serde::Serialize;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::{runtime, tr, Failure};

/// A minter for the configured secret, its tokens for `tenant` (or none), refusing a short
/// secret or a malformed tenant.
pub fn minter(
    secret: &str,
    issuer: &str,
    audience: &str,
    tenant: Option<&str>,
) -> Result<TokenMinter, Failure> {
    if secret.len() < 32 {
        return Err(Failure::InvalidInput(vec![tr!("dtictl-token-secret")]));
    }
    let tenant = checked_tenant(tenant)?;
    Ok(TokenMinter::hs256(secret.as_bytes(), issuer, audience).for_tenant(tenant))
}

/// `tenant` (`--tenant`, `DTI_TENANT`) when it is a tenant id; a malformed one is refused
/// (exit code 2), naming it.
pub fn checked_tenant(tenant: Option<&str>) -> Result<Option<&str>, Failure> {
    match tenant {
        Some(tenant) if !dti_config::is_tenant_id(tenant) => Err(Failure::InvalidInput(vec![tr!(
            "dtictl-token-tenant",
            tenant = tenant
        )])),
        tenant => Ok(tenant),
    }
}

/// A platform service dtictl calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Rounds, drafts and submissions.
    Submission,
    /// Evidence documents.
    Evidence,
    /// Scorecards and what-if scoring.
    Scoring,
    /// Rankings and positions.
    Ranking,
    /// Verification, approval, publication and objections.
    Verification,
    /// Owner data and the national sync.
    NationalSync,
}

/// Where the services are: one gRPC endpoint each (the local stack's ports by default).
#[derive(Debug, Clone, clap::Args)]
pub struct Endpoints {
    /// gRPC endpoint of the submission service.
    #[arg(
        long,
        env = "DTICTL_SUBMISSION_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub submission_endpoint: String,
    /// gRPC endpoint of the evidence service.
    #[arg(
        long,
        env = "DTICTL_EVIDENCE_ENDPOINT",
        default_value = "http://127.0.0.1:50052"
    )]
    pub evidence_endpoint: String,
    /// gRPC endpoint of the scoring service.
    #[arg(
        long,
        env = "DTICTL_SCORING_ENDPOINT",
        default_value = "http://127.0.0.1:50053"
    )]
    pub scoring_endpoint: String,
    /// gRPC endpoint of the ranking service.
    #[arg(
        long,
        env = "DTICTL_RANKING_ENDPOINT",
        default_value = "http://127.0.0.1:50054"
    )]
    pub ranking_endpoint: String,
    /// gRPC endpoint of the verification service (approval and publication too).
    #[arg(
        long,
        env = "DTICTL_VERIFICATION_ENDPOINT",
        default_value = "http://127.0.0.1:50055"
    )]
    pub verification_endpoint: String,
    /// gRPC endpoint of the national-sync service (owner data too).
    #[arg(
        long,
        env = "DTICTL_NATIONAL_SYNC_ENDPOINT",
        default_value = "http://127.0.0.1:50056"
    )]
    pub national_sync_endpoint: String,
    /// CA certificate(s), PEM, that `https://` endpoints' certificates must chain to (the
    /// system's roots when unset); only with `https://` endpoints.
    #[arg(long, env = "DTICTL_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,
}

impl Endpoints {
    /// The endpoint of `service`, and the flag that sets it.
    pub fn of(&self, service: Service) -> (&str, &'static str) {
        match service {
            Service::Submission => (&self.submission_endpoint, "--submission-endpoint"),
            Service::Evidence => (&self.evidence_endpoint, "--evidence-endpoint"),
            Service::Scoring => (&self.scoring_endpoint, "--scoring-endpoint"),
            Service::Ranking => (&self.ranking_endpoint, "--ranking-endpoint"),
            Service::Verification => (&self.verification_endpoint, "--verification-endpoint"),
            Service::NationalSync => (&self.national_sync_endpoint, "--national-sync-endpoint"),
        }
    }
}

/// Who calls: a given token, or a development secret to mint one per principal.
#[derive(Debug, Clone, clap::Args)]
pub struct Credentials {
    /// Bearer token to send as is (otherwise one is minted with --hs256-secret).
    #[arg(long, env = "DTI_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Development stacks: the services' HS256 secret, to mint a token for each principal.
    #[arg(long, env = "DTI_AUTH_HS256_SECRET", hide_env_values = true)]
    pub hs256_secret: Option<String>,
    /// Development stacks of several provinces: the tenant the minted tokens are for (the
    /// services' `auth.tenant`).
    #[arg(long, env = "DTI_TENANT")]
    pub tenant: Option<String>,
}

/// How to reach the services and as whom.
#[derive(Debug, Clone, clap::Args)]
pub struct Remote {
    /// The services' endpoints.
    #[command(flatten)]
    pub endpoints: Endpoints,
    /// The caller's credentials.
    #[command(flatten)]
    pub credentials: Credentials,
}

impl Remote {
    /// `Bearer <token>` for `principal`: the given token, or one minted for it.
    pub fn bearer(&self, principal: &Principal) -> Result<String, Failure> {
        if let Some(token) = &self.credentials.token {
            return Ok(format!("Bearer {token}"));
        }
        let secret = self
            .credentials
            .hs256_secret
            .as_deref()
            .ok_or_else(|| Failure::InvalidInput(vec![tr!("dtictl-credentials-missing")]))?;
        let tenant = self.credentials.tenant.as_deref();
        let token = minter(secret, "dti-platform", "dti", tenant)?
            .mint(principal, Duration::from_secs(600))
            .map_err(|error| Failure::Unexpected(error.into()))?;
        Ok(format!("Bearer {token}"))
    }

    /// A connected channel to `service`.
    pub async fn channel(&self, service: Service) -> Result<Channel, Failure> {
        let (endpoint, flag) = self.endpoints.of(service);
        let ca_file = self.endpoints.ca_file.as_deref();
        grpc_endpoint(flag, endpoint, "--ca-file", ca_file)
            .map_err(|error| {
                Failure::InvalidInput(vec![if error.field == flag {
                    tr!("dtictl-endpoint-not-url", flag = flag, endpoint = endpoint)
                } else {
                    tr!("dtictl-ca-file-unusable", error = error.message)
                }])
            })?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|error| {
                Failure::Unexpected(anyhow::anyhow!(tr!(
                    "dtictl-endpoint-unreachable",
                    flag = flag,
                    endpoint = endpoint,
                    error = error.to_string()
                )))
            })
    }

    /// One call of `service` as `principal` on a runtime of its own: the bearer first, then a
    /// channel made into a client by `client`, then `send` with it and `request` (its bearer
    /// added); the service's answer.
    pub fn exchange<C, R, T, Fut>(
        &self,
        service: Service,
        principal: &Principal,
        client: impl FnOnce(Channel) -> C,
        request: R,
        send: impl FnOnce(C, tonic::Request<R>) -> Fut,
    ) -> Result<T, Failure>
    where
        Fut: Future<Output = Result<T, Failure>>,
    {
        runtime()?.block_on(async {
            let bearer = self.bearer(principal)?;
            let channel = self.channel(service).await?;
            send(client(channel), with_bearer(request, &bearer)?).await
        })
    }

    /// `message` as a request of `principal`.
    pub fn request<T>(
        &self,
        message: T,
        principal: &Principal,
    ) -> Result<tonic::Request<T>, Failure> {
        with_bearer(message, &self.bearer(principal)?)
    }
}

/// `message` with an `authorization` header and the run's language as `accept-language`, so
/// the services answer a refusal in the language dtictl prints in. Every call dtictl makes
/// goes through here.
pub fn with_bearer<T>(message: T, bearer: &str) -> Result<tonic::Request<T>, Failure> {
    let mut request = tonic::Request::new(message);
    let value = bearer
        .parse()
        .map_err(|_| Failure::InvalidInput(vec![tr!("dtictl-token-not-header")]))?;
    request.metadata_mut().insert("authorization", value);
    request.metadata_mut().insert(
        "accept-language",
        tonic::metadata::MetadataValue::from_static(crate::text::lang().tag()),
    );
    Ok(request)
}

/// Awaits a call and maps a refusal onto dtictl's failures ([`refused`]).
pub async fn call<T>(
    what: &str,
    response: impl Future<Output = Result<tonic::Response<T>, Status>>,
) -> Result<T, Failure> {
    response
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| refused(what, status))
}

/// A refused call as a failure: the service's message, then one line per field violation.
pub fn refused(what: &str, status: Status) -> Failure {
    let mut lines = vec![tr!(
        "dtictl-refused",
        what = what,
        code = format!("{:?}", status.code()),
        message = status.message()
    )];
    if let Some(bad_request) = status.get_details_bad_request() {
        lines.extend(
            bad_request
                .field_violations
                .iter()
                .map(|violation| format!("  {}: {}", violation.field, violation.description)),
        );
    }
    match status.code() {
        Code::InvalidArgument | Code::NotFound | Code::OutOfRange => Failure::InvalidInput(lines),
        Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => Failure::Refused(lines),
        Code::PermissionDenied | Code::Unauthenticated => Failure::Denied(lines),
        code => Failure::Unexpected(anyhow::anyhow!("{} ({code:?})", lines.join("\n"))),
    }
}

/// The operator dtictl acts as.
pub fn operator() -> Principal {
    Principal::city("dtictl-operator", Role::Operator)
}

/// The verifier dtictl acts as.
pub fn verifier() -> Principal {
    Principal::city("dtictl-verifier", Role::Verifier)
}

/// The approver dtictl acts as.
pub fn approver() -> Principal {
    Principal::city("dtictl-approver", Role::Approver)
}

/// A unit's submitter.
pub fn unit_submitter(unit_id: &str) -> Principal {
    Principal::unit_submitter(format!("dtictl-{unit_id}"), unit_id)
}

/// A department's data owner.
pub fn data_owner(department_id: &str) -> Principal {
    Principal::data_owner(format!("dtictl-owner-{department_id}"), department_id)
}

/// How answers are printed: the protobuf JSON mapping with `--json`, else for people.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// Print JSON for scripts.
    pub json: bool,
}

impl Output {
    /// Prints `message` as JSON, or what `human` renders.
    pub fn emit<T: Serialize>(
        &self,
        message: &T,
        human: impl FnOnce(&T) -> String,
    ) -> Result<(), Failure> {
        if self.json {
            let value = serde_json::to_value(message).map_err(|e| Failure::Unexpected(e.into()))?;
            crate::print_json(&value)
        } else {
            let text = human(message);
            if text.ends_with('\n') {
                print!("{text}");
            } else {
                println!("{text}");
            }
            Ok(())
        }
    }
}

/// A table for people: a header row (from the catalogue) and aligned columns.
pub fn table<const N: usize>(
    header: [String; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
        .set_header(header);
    for row in rows {
        table.add_row(row);
    }
    table.to_string()
}

/// A protobuf enum value's name without its type prefix, in lower case (`ROUND_STATE_OPEN` →
/// `open`).
pub fn enum_name(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

/// A protobuf timestamp for people (RFC 3339), or `-`.
pub fn when(at: Option<&dti_proto::Timestamp>) -> String {
    at.and_then(dti_proto::convert::instant)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_carries_the_bearer_and_the_language_of_the_run() {
        // The unit tests of this crate choose English only, so they may run side by side.
        crate::text::set_lang(dti_i18n::Lang::En);
        let request = with_bearer((), "Bearer abc").expect("a valid header");
        let metadata = request.metadata();
        assert_eq!(
            metadata.get("authorization").and_then(|v| v.to_str().ok()),
            Some("Bearer abc")
        );
        assert_eq!(
            metadata
                .get("accept-language")
                .and_then(|v| v.to_str().ok()),
            Some("en")
        );
        let Err(Failure::InvalidInput(lines)) = with_bearer((), "Bearer \n") else {
            panic!("a bearer with a line break is refused");
        };
        assert_eq!(
            lines,
            [dti_i18n::Lang::En.catalog().text("dtictl-token-not-header")]
        );
    }
}
