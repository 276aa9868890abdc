//! The verification service binary: loads its configuration (`DTI_VERIFICATION_*`, optional
//! file from `DTI_VERIFICATION_CONFIG_FILE`) and serves until SIGTERM/SIGINT.

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_verification::{Settings, StartError};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match dti_config::load::<ServiceConfig<Settings>>("DTI_VERIFICATION_") {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dti-verification: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        let kit = dti_verification::build(&config).await?;
        kit.serve().await.map_err(StartError::from)
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dti-verification: {error}");
            ExitCode::FAILURE
        }
    }
}
