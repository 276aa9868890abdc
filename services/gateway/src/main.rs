//! The gateway binary: loads its configuration (`DTI_GATEWAY_*`, optional file from
//! `DTI_GATEWAY_CONFIG_FILE`) and serves HTTP/JSON (and its gRPC health) until SIGTERM/SIGINT.
//!
//! Exit code 2 on a bad configuration, 1 when it cannot start or fails while serving
//! ([`dti_service_kit::run_main`]).

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_gateway::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    dti_service_kit::run_main(
        "dti-gateway",
        "DTI_GATEWAY_",
        |config: &ServiceConfig<Settings>| Box::pin(dti_gateway::build(config)),
    )
    .await
}
