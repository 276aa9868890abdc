//! The scoring service binary: loads its configuration (`DTI_SCORING_*`, optional file from
//! `DTI_SCORING_CONFIG_FILE`) and serves until SIGTERM/SIGINT.

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_scoring::{Settings, StartError};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match dti_config::load::<ServiceConfig<Settings>>("DTI_SCORING_") {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dti-scoring: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        let kit = dti_scoring::build(&config).await?;
        kit.serve().await.map_err(StartError::from)
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dti-scoring: {error}");
            ExitCode::FAILURE
        }
    }
}
