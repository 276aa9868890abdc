//! `dti-national-receiver`: the reference receiver of the national push contract, for tests
//! and demos. Prints `listening on <base URL>` once bound, then serves until SIGTERM/SIGINT.
//! Exit code 2 on bad arguments.

use std::process::ExitCode;

use clap::Parser;
use dti_national_receiver::{Args, ReceiverError};

#[tokio::main]
async fn main() -> ExitCode {
    let receiver = match Args::parse().bind().await {
        Ok(receiver) => receiver,
        Err(error @ (ReceiverError::Tls(_) | ReceiverError::Settings(_))) => {
            eprintln!("dti-national-receiver: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("dti-national-receiver: {error}");
            return ExitCode::FAILURE;
        }
    };
    match receiver.base_url() {
        Ok(url) => println!("listening on {url}"),
        Err(error) => {
            eprintln!("dti-national-receiver: {error}");
            return ExitCode::FAILURE;
        }
    }
    match receiver.serve(wait_for_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dti-national-receiver: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = interrupt.await;
}
