//! Receiving an upload's bytes into the staging area: the size limit is enforced as chunks
//! arrive, the SHA-256 is computed on the way, and the content type is judged from the first
//! and last bytes before the staged object is completed. Anything refused is aborted; an
//! upload dropped midway (the client cancelled, the connection went) is aborted by its
//! [`StagedObject`] guard, so no partial object stays behind either way.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use dti_i18n::Message;
use futures::{Stream, StreamExt};
use object_store::path::Path;
use sha2::{Digest, Sha256};

use crate::content_type::{self, HEAD_LEN, TAIL_LEN};
use crate::storage::{ContentHash, ObjectStorage, StagedObject};
use crate::EvidenceError;

/// Upload parts a single upload may have in flight to the store.
const PARTS_IN_FLIGHT: usize = 2;

/// The request field that carries content, named in errors.
const CHUNK_FIELD: &str = "chunk";

/// What an upload must respect.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Largest document accepted, in bytes.
    pub max_bytes: u64,
    /// Content types accepted (as sniffed).
    pub allowed_content_types: Vec<String>,
    /// Longest wait for the next chunk.
    pub idle_timeout: Duration,
}

/// A complete, checked upload in the staging area, not yet at its content address. Dropping
/// it without [`StagedObject::discard`] deletes the staged object in the background.
#[derive(Debug)]
pub struct StagedContent {
    /// The staged object.
    pub staged: StagedObject,
    /// Its hash.
    pub sha256: ContentHash,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Its sniffed content type.
    pub content_type: &'static str,
}

/// The first and last bytes of a stream, and its hash and length so far. The last bytes are
/// kept as the shared chunks that hold them (no copy) until the end.
struct Inspection {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    tail_chunks: VecDeque<Bytes>,
    tail_len: usize,
}

impl Inspection {
    fn new() -> Self {
        Self {
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(HEAD_LEN),
            tail_chunks: VecDeque::new(),
            tail_len: 0,
        }
    }

    fn feed(&mut self, chunk: &Bytes) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < HEAD_LEN {
            let wanted = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
        }
        self.tail_chunks.push_back(chunk.clone());
        self.tail_len += chunk.len();
        while let Some(oldest) = self.tail_chunks.front() {
            if self.tail_len - oldest.len() < TAIL_LEN {
                break;
            }
            self.tail_len -= oldest.len();
            self.tail_chunks.pop_front();
        }
    }

    /// The last [`TAIL_LEN`] bytes (all of them when the stream is shorter).
    fn tail(&self) -> Vec<u8> {
        let mut tail = Vec::with_capacity(self.tail_len);
        for chunk in &self.tail_chunks {
            tail.extend_from_slice(chunk);
        }
        tail.split_off(self.tail_len.saturating_sub(TAIL_LEN))
    }
}

/// Streams `chunks` into a new staged object at `staging`, enforcing `limits`. On success the
/// object is complete and its hash, size and type known; on any failure nothing is left.
pub async fn receive<S>(
    storage: &ObjectStorage,
    staging: Path,
    limits: &UploadLimits,
    chunks: S,
) -> Result<StagedContent, EvidenceError>
where
    S: Stream<Item = Result<Bytes, EvidenceError>> + Unpin,
{
    let mut staged = storage
        .begin_staging(staging)
        .await
        .map_err(EvidenceError::storage("starting a staged upload"))?;
    match write_checked(&mut staged, limits, chunks).await {
        Ok((inspection, content_type)) => {
            staged
                .finish()
                .await
                .map_err(EvidenceError::storage("completing a staged upload"))?;
            Ok(StagedContent {
                staged,
                sha256: ContentHash::finish(inspection.hasher),
                size_bytes: inspection.size,
                content_type,
            })
        }
        Err(error) => {
            staged.abort().await;
            Err(error)
        }
    }
}

/// Writes every chunk, then judges the whole: size, emptiness and content type.
async fn write_checked<S>(
    staged: &mut StagedObject,
    limits: &UploadLimits,
    mut chunks: S,
) -> Result<(Inspection, &'static str), EvidenceError>
where
    S: Stream<Item = Result<Bytes, EvidenceError>> + Unpin,
{
    let mut inspection = Inspection::new();
    while let Some(chunk) = next_chunk(&mut chunks, limits.idle_timeout).await? {
        if inspection.size + chunk.len() as u64 > limits.max_bytes {
            return Err(too_large(limits.max_bytes));
        }
        inspection.feed(&chunk);
        staged
            .write(chunk, PARTS_IN_FLIGHT)
            .await
            .map_err(EvidenceError::storage("writing a staged upload"))?;
    }
    if inspection.size == 0 {
        return Err(EvidenceError::invalid_field(
            CHUNK_FIELD,
            Message::new("evidence-empty"),
        ));
    }
    let content_type = accepted_type(&inspection, &limits.allowed_content_types)?;
    Ok((inspection, content_type))
}

/// The next chunk, or `None` at the end; waiting at most `idle_timeout`.
async fn next_chunk<S>(
    chunks: &mut S,
    idle_timeout: Duration,
) -> Result<Option<Bytes>, EvidenceError>
where
    S: Stream<Item = Result<Bytes, EvidenceError>> + Unpin,
{
    match tokio::time::timeout(idle_timeout, chunks.next()).await {
        Ok(next) => next.transpose(),
        Err(_) => Err(EvidenceError::Interrupted(
            Message::new("evidence-no-data")
                .arg("seconds", idle_timeout.as_secs())
                .into(),
        )),
    }
}

/// The sniffed type of the upload, if it is one of `allowed`.
fn accepted_type(
    inspection: &Inspection,
    allowed: &[String],
) -> Result<&'static str, EvidenceError> {
    let accepted = allowed.join(", ");
    match content_type::sniff(&inspection.head, &inspection.tail()) {
        Some(sniffed) if allowed.iter().any(|mime| mime == sniffed) => Ok(sniffed),
        Some(sniffed) => Err(EvidenceError::invalid_field(
            CHUNK_FIELD,
            Message::new("evidence-type-not-accepted")
                .arg("type", sniffed)
                .arg("accepted", accepted),
        )),
        None => Err(EvidenceError::invalid_field(
            CHUNK_FIELD,
            Message::new("evidence-type-unknown").arg("accepted", accepted),
        )),
    }
}

/// The error of an upload over `max_bytes`: the limit in MiB or KiB when it is a whole number
/// of them, and in bytes.
fn too_large(max_bytes: u64) -> EvidenceError {
    let message = match binary_size(max_bytes) {
        Some(size) => Message::new("evidence-too-large")
            .arg("size", size)
            .arg("max", max_bytes),
        None => Message::new("evidence-too-large-bytes").arg("max", max_bytes),
    };
    EvidenceError::invalid_field(CHUNK_FIELD, message)
}

/// `20 MiB`, `512 KiB` or `100 bytes`.
pub fn human_size(bytes: u64) -> String {
    binary_size(bytes).unwrap_or_else(|| format!("{bytes} bytes"))
}

/// `20 MiB` or `512 KiB`, when `bytes` is a whole number of either.
fn binary_size(bytes: u64) -> Option<String> {
    const MIB: u64 = 1024 * 1024;
    const KIB: u64 = 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        Some(format!("{} MiB", bytes / MIB))
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        Some(format!("{} KiB", bytes / KIB))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_and_tail_are_kept_across_chunk_boundaries() {
        let data: Vec<u8> = (0..600_000_u32).map(|i| (i % 251) as u8).collect();
        let mut inspection = Inspection::new();
        for piece in data.chunks(7_001) {
            inspection.feed(&Bytes::copy_from_slice(piece));
        }
        assert_eq!(inspection.size, data.len() as u64);
        assert_eq!(inspection.head, data[..HEAD_LEN]);
        assert_eq!(inspection.tail(), data[data.len() - TAIL_LEN..]);
        let mut whole = Inspection::new();
        whole.feed(&Bytes::from(data.clone()));
        assert_eq!(whole.tail(), inspection.tail());
        let mut short = Inspection::new();
        short.feed(&Bytes::from_static(b"short"));
        assert_eq!(short.tail(), b"short");
        assert_eq!(
            ContentHash::finish(whole.hasher),
            crate::storage::hash_of(&data)
        );
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(20 * 1024 * 1024), "20 MiB");
        assert_eq!(human_size(512 * 1024), "512 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
