//! The `dti-national-receiver` binary as a demo runs it: it prints `listening on <base URL>`,
//! serves the control endpoints with the faults its flags set to a caller bearing the control
//! token only, and exits 2 on bad flags.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use dti_national_receiver::ReceiverState;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CONTROL_TOKEN: &str = "receiver-control-token-of-this-test";

fn receiver() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dti-national-receiver"));
    command
        .env_remove("DTI_NATIONAL_RECEIVER_TOKEN")
        .env_remove("DTI_NATIONAL_RECEIVER_CONTROL_TOKEN");
    command
}

/// Spawns the receiver and waits for its `listening on <base URL>` line.
async fn listening(command: &mut Command) -> anyhow::Result<(Child, String)> {
    let mut child = command
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
    Ok((child, url.to_owned()))
}

#[tokio::test]
async fn the_binary_listens_and_applies_its_flags() -> anyhow::Result<()> {
    let (mut child, url) = listening(
        receiver()
            .args([
                "--listen",
                "127.0.0.1:0",
                "--fail-first",
                "2",
                "--fail-status",
                "502",
            ])
            .args(["--reject", "6.22=over budget"])
            .env("DTI_NATIONAL_RECEIVER_CONTROL_TOKEN", CONTROL_TOKEN),
    )
    .await?;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // The test's HTTP client needs a process-wide rustls provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let health = client.get(format!("{url}/healthz")).send().await?;
    assert!(health.status().is_success());
    for (token, status) in [(None, 401), (Some("wrong-token"), 401)] {
        let mut request = client.get(format!("{url}/control/state"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await?.status().as_u16(), status);
        let mut faults = client.put(format!("{url}/control/faults")).body("{}");
        if let Some(token) = token {
            faults = faults.bearer_auth(token);
        }
        assert_eq!(faults.send().await?.status().as_u16(), status);
    }
    let state = client
        .get(format!("{url}/control/state"))
        .bearer_auth(CONTROL_TOKEN)
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
async fn without_a_control_token_the_control_endpoints_are_off() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (mut child, url) = listening(receiver().args(["--listen", "127.0.0.1:0"])).await?;
    let client = reqwest::Client::new();
    let state = client
        .get(format!("{url}/control/state"))
        .bearer_auth("anything")
        .send()
        .await?;
    assert_eq!(state.status().as_u16(), 403);
    assert!(state.text().await?.contains("--control-token"));
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
