//! `dti-national-sync`: loads its configuration (prefix `DTI_NATIONAL_SYNC_`), builds the
//! service and serves until SIGTERM/SIGINT. Exit code 2 on a bad configuration.

use std::process::ExitCode;

use dti_config::ServiceConfig;
use dti_national_sync::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match dti_config::load::<ServiceConfig<Settings>>("DTI_NATIONAL_SYNC_") {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dti-national-sync: configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let served = async {
        dti_national_sync::build(&config)
            .await?
            .serve()
            .await
            .map_err(Into::into)
    }
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let error: dti_national_sync::BuildError = error;
            eprintln!("dti-national-sync: {error}");
            ExitCode::FAILURE
        }
    }
}
