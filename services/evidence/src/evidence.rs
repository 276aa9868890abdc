//! The evidence of units' self-assessments: attaching a document (checked, staged, moved to
//! its content address, recorded with an audit entry and an `evidence.attached` event in one
//! transaction), removing one (marked, audited, announced), and reading them back.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_db::{DbError, PgPool, PgTransaction};
use dti_domain::EvidenceId;
use dti_domain::{IndicatorCode, RoundRef, UnitId};
use dti_i18n::Message;
use dti_service_kit::frameworks::FrameworkCache;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::assessment::{require_editable, require_indicator, require_round_unit};
use crate::file_name::FileName;
use crate::lease::InstanceLease;
use crate::records::{self, EvidenceRecord, NewAttachment};
use crate::storage::{ContentHash, ObjectStorage, Promotion};
use crate::upload::{self, StagedContent, UploadLimits};
use crate::{access, content_type, events, EvidenceError};

/// Counter of documents removed.
pub const REMOVED: &str = "dti_evidence_removed_total";

/// Largest chunk of a download message.
const DOWNLOAD_CHUNK: usize = 256 * 1024;

/// Request field prefix of an upload's header.
const HEADER: &str = "header.";

/// What an upload is about, parsed from its header.
#[derive(Debug, Clone)]
pub struct UploadHeader {
    /// Round of the self-assessment.
    pub round: RoundRef,
    /// Unit the evidence belongs to.
    pub unit: UnitId,
    /// Indicator code as sent (checked against the round's framework).
    pub indicator_code: String,
    /// Sanitised file name.
    pub file_name: FileName,
    /// The client's declaration, normalised (`""` when none).
    pub declared_content_type: String,
}

/// The result of an upload.
#[derive(Debug, Clone)]
pub struct Attached {
    /// The evidence.
    pub record: EvidenceRecord,
    /// True when the same bytes were already attached to the indicator: nothing new was
    /// recorded.
    pub already_attached: bool,
}

/// A download: the evidence and its content.
pub struct Download {
    /// The evidence.
    pub record: EvidenceRecord,
    /// Its content in chunks of at most 256 KiB, checked against the recorded hash and size;
    /// a mismatch ends the stream with [`EvidenceError::Corrupted`].
    pub content: BoxStream<'static, Result<Bytes, EvidenceError>>,
}

/// The evidence of every unit: metadata in PostgreSQL, content in the object store.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    pool: PgPool,
    storage: ObjectStorage,
    frameworks: FrameworkCache,
    limits: UploadLimits,
    nats_prefix: String,
    /// Names this instance's staging area; held as long as any handler can stage uploads.
    lease: Arc<InstanceLease>,
}

impl EvidenceStore {
    /// The store on `pool` and `storage`, checking indicators against `frameworks`, announcing
    /// events under `nats_prefix`, and staging uploads in the area of `lease`'s instance.
    pub fn new(
        pool: PgPool,
        storage: ObjectStorage,
        frameworks: FrameworkCache,
        limits: UploadLimits,
        nats_prefix: String,
        lease: Arc<InstanceLease>,
    ) -> Self {
        Self {
            pool,
            storage,
            frameworks,
            limits,
            nats_prefix,
            lease,
        }
    }

    /// Attaches the document streamed in `chunks` as described by `header`, for `actor`.
    #[tracing::instrument(skip_all, fields(round = %header.round, unit = %header.unit,
        indicator = %header.indicator_code, actor = %actor.subject))]
    pub async fn attach<S>(
        &self,
        actor: &Principal,
        header: UploadHeader,
        chunks: S,
    ) -> Result<Attached, EvidenceError>
    where
        S: Stream<Item = Result<Bytes, EvidenceError>> + Unpin,
    {
        let started = Instant::now();
        let attached = self.attach_checked(actor, header, chunks).await;
        record_upload_metrics(&attached, started);
        attached
    }

    async fn attach_checked<S>(
        &self,
        actor: &Principal,
        header: UploadHeader,
        chunks: S,
    ) -> Result<Attached, EvidenceError>
    where
        S: Stream<Item = Result<Bytes, EvidenceError>> + Unpin,
    {
        access::require_owner(actor, &header.unit)?;
        let indicator = self.check_target(&header).await?;
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(EvidenceError::database("checking the submission"))?;
        require_editable(&mut connection, &header.round, &header.unit).await?;
        drop(connection);
        let staging = ObjectStorage::staging_location(self.lease.name(), Uuid::new_v4());
        let staged = upload::receive(&self.storage, staging, &self.limits, chunks).await?;
        let recorded = self.record(actor, &header, &indicator, &staged).await;
        staged.staged.discard().await;
        recorded
    }

    /// The indicator of `header`, once its round, unit and indicator are known to exist.
    async fn check_target(&self, header: &UploadHeader) -> Result<IndicatorCode, EvidenceError> {
        let framework = require_round_unit(
            &self.pool,
            &self.frameworks,
            &header.round,
            &header.unit,
            HEADER,
        )
        .await?;
        require_indicator(
            &framework,
            &header.unit,
            &header.indicator_code,
            "header.indicator_code",
        )
    }

    /// Moves `staged` to its content address and records the attachment, unless the same
    /// bytes are already attached to the indicator.
    async fn record(
        &self,
        actor: &Principal,
        header: &UploadHeader,
        indicator: &IndicatorCode,
        staged: &StagedContent,
    ) -> Result<Attached, EvidenceError> {
        if !content_type::declared_matches(&header.declared_content_type, staged.content_type) {
            return Err(EvidenceError::invalid_field(
                "header.declared_content_type",
                Message::new("evidence-declared-mismatch")
                    .arg("declared", &header.declared_content_type)
                    .arg("actual", staged.content_type),
            ));
        }
        let mut tx = self.pool.begin().await.map_err(DbError::Begin)?;
        records::lock_content(&mut tx, &staged.sha256).await?;
        require_editable(&mut tx, &header.round, &header.unit).await?;
        let existing = records::find_current_duplicate(
            &mut tx,
            &header.round,
            &header.unit,
            indicator,
            &staged.sha256,
        )
        .await?;
        if let Some(record) = existing {
            tx.rollback().await.map_err(DbError::Commit)?;
            return Ok(Attached {
                record,
                already_attached: true,
            });
        }
        let promotion =
            staged
                .staged
                .promote(&staged.sha256)
                .await
                .map_err(EvidenceError::storage(
                    "moving an upload to its content address",
                ))?;
        if promotion == Promotion::AlreadyStored {
            metrics::counter!("dti_evidence_deduplicated_total").increment(1);
        }
        let record = self
            .insert_attachment(&mut tx, actor, header, indicator, staged)
            .await?;
        tx.commit().await.map_err(DbError::Commit)?;
        tracing::info!(evidence = %record.id, sha256 = %record.sha256.hex(),
            size = record.size_bytes, "evidence attached");
        Ok(Attached {
            record,
            already_attached: false,
        })
    }

    /// Inserts the attachment, its audit entry and its event in `tx`.
    async fn insert_attachment(
        &self,
        tx: &mut PgTransaction,
        actor: &Principal,
        header: &UploadHeader,
        indicator: &IndicatorCode,
        staged: &StagedContent,
    ) -> Result<EvidenceRecord, EvidenceError> {
        let record = records::insert(
            tx,
            &NewAttachment {
                id: EvidenceId::generate(),
                round: &header.round,
                unit: &header.unit,
                indicator,
                file_name: header.file_name.as_str(),
                declared_content_type: &header.declared_content_type,
                content_type: staged.content_type,
                size_bytes: staged.size_bytes,
                sha256: &staged.sha256,
                uploaded_by: &actor.subject,
            },
        )
        .await?;
        dti_audit::append(
            tx,
            &AuditEntry::on_unit(&record.round, &record.unit, actor)
                .did(
                    "evidence.attach",
                    format!("evidence {} indicator {}", record.id, record.indicator),
                )
                .change(
                    None,
                    Some(json!({
                        "file_name": record.file_name,
                        "content_type": record.content_type,
                        "size_bytes": record.size_bytes,
                        "sha256": record.sha256.hex(),
                    })),
                ),
        )
        .await?;
        dti_bus::outbox::enqueue(tx, &events::attached(&self.nats_prefix, &record)).await?;
        Ok(record)
    }

    /// Marks evidence `id` removed by `actor` for `reason`; removing it again returns it
    /// unchanged.
    #[tracing::instrument(skip_all, fields(evidence = %id, actor = %actor.subject))]
    pub async fn remove(
        &self,
        actor: &Principal,
        id: EvidenceId,
        reason: &str,
    ) -> Result<EvidenceRecord, EvidenceError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(EvidenceError::invalid_field(
                "reason",
                Message::new("evidence-removal-reason"),
            ));
        }
        let mut tx = self.pool.begin().await.map_err(DbError::Begin)?;
        let mut record = records::lock(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        access::require_owner(actor, &record.unit)?;
        if record.removal.is_some() {
            return Ok(record);
        }
        require_editable(&mut tx, &record.round, &record.unit).await?;
        let removal = records::mark_removed(&mut tx, id, &actor.subject, reason).await?;
        dti_audit::append(
            &mut tx,
            &AuditEntry::on_unit(&record.round, &record.unit, actor)
                .did(
                    "evidence.remove",
                    format!("evidence {} indicator {}", record.id, record.indicator),
                )
                .change(
                    Some(json!({
                        "file_name": record.file_name,
                        "sha256": record.sha256.hex(),
                    })),
                    Some(json!({ "removed": true, "reason": reason })),
                ),
        )
        .await?;
        dti_bus::outbox::enqueue(
            &mut tx,
            &events::removed(&self.nats_prefix, &record, &removal),
        )
        .await?;
        tx.commit().await.map_err(DbError::Commit)?;
        metrics::counter!(REMOVED).increment(1);
        record.removal = Some(removal);
        Ok(record)
    }

    /// The evidence `id`, if `actor` may read it.
    pub async fn get(
        &self,
        actor: &Principal,
        id: EvidenceId,
    ) -> Result<EvidenceRecord, EvidenceError> {
        let record = records::find(&self.pool, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        access::require_reader(actor, &record.unit)?;
        Ok(record)
    }

    /// The evidence of `unit` in `round` (of one indicator when `indicator_code` is not
    /// empty), if `actor` may read it.
    pub async fn list(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        indicator_code: &str,
        include_removed: bool,
    ) -> Result<Vec<EvidenceRecord>, EvidenceError> {
        access::require_reader(actor, unit)?;
        let framework = require_round_unit(&self.pool, &self.frameworks, round, unit, "").await?;
        let indicator = match indicator_code.trim() {
            "" => None,
            code => Some(require_indicator(&framework, unit, code, "indicator_code")?),
        };
        records::list(&self.pool, round, unit, indicator.as_ref(), include_removed).await
    }

    /// The evidence `id` and its content, if `actor` may read it.
    #[tracing::instrument(skip_all, fields(evidence = %id, actor = %actor.subject))]
    pub async fn download(
        &self,
        actor: &Principal,
        id: EvidenceId,
    ) -> Result<Download, EvidenceError> {
        let record = self.get(actor, id).await?;
        let stored = self
            .storage
            .read(&record.storage_key)
            .await
            .map_err(EvidenceError::storage("opening a stored document"))?;
        let content = verified_chunks(stored, record.sha256, record.size_bytes, record.id);
        Ok(Download { record, content })
    }
}

/// Re-chunks `stored` into pieces of at most [`DOWNLOAD_CHUNK`] bytes and checks, at the end,
/// that it had `size` bytes hashing to `expected`.
fn verified_chunks(
    stored: BoxStream<'static, Result<Bytes, object_store::Error>>,
    expected: ContentHash,
    size: u64,
    id: EvidenceId,
) -> BoxStream<'static, Result<Bytes, EvidenceError>> {
    struct Reading {
        stored: BoxStream<'static, Result<Bytes, object_store::Error>>,
        hasher: Sha256,
        read: u64,
        finished: bool,
    }
    let start = Reading {
        stored,
        hasher: Sha256::new(),
        read: 0,
        finished: false,
    };
    futures::stream::unfold(start, move |mut reading| async move {
        if reading.finished {
            return None;
        }
        let mut buffer = BytesMut::new();
        while buffer.len() < DOWNLOAD_CHUNK {
            match reading.stored.next().await {
                Some(Ok(piece)) => buffer.extend_from_slice(&piece),
                Some(Err(error)) => {
                    reading.finished = true;
                    let error = EvidenceError::Storage {
                        action: "reading a stored document",
                        source: error,
                    };
                    return Some((Err(error), reading));
                }
                None => {
                    reading.finished = true;
                    break;
                }
            }
        }
        reading.hasher.update(&buffer);
        reading.read += buffer.len() as u64;
        if reading.finished {
            let actual = ContentHash::finish(std::mem::take(&mut reading.hasher));
            if actual != expected || reading.read != size {
                let error = EvidenceError::Corrupted(format!(
                    "evidence {id}: stored object has {} bytes hashing to {}, expected {size} \
                     bytes hashing to {}",
                    reading.read,
                    actual.hex(),
                    expected.hex()
                ));
                return Some((Err(error), reading));
            }
            if buffer.is_empty() {
                return None;
            }
        }
        Some((Ok(buffer.freeze()), reading))
    })
    .boxed()
}

fn not_found(id: EvidenceId) -> EvidenceError {
    EvidenceError::not_found(
        Message::new("evidence-not-found")
            .arg("evidence", id.to_string())
            .into(),
    )
}

/// Counts an upload's outcome and, when stored, its bytes and duration.
fn record_upload_metrics(attached: &Result<Attached, EvidenceError>, started: Instant) {
    let outcome = match attached {
        Ok(Attached {
            already_attached: true,
            ..
        }) => "already_attached",
        Ok(_) => "attached",
        Err(error) => error.kind(),
    };
    metrics::counter!("dti_evidence_uploads_total", "outcome" => outcome).increment(1);
    if let Ok(attached) = attached {
        metrics::counter!("dti_evidence_upload_bytes_total").increment(attached.record.size_bytes);
        metrics::histogram!("dti_evidence_upload_seconds").record(started.elapsed().as_secs_f64());
    }
}
