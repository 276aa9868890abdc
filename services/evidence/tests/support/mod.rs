//! Shared set-up of the evidence tests: the service on its own database, NATS prefix and
//! storage directory, a seeded round, and clients that upload and download for real.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test file uses part of the support module"
)]

pub mod s3;

use std::path::{Path, PathBuf};
use std::time::Duration;

use dti_evidence::config::Backend;
use dti_evidence::Settings;
use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::evidence::v1::evidence_service_client::EvidenceServiceClient;
use dti_proto::dti::evidence::v1::{
    download_evidence_response, upload_evidence_request, DownloadEvidenceRequest, Evidence,
    ListEvidenceRequest, RemoveEvidenceRequest, UploadEvidenceRequest, UploadEvidenceResponse,
    UploadHeader,
};
use dti_service_kit::RunningService;
pub use dti_testkit::refusals::violated_fields;
use dti_testkit::{with_auth, Poll, TestBackends};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// The round every test uses.
pub const YEAR: u32 = 2023;
/// Its framework.
pub const FRAMEWORK: &str = "hcm-2023-district";
/// Units in its cohort.
pub const COHORT: [&str; 2] = ["quan-1", "quan-3"];
/// An indicator of the district framework.
pub const INDICATOR: &str = "1.1";
/// Another one.
pub const OTHER_INDICATOR: &str = "1.2";

/// Where a test's service stores documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStore {
    /// The local directory `EvidenceHarness::storage`.
    Local,
    /// A bucket on a moto S3 server of the test's own.
    S3,
}

/// The service running on one test's backends and storage directory.
pub struct EvidenceHarness {
    pub backends: TestBackends,
    /// The local backend's root (unused on S3).
    pub storage: tempfile::TempDir,
    /// The bucket, when the service stores documents on S3.
    pub s3: Option<s3::MotoBucket>,
    pub running: RunningService,
    pub client: EvidenceServiceClient<Channel>,
}

/// Settings on `root` with fsync off (tests need no durability) and `tweak` applied.
pub fn settings(root: &Path, tweak: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::local(root, false);
    tweak(&mut settings);
    settings
}

impl EvidenceHarness {
    /// Starts the service with default settings and seeds the round, open, with no submissions.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Starts the service with settings changed by `tweak` and seeds the open round.
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> anyhow::Result<Self> {
        Self::start_on(TestStore::Local, tweak).await
    }

    /// Starts the service storing documents on `store`, with settings changed by `tweak`, and
    /// seeds the open round.
    pub async fn start_on(
        store: TestStore,
        tweak: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<Self> {
        let s3 = match store {
            TestStore::Local => None,
            TestStore::S3 => Some(s3::MotoBucket::start().await?),
        };
        let backends = TestBackends::create().await?;
        let storage = tempfile::tempdir()?;
        seed_round(backends.db.pool(), "open").await?;
        let mut service = settings(storage.path(), tweak);
        if let Some(bucket) = &s3 {
            service.storage.backend = Backend::S3;
            service.storage.s3 = bucket.settings();
        }
        let config = backends.service_config(service);
        let running = dti_evidence::build(&config).await?.spawn()?;
        let client = EvidenceServiceClient::new(running.channel());
        Ok(Self {
            backends,
            storage,
            s3,
            running,
            client,
        })
    }

    /// The object store the service uses, opened anew (same directory or bucket).
    pub fn object_storage(&self) -> anyhow::Result<dti_evidence::storage::ObjectStorage> {
        Ok(match &self.s3 {
            Some(bucket) => dti_evidence::storage::ObjectStorage::s3(&bucket.settings())?,
            None => dti_evidence::storage::ObjectStorage::local(self.storage.path(), false)?,
        })
    }

    /// Everything in the store, sorted: files under the local directory (hidden partial
    /// `…#<n>` files included), or the bucket's object keys followed by `multipart:<key>` for
    /// each multipart upload in progress.
    pub async fn stored_objects(&self) -> anyhow::Result<Vec<String>> {
        let Some(bucket) = &self.s3 else {
            return Ok(self.stored_files());
        };
        let mut objects = bucket.object_keys().await?;
        objects.extend(
            bucket
                .multipart_upload_keys()
                .await?
                .into_iter()
                .map(|key| format!("multipart:{key}")),
        );
        Ok(objects)
    }

    /// Waits (at most `limit`) until the store holds exactly `expected` (sorted).
    pub async fn wait_for_objects(
        &self,
        expected: &[String],
        limit: Duration,
    ) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        loop {
            let found = self.stored_objects().await?;
            if found == expected {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < limit,
                "after {limit:?} the store holds {found:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the service and drops the backends.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.running.stop().await?;
        self.backends.close().await?;
        Ok(())
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        self.backends.db.pool()
    }

    pub fn unit(&self, unit: &str) -> String {
        self.backends.unit_token(unit)
    }

    /// Uploads `bytes` for `indicator` of `unit` as `bearer`, in chunks of `chunk` bytes.
    pub async fn upload(
        &self,
        bearer: &str,
        unit: &str,
        indicator: &str,
        file_name: &str,
        declared: &str,
        bytes: &[u8],
    ) -> Result<UploadEvidenceResponse, Status> {
        let messages = upload_messages(
            header(unit, indicator, file_name, declared),
            bytes,
            64 * 1024,
        );
        self.client
            .clone()
            .upload_evidence(with_auth(futures::stream::iter(messages), bearer))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Uploads as the unit's own submitter and expects success.
    pub async fn upload_own(
        &self,
        unit: &str,
        indicator: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Evidence> {
        let response = self
            .upload(&self.unit(unit), unit, indicator, "evidence.pdf", "", bytes)
            .await?;
        response
            .evidence
            .ok_or_else(|| anyhow::anyhow!("no evidence in the response"))
    }

    /// Downloads evidence `id` as `bearer`: its metadata and content.
    pub async fn download(&self, bearer: &str, id: &str) -> Result<(Evidence, Vec<u8>), Status> {
        download(&self.client, bearer, id).await
    }

    /// Lists `unit`'s evidence as `bearer`.
    pub async fn list(
        &self,
        bearer: &str,
        unit: &str,
        indicator: &str,
        include_removed: bool,
    ) -> Result<Vec<Evidence>, Status> {
        let request = ListEvidenceRequest {
            round: Some(round()),
            unit: Some(UnitRef {
                unit_id: unit.into(),
            }),
            indicator_code: indicator.into(),
            include_removed,
        };
        Ok(self
            .client
            .clone()
            .list_evidence(with_auth(request, bearer))
            .await?
            .into_inner()
            .evidence)
    }

    /// Removes evidence `id` as `bearer` for `reason`.
    pub async fn remove(&self, bearer: &str, id: &str, reason: &str) -> Result<Evidence, Status> {
        let request = RemoveEvidenceRequest {
            evidence_id: id.into(),
            reason: reason.into(),
        };
        Ok(self
            .client
            .clone()
            .remove_evidence(with_auth(request, bearer))
            .await?
            .into_inner())
    }

    /// The service's `/metrics` text.
    pub async fn scrape_metrics(&self) -> anyhow::Result<String> {
        dti_testkit::metrics::scrape(self.running.metrics_addr.expect("metrics enabled")).await
    }

    /// Every file under the storage directory, relative to it.
    pub fn stored_files(&self) -> Vec<String> {
        files_under(self.storage.path())
    }

    /// Files under `sha256/`: the content objects.
    pub fn content_files(&self) -> Vec<String> {
        self.stored_files()
            .into_iter()
            .filter(|file| file.starts_with("sha256/"))
            .collect()
    }

    /// Attachment and object rows.
    pub async fn row_counts(&self) -> anyhow::Result<(i64, i64)> {
        row_counts(self.pool()).await
    }

    /// Waits (at most 10 s) until the storage directory holds exactly `expected` files.
    pub async fn wait_for_files(&self, expected: usize) -> anyhow::Result<Vec<String>> {
        let poll = Poll::new(Duration::from_secs(10), Duration::from_millis(20));
        let what = format!("{expected} stored files");
        let found = dti_testkit::eventually(&what, poll, || {
            let files = self.stored_files();
            async move { Ok((files.len() == expected).then_some(files)) }
        })
        .await;
        found.map_err(|error| anyhow::anyhow!("{error}; found {:?}", self.stored_files()))
    }
}

/// Attachment and object rows of the database of `pool`.
pub async fn row_counts(pool: &sqlx::PgPool) -> anyhow::Result<(i64, i64)> {
    let attachments = sqlx::query_scalar("SELECT count(*) FROM evidence_attachments")
        .fetch_one(pool)
        .await?;
    let objects = sqlx::query_scalar("SELECT count(*) FROM evidence_objects")
        .fetch_one(pool)
        .await?;
    Ok((attachments, objects))
}

/// Downloads evidence `id` as `bearer` with `client`.
pub async fn download(
    client: &EvidenceServiceClient<Channel>,
    bearer: &str,
    id: &str,
) -> Result<(Evidence, Vec<u8>), Status> {
    let request = DownloadEvidenceRequest {
        evidence_id: id.into(),
    };
    let mut stream = client
        .clone()
        .download_evidence(with_auth(request, bearer))
        .await?
        .into_inner();
    let mut evidence = None;
    let mut content = Vec::new();
    while let Some(message) = stream.message().await? {
        match message.part {
            Some(download_evidence_response::Part::Evidence(found)) => evidence = Some(found),
            Some(download_evidence_response::Part::Chunk(chunk)) => content.extend(chunk),
            None => {}
        }
    }
    let evidence = evidence.ok_or_else(|| Status::internal("no metadata message"))?;
    Ok((evidence, content))
}

/// The round reference.
pub fn round() -> RoundRef {
    RoundRef {
        year: YEAR,
        framework: FRAMEWORK.into(),
    }
}

/// An upload header.
pub fn header(unit: &str, indicator: &str, file_name: &str, declared: &str) -> UploadHeader {
    UploadHeader {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: unit.into(),
        }),
        indicator_code: indicator.into(),
        file_name: file_name.into(),
        declared_content_type: declared.into(),
    }
}

/// The messages of an upload: the header, then `bytes` in chunks of `chunk` bytes.
pub fn upload_messages(
    header: UploadHeader,
    bytes: &[u8],
    chunk: usize,
) -> Vec<UploadEvidenceRequest> {
    std::iter::once(UploadEvidenceRequest {
        part: Some(upload_evidence_request::Part::Header(header)),
    })
    .chain(bytes.chunks(chunk).map(|piece| UploadEvidenceRequest {
        part: Some(upload_evidence_request::Part::Chunk(piece.to_vec())),
    }))
    .collect()
}

/// An upload whose messages the test sends one by one, so it can act while it is in flight.
pub struct StreamedUpload {
    /// The call, answered once the sender is dropped after the last message.
    pub call: tokio::task::JoinHandle<Result<tonic::Response<UploadEvidenceResponse>, Status>>,
    /// Where the test sends the next messages.
    pub sender: tokio::sync::mpsc::Sender<UploadEvidenceRequest>,
}

impl StreamedUpload {
    /// Starts the upload on `client` as `bearer` and sends its first `first` `messages`.
    pub async fn start(
        client: &EvidenceServiceClient<Channel>,
        bearer: &str,
        messages: &[UploadEvidenceRequest],
        first: usize,
    ) -> anyhow::Result<Self> {
        let (sender, receiver) = tokio::sync::mpsc::channel(1);
        let (mut client, bearer) = (client.clone(), bearer.to_owned());
        let call = tokio::spawn(async move {
            client
                .upload_evidence(with_auth(
                    tokio_stream::wrappers::ReceiverStream::new(receiver),
                    &bearer,
                ))
                .await
        });
        for message in messages.iter().take(first).cloned() {
            sender.send(message).await?;
        }
        Ok(Self { call, sender })
    }
}

/// Whether a file under `staging/` of `root` whose name satisfies `partial` shows up within
/// 10 s.
pub async fn staged_within(root: &Path, partial: impl Fn(&str) -> bool) -> bool {
    wait_until(|| {
        files_under(root)
            .iter()
            .any(|file| file.starts_with("staging/") && partial(file))
    })
    .await
}

/// Creates the round in `state` with the cohort, and no submissions.
pub async fn seed_round(pool: &sqlx::PgPool, state: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO rounds (year, framework, state) VALUES ($1, $2, $3)")
        .bind(YEAR as i16)
        .bind(FRAMEWORK)
        .bind(state)
        .execute(pool)
        .await?;
    for unit in COHORT {
        sqlx::query("INSERT INTO round_units (year, framework, unit_id) VALUES ($1, $2, $3)")
            .bind(YEAR as i16)
            .bind(FRAMEWORK)
            .bind(unit)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Sets the round's state.
pub async fn set_round_state(pool: &sqlx::PgPool, state: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE rounds SET state = $3 WHERE year = $1 AND framework = $2")
        .bind(YEAR as i16)
        .bind(FRAMEWORK)
        .bind(state)
        .execute(pool)
        .await?;
    Ok(())
}

/// Creates or updates `unit`'s submission in `state`.
pub async fn set_submission_state(
    pool: &sqlx::PgPool,
    unit: &str,
    state: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO submissions (id, year, framework, unit_id, state) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (year, framework, unit_id) DO UPDATE SET state = EXCLUDED.state",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(YEAR as i16)
    .bind(FRAMEWORK)
    .bind(unit)
    .bind(state)
    .execute(pool)
    .await?;
    Ok(())
}

/// The code of `result`'s error, or panics naming what succeeded.
pub fn code_of<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, Status) {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(status) => (status.code(), status),
    }
}

/// Every file under `root`, relative, sorted.
pub fn files_under(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path: PathBuf = entry.path();
            if path.is_dir() {
                walk(&path, root, found);
            } else if let Ok(relative) = path.strip_prefix(root) {
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    let mut found = Vec::new();
    walk(root, root, &mut found);
    found.sort();
    found
}

pub use dti_testkit::metrics::sample;

/// A PDF of `len` bytes whose content depends on `seed`.
pub fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = dti_evidence::content_type::samples::pdf(len);
    let middle = bytes.len() / 2;
    bytes[middle] = seed;
    bytes
}

/// Polls `condition` every 10 ms for at most 10 s; whether it became true.
pub async fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let poll = Poll::new(Duration::from_secs(10), Duration::from_millis(10));
    dti_testkit::wait_until("a condition", poll, || {
        let done = condition();
        async move { Ok(done) }
    })
    .await
    .is_ok()
}

/// The `Nats-Msg-Id` and payload of the last `event` on the test's stream (waits at most 15 s).
pub async fn wait_for_event(
    harness: &EvidenceHarness,
    event: &str,
) -> anyhow::Result<(String, Vec<u8>)> {
    dti_testkit::events::last_event(&harness.backends.nats_prefix, event).await
}
