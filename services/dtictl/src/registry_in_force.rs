//! The unit registry dtictl checks unit ids against, finds a unit's framework with and names
//! units from. For a command that calls the services it is the revision in force on the
//! platform, read once per run from the submission service (`ExportRegistry`, as the command's
//! caller), so a unit an operator has just added is known at once; for an offline command, or
//! when that read fails, it is the registry shipped with dtictl. Likewise the frameworks
//! operators stored on the platform ([`stored_frameworks`]), which such a command adds to its
//! catalogue.

use std::sync::OnceLock;

use clap::{ArgMatches, FromArgMatches};
use dti_domain::framework::FrameworkCatalog;
use dti_domain::UnitRegistry;
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{ExportRegistryRequest, FrameworkList, ListFrameworksRequest};
use dti_proto::frameworks::stored_files_beyond;

use crate::remote::{call, operator, with_bearer, Remote, Service};
use crate::{tr, Failure};

/// The services the parsed command calls, if it calls any.
static CONNECTION: OnceLock<Remote> = OnceLock::new();

/// Remembers how the parsed command reaches the services (its most specific subcommand's
/// connection arguments), for [`unit_registry`]. Called once, when the command line is parsed.
pub fn remember_connection(matches: &ArgMatches) {
    let mut leaf = matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    if leaf.try_contains_id("submission_endpoint").unwrap_or(false) {
        if let Ok(remote) = Remote::from_arg_matches(leaf) {
            let _ = CONNECTION.set(remote);
        }
    }
}

/// The registry in force (see the module); read at most once per run.
pub fn unit_registry() -> &'static UnitRegistry {
    static REGISTRY: OnceLock<UnitRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        CONNECTION
            .get()
            .and_then(read_in_force)
            .unwrap_or_else(|| UnitRegistry::builtin().expect("the shipped unit registry is valid"))
    })
}

/// The revision in force, read on a thread of its own (the caller may be inside a runtime);
/// `None` when it cannot be read.
fn read_in_force(remote: &Remote) -> Option<UnitRegistry> {
    on_own_runtime(remote.clone(), |remote| async move {
        let bearer = remote.bearer(&operator()).ok()?;
        let channel = remote.channel(Service::Submission).await.ok()?;
        let request = with_bearer(ExportRegistryRequest {}, &bearer).ok()?;
        let document = RegistryServiceClient::new(channel)
            .export_registry(request)
            .await
            .ok()?
            .into_inner();
        let source = format!("revision {}", document.revision);
        UnitRegistry::parse(&source, &document.document_toml).ok()
    })
}

/// What `read` makes of `remote`, run on a thread and runtime of its own (the caller may be
/// inside a runtime); `None` when it cannot be read.
fn on_own_runtime<T, F, Fut>(remote: Remote, read: F) -> Option<T>
where
    T: Send,
    F: FnOnce(Remote) -> Fut + Send,
    Fut: std::future::Future<Output = Option<T>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?
                    .block_on(read(remote))
            })
            .join()
            .ok()
            .flatten()
    })
}

/// The frameworks stored on the platform that `local` does not hold with the same content, as
/// (id, file), for a command that calls the services; none for an offline command or when the
/// read fails. The list is read without files first (`ListFrameworks`), so the files are fetched
/// only when a stored framework is new to `local` or names other content there (which the caller
/// reports).
pub fn stored_frameworks(local: &FrameworkCatalog) -> Vec<(String, String)> {
    let Some(remote) = CONNECTION.get().cloned() else {
        return Vec::new();
    };
    on_own_runtime(remote, |remote| async move {
        let listed = platform_frameworks(&remote, false).await.ok()?;
        if !listed
            .frameworks
            .iter()
            .any(|known| known.is_stored_beyond(local))
        {
            return Some(Vec::new());
        }
        let list = platform_frameworks(&remote, true).await.ok()?;
        Some(stored_files_beyond(local, list.frameworks))
    })
    .unwrap_or_default()
}

/// The frameworks the platform knows, as `ListFrameworks` answers (`include_documents` for the
/// stored files).
pub async fn platform_frameworks(
    connection: &Remote,
    include_documents: bool,
) -> Result<FrameworkList, Failure> {
    let bearer = connection.bearer(&operator())?;
    let mut client = RegistryServiceClient::new(connection.channel(Service::Submission).await?);
    let request = ListFrameworksRequest { include_documents };
    call(
        &tr!("dtictl-what-framework"),
        client.list_frameworks(with_bearer(request, &bearer)?),
    )
    .await
}
