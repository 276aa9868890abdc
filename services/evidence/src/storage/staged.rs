//! An upload in progress in the staging area: written in parts, completed, then promoted to
//! its content address or discarded; dropped unfinished, it is cleaned up in the background.

use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use object_store::path::Path;
use object_store::{PutResult, WriteMultipart};
use tokio::task::JoinHandle;

use super::{ContentHash, ObjectStorage, Promotion};

/// An upload being written to the staging area, then complete there until its content is
/// promoted. It ends with [`StagedObject::discard`] (or [`StagedObject::abort`]); if it is
/// dropped instead — the request was cancelled, the client went away — the partial upload is
/// aborted (the complete staged object deleted) in the background, so nothing stays behind.
pub struct StagedObject {
    pub(super) storage: ObjectStorage,
    pub(super) location: Path,
    /// The writer until the upload is finished (in a mutex only so that the guard is `Sync`;
    /// it is reached through `&mut self`, never locked).
    pub(super) writer: Option<Mutex<WriteMultipart>>,
    /// The completion running in a task of its own, so that a request dropped while the
    /// upload completes cannot lose track of it.
    pub(super) finishing: Option<JoinHandle<Result<PutResult, object_store::Error>>>,
    /// Set once the upload was aborted or discarded explicitly.
    pub(super) settled: bool,
}

impl std::fmt::Debug for StagedObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedObject")
            .field("location", &self.location)
            .field("writing", &self.writer.is_some())
            .field("settled", &self.settled)
            .finish()
    }
}

impl StagedObject {
    /// Where the upload is staged.
    pub fn location(&self) -> &Path {
        &self.location
    }

    /// Adds `chunk` to the upload, once at most `parts_in_flight` parts are being sent.
    pub async fn write(
        &mut self,
        chunk: Bytes,
        parts_in_flight: usize,
    ) -> Result<(), object_store::Error> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(already_finished)?
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        writer.wait_for_capacity(parts_in_flight).await?;
        writer.put(chunk);
        Ok(())
    }

    /// Completes the upload: the staged object exists in full. A failed completion was
    /// aborted already.
    pub async fn finish(&mut self) -> Result<(), object_store::Error> {
        let writer = self.writer.take().ok_or_else(already_finished)?;
        let writer = writer.into_inner().unwrap_or_else(PoisonError::into_inner);
        let finishing = self
            .finishing
            .insert(tokio::spawn(async move { writer.finish().await }));
        let finished = finishing.await;
        self.finishing = None;
        match finished {
            Ok(result) => result.map(drop),
            Err(error) => Err(object_store::Error::Generic {
                store: "staging",
                source: Box::new(error),
            }),
        }
    }

    /// Aborts the upload (deletes the staged object when complete); failures are logged, the
    /// sweep removes what is left.
    pub async fn abort(mut self) {
        self.settled = true;
        clean_up(
            self.storage.clone(),
            self.location.clone(),
            self.writer.take(),
            self.finishing.take(),
        )
        .await;
    }

    /// Moves the complete staged object to the address of `content` (see
    /// [`ObjectStorage::promote`]).
    pub async fn promote(&self, content: &ContentHash) -> Result<Promotion, object_store::Error> {
        self.storage.promote(&self.location, content).await
    }

    /// Deletes whatever is still staged (nothing once promoted); failures are logged.
    pub async fn discard(self) {
        self.abort().await;
    }
}

impl Drop for StagedObject {
    fn drop(&mut self) {
        if self.settled {
            self.storage.in_flight_set().remove(&self.location);
            return;
        }
        let (storage, location) = (self.storage.clone(), self.location.clone());
        let (writer, finishing) = (self.writer.take(), self.finishing.take());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                drop(runtime.spawn(clean_up(storage, location, writer, finishing)));
            }
            Err(_) => {
                tracing::warn!(%location, "an interrupted upload is left to the sweep");
                storage.in_flight_set().remove(&location);
            }
        }
    }
}

/// Aborts `writer`'s upload, or deletes the complete object at `location` (once `finishing`
/// completed it, if it was completing), then forgets it as in flight.
async fn clean_up(
    storage: ObjectStorage,
    location: Path,
    writer: Option<Mutex<WriteMultipart>>,
    finishing: Option<JoinHandle<Result<PutResult, object_store::Error>>>,
) {
    if let Some(finishing) = finishing {
        // A failed completion aborts itself; a complete object is deleted below.
        let _ = finishing.await;
    }
    match writer {
        Some(writer) => {
            let writer = writer.into_inner().unwrap_or_else(PoisonError::into_inner);
            if let Err(error) = writer.abort().await {
                tracing::warn!(%error, %location, "aborting an interrupted upload");
            }
        }
        None => storage.discard(&location).await,
    }
    storage.in_flight_set().remove(&location);
}

fn already_finished() -> object_store::Error {
    object_store::Error::Generic {
        store: "staging",
        source: "the staged upload is already finished".into(),
    }
}
