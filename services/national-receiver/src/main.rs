//! `dti-national-receiver`: the reference receiver of the national push contract, for tests
//! and demos. Prints `listening on <base URL>` once bound, then serves until SIGTERM/SIGINT.
//! Exit code 2 on bad arguments.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use dti_national_sync::receiver::{tls_acceptor, Faults, Receiver, ReceiverSettings};

/// Reference receiver of the national DTI push API.
#[derive(Debug, Parser)]
#[command(name = "dti-national-receiver", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Bearer token pushes must carry.
    #[arg(long, env = "DTI_NATIONAL_RECEIVER_TOKEN")]
    token: Option<String>,
    /// Fail this many first pushes (not processed).
    #[arg(long, default_value_t = 0)]
    fail_first: u32,
    /// Status of those failures.
    #[arg(long, default_value_t = 503)]
    fail_status: u16,
    /// Answer this many first pushes only after --delay-ms (processed first).
    #[arg(long, default_value_t = 0)]
    delay_first: u32,
    /// The delay, milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Reject an item: `CODE=REASON` (indicator code or general-information key); repeatable.
    #[arg(long, value_parser = parse_rejection)]
    reject: Vec<(String, String)>,
}

fn parse_rejection(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((code, reason)) if !code.trim().is_empty() && !reason.trim().is_empty() => {
            Ok((code.trim().to_owned(), reason.trim().to_owned()))
        }
        _ => Err(format!("expected CODE=REASON, got {text:?}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match tls_acceptor(cert, key) {
            Ok(acceptor) => Some(acceptor),
            Err(error) => {
                eprintln!("dti-national-receiver: {error}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let settings = ReceiverSettings {
        token: args.token,
        faults: Faults {
            fail_next: args.fail_first,
            fail_status: Some(args.fail_status),
            delay_next: args.delay_first,
            delay_ms: args.delay_ms,
            reject: args.reject.into_iter().collect::<BTreeMap<_, _>>(),
        },
    };
    let receiver = match Receiver::bind(args.listen, tls, settings).await {
        Ok(receiver) => receiver,
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
