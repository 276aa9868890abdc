//! Starting a service: the one error every service's start-up can fail with, and the one
//! `main` every service binary runs.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use dti_config::{ServiceConfig, Validate};
use serde::de::DeserializeOwned;

use crate::{KitError, ServiceKit};

/// Why a service could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The bootstrap failed (telemetry, connections, listener), or serving failed.
    #[error(transparent)]
    Kit(#[from] KitError),
    /// The framework files could not be loaded.
    #[error("loading frameworks: {0}")]
    Frameworks(#[from] dti_domain::FrameworkError),
    /// The unit registry could not be loaded.
    #[error("loading the unit registry: {0}")]
    Units(#[from] dti_domain::UnitRegistryError),
    /// The token verifier could not be built from `auth`.
    #[error("auth: {0}")]
    Auth(#[from] dti_auth::AuthError),
    /// A start-up step of the service's own failed; the error says what.
    #[error(transparent)]
    Service(Box<dyn StdError + Send + Sync>),
    /// A named start-up step of the service's own failed.
    #[error("{step}: {source}")]
    Step {
        /// What was being done, e.g. "preparing evidence storage".
        step: &'static str,
        /// Why it failed.
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl StartError {
    /// A failure of the service's own set-up that explains itself.
    pub fn service(error: impl StdError + Send + Sync + 'static) -> Self {
        Self::Service(Box::new(error))
    }

    /// Maps a failure of the service's own start-up `step`.
    pub fn step<E: StdError + Send + Sync + 'static>(step: &'static str) -> impl FnOnce(E) -> Self {
        move |source| Self::Step {
            step,
            source: Box::new(source),
        }
    }
}

/// A service's `build`: its kit, ready to serve, from its loaded configuration.
pub type BuildFuture<'a> = Pin<Box<dyn Future<Output = Result<ServiceKit, StartError>> + 'a>>;

/// The whole `main` of a service binary named `binary` (e.g. `dti-submission`):
/// loads `ServiceConfig<S>` with `env_prefix` (e.g. `DTI_SUBMISSION_`; the optional file
/// comes from `<env_prefix>CONFIG_FILE`), builds the service with `build` and serves until
/// SIGTERM/SIGINT.
///
/// Exit codes: 0 after a graceful stop; 2 on a configuration error
/// (`<binary>: configuration: <error>` on standard error); 1 when the service could not start
/// or failed while serving (`<binary>: <error>`).
///
/// ```no_run
/// # use dti_config::{NoServiceSettings, ServiceConfig};
/// # use dti_service_kit::{ServiceKit, StartError};
/// # async fn build(config: &ServiceConfig<NoServiceSettings>) -> Result<ServiceKit, StartError> {
/// #     Ok(ServiceKit::builder("example", config).build().await?)
/// # }
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     dti_service_kit::run_main("dti-example", "DTI_EXAMPLE_", |config: &ServiceConfig<NoServiceSettings>| {
///         Box::pin(build(config))
///     })
///     .await
/// }
/// ```
pub async fn run_main<S, B>(binary: &str, env_prefix: &str, build: B) -> ExitCode
where
    ServiceConfig<S>: DeserializeOwned + Validate,
    B: for<'a> FnOnce(&'a ServiceConfig<S>) -> BuildFuture<'a>,
{
    let config = match dti_config::load::<ServiceConfig<S>>(env_prefix) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{binary}: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        let kit = build(&config).await?;
        kit.serve().await.map_err(StartError::from)
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{binary}: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_own_failures_keep_their_message() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(StartError::service(io()).to_string(), "disk full");
        let step = StartError::step("preparing evidence storage")(io());
        assert_eq!(step.to_string(), "preparing evidence storage: disk full");
    }
}
