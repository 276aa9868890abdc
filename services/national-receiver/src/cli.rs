//! The command line of `dti-national-receiver`: where to listen, TLS, the bearer token and the
//! faults to start with. The binary parses it from its arguments; tests parse the same flags
//! to start the receiver in-process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::{tls_acceptor, Faults, Receiver, ReceiverError, ReceiverSettings};

/// Reference receiver of the national DTI push API.
#[derive(Debug, Parser)]
#[command(name = "dti-national-receiver", version, about)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Bearer token pushes must carry.
    #[arg(long, env = "DTI_NATIONAL_RECEIVER_TOKEN")]
    pub token: Option<String>,
    /// Bearer token of the control endpoints (`/control/state`, `/control/faults`); without
    /// one they are off. Prefer the environment variable: arguments show in process lists.
    #[arg(long, env = "DTI_NATIONAL_RECEIVER_CONTROL_TOKEN")]
    pub control_token: Option<String>,
    /// Fail this many first pushes (not processed).
    #[arg(long, default_value_t = 0)]
    pub fail_first: u32,
    /// Status of those failures.
    #[arg(long, default_value_t = 503)]
    pub fail_status: u16,
    /// Answer this many first pushes only after --delay-ms (processed first).
    #[arg(long, default_value_t = 0)]
    pub delay_first: u32,
    /// The delay, milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Reject an item: `CODE=REASON` (indicator code or general-information key); repeatable.
    #[arg(long, value_parser = parse_rejection)]
    pub reject: Vec<(String, String)>,
}

impl Args {
    /// Binds the receiver these arguments describe. A bad certificate or key is
    /// [`ReceiverError::Tls`].
    pub async fn bind(self) -> Result<Receiver, ReceiverError> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
            _ => None,
        };
        if self
            .control_token
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err(ReceiverError::Settings(
                "--control-token must not be blank".into(),
            ));
        }
        let settings = ReceiverSettings {
            token: self.token,
            control_token: self.control_token,
            faults: Faults {
                fail_next: self.fail_first,
                fail_status: Some(self.fail_status),
                delay_next: self.delay_first,
                delay_ms: self.delay_ms,
                reject: self.reject.into_iter().collect::<BTreeMap<_, _>>(),
            },
        };
        Receiver::bind(self.listen, tls, settings).await
    }
}

fn parse_rejection(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((code, reason)) if !code.trim().is_empty() && !reason.trim().is_empty() => {
            Ok((code.trim().to_owned(), reason.trim().to_owned()))
        }
        _ => Err(format!("expected CODE=REASON, got {text:?}")),
    }
}
