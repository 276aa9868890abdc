//! `dti-national-sync`: loads its configuration (prefix `DTI_NATIONAL_SYNC_`), builds the
//! service and serves until SIGTERM/SIGINT.
//!
//! Exit code 2 on a bad configuration, 1 when the service cannot start or fails while serving
//! ([`dti_service_kit::run_main`]).

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_national_sync::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    dti_service_kit::run_main(
        "dti-national-sync",
        "DTI_NATIONAL_SYNC_",
        |config: &ServiceConfig<Settings>| Box::pin(dti_national_sync::build(config)),
    )
    .await
}
