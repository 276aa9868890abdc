//! The reference receiver (`dti-national-receiver`) started in-process on a free loopback port
//! from the same flags its binary takes, and read and steered through its control endpoints.

use anyhow::Context;
use clap::Parser;
use dti_national_receiver::{Args, Faults, ReceiverError, ReceiverState};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::install_crypto;

/// The control token the tests' receivers are started with.
pub const CONTROL_TOKEN: &str = "control-token-of-the-national-sync-tests";

/// A receiver serving on loopback until [`RunningReceiver::stop`].
pub struct RunningReceiver {
    /// Its base URL.
    pub url: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    serving: JoinHandle<Result<(), ReceiverError>>,
}

impl RunningReceiver {
    /// Starts it on a free loopback port with the binary's `flags`.
    pub async fn start(flags: &[&str]) -> anyhow::Result<Self> {
        install_crypto();
        Self::start_with_client(flags, reqwest::Client::new()).await
    }

    /// Starts it with a client that trusts what `flags` serve (HTTPS tests).
    pub async fn start_with_client(
        flags: &[&str],
        client: reqwest::Client,
    ) -> anyhow::Result<Self> {
        install_crypto();
        let args = [
            "dti-national-receiver",
            "--listen",
            "127.0.0.1:0",
            "--control-token",
            CONTROL_TOKEN,
        ]
        .into_iter()
        .chain(flags.iter().copied());
        let receiver = Args::try_parse_from(args)
            .context("receiver flags")?
            .bind()
            .await
            .context("starting the receiver")?;
        let url = receiver.base_url()?;
        let shutdown = CancellationToken::new();
        let serving = tokio::spawn(receiver.serve(shutdown.clone().cancelled_owned()));
        Ok(Self {
            url,
            client,
            shutdown,
            serving,
        })
    }

    /// What it has seen.
    pub async fn state(&self) -> anyhow::Result<ReceiverState> {
        let response = self
            .client
            .get(format!("{}/control/state", self.url))
            .bearer_auth(CONTROL_TOKEN)
            .send()
            .await?
            .error_for_status()?;
        Ok(serde_json::from_slice(&response.bytes().await?)?)
    }

    /// Replaces its faults.
    pub async fn set_faults(&self, faults: &Faults) -> anyhow::Result<()> {
        self.client
            .put(format!("{}/control/faults", self.url))
            .bearer_auth(CONTROL_TOKEN)
            .body(serde_json::to_vec(faults)?)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Stops it, cutting off whatever it is still answering.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.serving.abort();
        match self.serving.await {
            Ok(served) => Ok(served?),
            Err(stopped) if stopped.is_cancelled() => Ok(()),
            Err(panicked) => Err(panicked.into()),
        }
    }
}
