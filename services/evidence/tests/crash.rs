//! A real crash: the service binary is killed (SIGKILL) in the middle of an upload. The
//! partial upload stays on disk only until the service starts again: the restarted service
//! sweeps it before serving, no metadata row or content object was ever written, and the
//! retried upload succeeds. The last start is stopped with SIGTERM and exits cleanly.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dti_evidence::storage::hash_of;
use dti_proto::dti::evidence::v1::evidence_service_client::EvidenceServiceClient;
use dti_testkit::{with_auth, TestBackends};
use secrecy::ExposeSecret;
use support::*;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// The service binary running as a child process on a port of its own.
struct ServiceProcess {
    child: Child,
    endpoint: String,
}

impl ServiceProcess {
    /// Starts the binary on `backends` with storage in `root`, and waits until it serves.
    async fn start(backends: &TestBackends, root: &Path) -> anyhow::Result<Self> {
        let port = dti_testkit::free_port()?;
        let config = backends.service_config(());
        let secret = config
            .auth
            .hs256_secret
            .as_ref()
            .map(|secret| secret.expose_secret().to_owned())
            .unwrap_or_default();
        let child = Command::new(env!("CARGO_BIN_EXE_dti-evidence"))
            .env("DTI_EVIDENCE_DATABASE_URL", backends.db.url())
            .env("DTI_EVIDENCE_NATS_URL", dti_testkit::nats_url())
            .env("DTI_EVIDENCE_NATS_PREFIX", &backends.nats_prefix)
            .env("DTI_EVIDENCE_GRPC_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("DTI_EVIDENCE_METRICS_ENABLED", "false")
            .env("DTI_EVIDENCE_TELEMETRY_LOG_FILTER", "warn")
            .env("DTI_EVIDENCE_AUTH_HS256_SECRET", secret)
            .env("DTI_EVIDENCE_SERVICE__STORAGE__ROOT", root)
            .env("DTI_EVIDENCE_SERVICE__STORAGE__FSYNC", "false")
            .stdout(Stdio::null())
            .spawn()?;
        let mut process = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        process.wait_until_serving().await?;
        Ok(process)
    }

    fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.endpoint.clone())?.connect_lazy())
    }

    /// Polls gRPC health (at most 60 s) until the evidence service is SERVING.
    async fn wait_until_serving(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the service exited during start-up: {status}");
            }
            let request = HealthCheckRequest {
                service: "dti.evidence.v1.EvidenceService".into(),
            };
            let mut health = HealthClient::new(self.channel()?);
            if let Ok(response) = health.check(request).await {
                if response.into_inner().status == ServingStatus::Serving as i32 {
                    return Ok(());
                }
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "not serving after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: the process dies at once, mid-way through whatever it does.
    fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM, then waits (at most 30 s) for a clean exit.
    async fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = i32::try_from(self.child.id())?;
        // SAFETY: sending a signal to our own child process, whose pid we just read.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        anyhow::ensure!(sent == 0, "SIGTERM could not be sent");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if tokio::time::Instant::now() > deadline {
                self.child.kill()?;
                anyhow::bail!("no exit 30 s after SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits (at most 30 s) until no session of the test database holds an advisory lock, i.e.
/// PostgreSQL has ended the killed process's sessions.
async fn wait_for_dead_sessions(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
             WHERE l.locktype = 'advisory' AND d.datname = current_database()",
        )
        .fetch_one(pool)
        .await?;
        if held == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the killed sessions linger"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_service_killed_mid_upload_leaves_nothing_after_restart_and_the_retry_succeeds(
) -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let storage = tempfile::tempdir()?;
    let root = storage.path();
    seed_round(backends.db.pool(), "open").await?;
    let bearer = backends.unit_token("quan-1");
    let bytes = pdf(6 * 1024 * 1024, 9);
    let messages = upload_messages(header("quan-1", INDICATOR, "a.pdf", ""), &bytes, 256 * 1024);

    let first = ServiceProcess::start(&backends, root).await?;
    let client = EvidenceServiceClient::new(first.channel()?);
    let upload = StreamedUpload::start(&client, &bearer, &messages, 10).await?;
    let partial_written = staged_within(root, |file| file.contains('#')).await;
    assert!(partial_written, "the upload never reached the staging area");

    first.kill()?;
    let outcome = upload.call.await?;
    assert!(
        outcome.is_err(),
        "the upload cannot have succeeded: {outcome:?}"
    );
    drop(upload.sender);
    let left = files_under(root);
    assert!(
        !left.is_empty() && left.iter().all(|file| file.starts_with("staging/")),
        "the kill left only the partial upload: {left:?}"
    );
    assert_eq!(
        row_counts(backends.db.pool()).await?,
        (0, 0),
        "no metadata row"
    );

    wait_for_dead_sessions(backends.db.pool()).await?;
    let second = ServiceProcess::start(&backends, root).await?;
    assert_eq!(
        files_under(root),
        Vec::<String>::new(),
        "the restart swept the partial upload"
    );
    assert_eq!(row_counts(backends.db.pool()).await?, (0, 0));

    let client = EvidenceServiceClient::new(second.channel()?);
    let evidence = client
        .clone()
        .upload_evidence(with_auth(futures::stream::iter(messages), &bearer))
        .await?
        .into_inner()
        .evidence
        .expect("evidence");
    assert_eq!(evidence.sha256, hash_of(&bytes).hex());
    assert_eq!(files_under(root), [hash_of(&bytes).storage_key()]);
    assert_eq!(row_counts(backends.db.pool()).await?, (1, 1));
    let (_, content) = download(&client, &bearer, &evidence.evidence_id).await?;
    assert_eq!(content, bytes);

    let status = second.terminate().await?;
    assert!(status.success(), "a graceful stop exits 0, got {status}");
    backends.close().await?;
    Ok(())
}
