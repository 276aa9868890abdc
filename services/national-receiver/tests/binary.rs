//! The `dti-national-receiver` binary as a demo runs it: it prints `listening on <base URL>`,
//! serves the control endpoints with the faults its flags set, and exits 2 on bad flags.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use dti_national_receiver::ReceiverState;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn receiver() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dti-national-receiver"));
    command.env_remove("DTI_NATIONAL_RECEIVER_TOKEN");
    command
}

#[tokio::test]
async fn the_binary_listens_and_applies_its_flags() -> anyhow::Result<()> {
    let mut child = receiver()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--fail-first",
            "2",
            "--fail-status",
            "502",
        ])
        .args(["--reject", "6.22=over budget"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting dti-national-receiver")?;
    let stdout = child.stdout.take().context("receiver stdout")?;
    let line = tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .context("waiting for the receiver to listen")??
    .context("the receiver exited before listening")?;
    let url = line
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // The test's HTTP client needs a process-wide rustls provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let health = client.get(format!("{url}/healthz")).send().await?;
    assert!(health.status().is_success());
    let state = client
        .get(format!("{url}/control/state"))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let state: ReceiverState = serde_json::from_slice(&state)?;
    assert_eq!(state.faults.fail_next, 2);
    assert_eq!(state.faults.fail_status, Some(502));
    assert_eq!(
        state.faults.reject.get("6.22").map(String::as_str),
        Some("over budget")
    );
    assert_eq!(state.requests, 0);

    child.kill().await?;
    Ok(())
}

#[tokio::test]
async fn bad_flags_exit_2() -> anyhow::Result<()> {
    let missing_key = receiver()
        .args(["--tls-cert", "chain.pem"])
        .output()
        .await?;
    assert_eq!(missing_key.status.code(), Some(2));
    let bad_rejection = receiver().args(["--reject", "no-reason"]).output().await?;
    assert_eq!(bad_rejection.status.code(), Some(2));
    let unreadable = receiver()
        .args([
            "--tls-cert",
            "/nonexistent/chain.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ])
        .output()
        .await?;
    assert_eq!(unreadable.status.code(), Some(2));
    Ok(())
}
