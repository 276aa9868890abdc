//! The results-site binary: loads its configuration (`DTI_RESULTS_SITE_*`, optional file from
//! `DTI_RESULTS_SITE_CONFIG_FILE`) and serves the public results pages (and its gRPC health)
//! until SIGTERM/SIGINT.
//!
//! Exit code 2 on a bad configuration, 1 when it cannot start or fails while serving
//! ([`dti_service_kit::run_main`]).

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_results_site::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    dti_service_kit::run_main(
        "dti-results-site",
        "DTI_RESULTS_SITE_",
        |config: &ServiceConfig<Settings>| Box::pin(dti_results_site::build(config)),
    )
    .await
}
