//! The submission service binary: loads its configuration (`DTI_SUBMISSION_*`, optional file
//! from `DTI_SUBMISSION_CONFIG_FILE`) and serves until SIGTERM/SIGINT.

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_submission::{Settings, StartError};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match dti_config::load::<ServiceConfig<Settings>>("DTI_SUBMISSION_") {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dti-submission: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        let kit = dti_submission::build(&config).await?;
        kit.serve().await.map_err(StartError::from)
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dti-submission: {error}");
            ExitCode::FAILURE
        }
    }
}
