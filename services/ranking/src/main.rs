//! The ranking service binary: loads its configuration (`DTI_RANKING_*`, optional file from
//! `DTI_RANKING_CONFIG_FILE`) and serves until SIGTERM/SIGINT.
//!
//! Exit code 2 on a bad configuration, 1 when the service cannot start or fails while serving
//! ([`dti_service_kit::run_main`]).

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_ranking::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    dti_service_kit::run_main(
        "dti-ranking",
        "DTI_RANKING_",
        |config: &ServiceConfig<Settings>| Box::pin(dti_ranking::build(config)),
    )
    .await
}
