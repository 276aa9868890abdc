//! The evidence service binary: loads its configuration (`DTI_EVIDENCE_*`, optional file from
//! `DTI_EVIDENCE_CONFIG_FILE`) and serves until SIGTERM/SIGINT.

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_evidence::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match dti_config::load::<ServiceConfig<Settings>>("DTI_EVIDENCE_") {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dti-evidence: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        dti_evidence::build(&config).await?.serve().await?;
        Ok::<(), dti_evidence::StartError>(())
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dti-evidence: {error}");
            ExitCode::FAILURE
        }
    }
}
