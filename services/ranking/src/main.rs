//! The ranking service binary: loads its configuration (`DTI_RANKING_*`, optional file from
//! `DTI_RANKING_CONFIG_FILE`) and serves until SIGTERM/SIGINT.

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_ranking::{Settings, StartError};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match dti_config::load::<ServiceConfig<Settings>>("DTI_RANKING_") {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dti-ranking: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        let kit = dti_ranking::build(&config).await?;
        kit.serve().await.map_err(StartError::from)
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dti-ranking: {error}");
            ExitCode::FAILURE
        }
    }
}
