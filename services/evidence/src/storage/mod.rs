//! Documents in the object store (`object_store` crate: a local directory or an S3-compatible
//! bucket), content-addressed by SHA-256.
//!
//! Layout under the store's root:
//! - `sha256/<h0h1>/<h2h3>/<64 hex digits>`: one object per distinct content, written once and
//!   never changed; identical files share it.
//! - `staging/<instance>/<upload id>`: an upload in progress. Bytes stream here first; only
//!   when the size and type checks passed and the hash is known is the object moved (renamed)
//!   to its content address. `<instance>` names the service process that owns the upload (see
//!   [`crate::lease`]), so a restarted or surviving instance can tell a dead process's
//!   leftovers from uploads still in flight.
//!
//! The local backend writes a multipart upload to a hidden `…#<n>` file next to its final
//! name (not listed by `object_store`); the sweep of a dead instance removes its whole staging
//! directory from disk, hidden files included.//!
//! This module opens the store and moves objects in it; `content_hash` names a content
//! object, `staged` is an upload in progress and what happens to it when it is dropped.

mod content_hash;
mod staged;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, WriteMultipart};
use secrecy::ExposeSecret;

use crate::config::{Backend, S3Settings, StorageSettings};

pub use content_hash::{hash_of, ContentHash};
pub use staged::StagedObject;

/// Part size of multipart uploads to S3 (its minimum for all parts but the last).
const S3_PART_SIZE: usize = 5 * 1024 * 1024;
/// Part size of uploads to the local filesystem: each part is one blocking write.
const LOCAL_PART_SIZE: usize = 1024 * 1024;

/// Top-level prefix of content objects.
const CONTENT_PREFIX: &str = "sha256";
/// Top-level prefix of uploads in progress.
const STAGING_PREFIX: &str = "staging";

/// Why the object store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StorageSetupError {
    /// The local root directory could not be created.
    #[error("creating the evidence directory {path}: {source}")]
    CreateRoot {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The backend rejected its configuration.
    #[error("opening the evidence object store: {0}")]
    Open(#[from] object_store::Error),
}

/// Whether [`ObjectStorage::promote`] stored new content or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promotion {
    /// The staged object became the content object.
    Stored,
    /// Identical content was already stored; the staged copy was dropped.
    AlreadyStored,
}

/// The document store: content objects and staged uploads.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    /// Root directory of the local backend (for sweeping hidden partial files).
    local_root: Option<PathBuf>,
    part_size: usize,
    /// Staging locations of this process's uploads in progress: the sweep of stale staging
    /// never touches them.
    in_flight: Arc<Mutex<HashSet<Path>>>,
}

impl ObjectStorage {
    /// Opens the configured backend (creating the local root directory when needed).
    pub fn open(settings: &StorageSettings) -> Result<Self, StorageSetupError> {
        match settings.backend {
            Backend::Local => Self::local(&settings.root, settings.fsync),
            Backend::S3 => Self::s3(&settings.s3),
        }
    }

    /// A store in the local directory `root`.
    pub fn local(root: &std::path::Path, fsync: bool) -> Result<Self, StorageSetupError> {
        std::fs::create_dir_all(root).map_err(|source| StorageSetupError::CreateRoot {
            path: root.to_path_buf(),
            source,
        })?;
        let root = root
            .canonicalize()
            .map_err(|source| StorageSetupError::CreateRoot {
                path: root.to_path_buf(),
                source,
            })?;
        let store = LocalFileSystem::new_with_prefix(&root)?
            .with_fsync(fsync)
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(root),
            part_size: LOCAL_PART_SIZE,
            in_flight: Arc::default(),
        })
    }

    /// A store in an S3-compatible bucket. TLS uses rustls with the ring provider (the one the
    /// NATS client already uses), installed as the process default if none is.
    pub fn s3(settings: &S3Settings) -> Result<Self, StorageSetupError> {
        // Err only means another provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_allow_http(settings.allow_http)
            .with_virtual_hosted_style_request(settings.virtual_hosted_style);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(key), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret.expose_secret());
        }
        Ok(Self {
            store: Arc::new(builder.build()?),
            local_root: None,
            part_size: S3_PART_SIZE,
            in_flight: Arc::default(),
        })
    }

    /// The backend, for logs.
    pub fn describe(&self) -> String {
        self.store.to_string()
    }

    /// Where upload `upload` of `instance` is staged.
    pub fn staging_location(instance: &str, upload: uuid::Uuid) -> Path {
        Path::from_iter([STAGING_PREFIX, instance, &upload.simple().to_string()])
    }

    /// Starts writing a staged upload at `location`, in parts of the backend's size. The
    /// returned guard aborts the upload (or deletes the staged object) unless it is discarded
    /// explicitly, so a cancelled request leaves nothing behind.
    pub async fn begin_staging(&self, location: Path) -> Result<StagedObject, object_store::Error> {
        self.in_flight_set().insert(location.clone());
        match self.store.put_multipart(&location).await {
            Ok(upload) => Ok(StagedObject {
                storage: self.clone(),
                writer: Some(Mutex::new(WriteMultipart::new_with_chunk_size(
                    upload,
                    self.part_size,
                ))),
                location,
                finishing: None,
                settled: false,
            }),
            Err(error) => {
                self.in_flight_set().remove(&location);
                Err(error)
            }
        }
    }

    pub(super) fn in_flight_set(&self) -> std::sync::MutexGuard<'_, HashSet<Path>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Deletes what `instance` (this process) staged that no upload in progress owns and that
    /// was last written more than `max_age` ago: leftovers of uploads whose clean-up failed.
    /// Returns how many files or objects went.
    pub async fn delete_stale_staging_of(
        &self,
        instance: &str,
        max_age: Duration,
    ) -> Result<usize, object_store::Error> {
        let cutoff = SystemTime::now()
            .checked_sub(max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let in_flight = self.in_flight_set().clone();
        if let Some(root) = &self.local_root {
            let dir = root.join(STAGING_PREFIX).join(instance);
            let instance = instance.to_owned();
            return tokio::task::spawn_blocking(move || {
                delete_stale_local_files(&dir, &instance, cutoff, &in_flight)
            })
            .await
            .map_err(|error| object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(error),
            });
        }
        let cutoff = chrono::DateTime::<chrono::Utc>::from(cutoff);
        let prefix = Path::from_iter([STAGING_PREFIX, instance]);
        let stale: Vec<Path> = self
            .store
            .list(Some(&prefix))
            .try_filter_map(|meta| {
                let stale = meta.last_modified < cutoff && !in_flight.contains(&meta.location);
                async move { Ok(stale.then_some(meta.location)) }
            })
            .try_collect()
            .await?;
        let count = stale.len();
        self.store
            .delete_stream(futures::stream::iter(stale.into_iter().map(Ok)).boxed())
            .try_collect::<Vec<_>>()
            .await?;
        Ok(count)
    }

    /// Moves the complete staged object at `staging` to the address of `content`, or drops it
    /// when that content is already stored. The caller holds the content's lock.
    pub async fn promote(
        &self,
        staging: &Path,
        content: &ContentHash,
    ) -> Result<Promotion, object_store::Error> {
        let target = Path::from(content.storage_key());
        match self.store.head(&target).await {
            Ok(_) => {
                self.store.delete(staging).await?;
                Ok(Promotion::AlreadyStored)
            }
            Err(object_store::Error::NotFound { .. }) => {
                self.store.rename(staging, &target).await?;
                Ok(Promotion::Stored)
            }
            Err(error) => Err(error),
        }
    }

    /// Deletes a complete staged object (after a refused upload); failures are logged, the
    /// sweep removes what is left.
    pub async fn discard(&self, staging: &Path) {
        match self.store.delete(staging).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => tracing::warn!(%error, %staging, "deleting a refused upload"),
        }
    }

    /// The content of the object at `key`, as a stream of chunks.
    pub async fn read(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, object_store::Error>>, object_store::Error> {
        let found = self.store.get(&Path::from(key)).await?;
        Ok(found.into_stream())
    }

    /// Whether an object exists at `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, object_store::Error> {
        match self.store.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The instances that have a staging directory.
    pub async fn staging_instances(&self) -> Result<Vec<String>, object_store::Error> {
        if let Some(root) = &self.local_root {
            return Ok(local_subdirectories(&root.join(STAGING_PREFIX)));
        }
        let listed = self
            .store
            .list_with_delimiter(Some(&Path::from(STAGING_PREFIX)))
            .await?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|prefix| prefix.filename().map(str::to_owned))
            .collect())
    }

    /// Deletes everything staged by `instance`, partial uploads included.
    pub async fn delete_staging_of(&self, instance: &str) -> Result<(), object_store::Error> {
        if let Some(root) = &self.local_root {
            let dir = root.join(STAGING_PREFIX).join(instance);
            return tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: Box::new(source),
                }),
            })
            .await
            .map_err(|error| object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(error),
            })?;
        }
        let prefix = Path::from_iter([STAGING_PREFIX, instance]);
        let locations = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// Every content object, with its age.
    pub fn content_objects(&self) -> BoxStream<'static, Result<ObjectMeta, object_store::Error>> {
        self.store.list(Some(&Path::from(CONTENT_PREFIX)))
    }

    /// Deletes the content object at `key`. The caller holds the content's lock and checked
    /// that nothing references it.
    pub async fn delete_content(&self, key: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Writes `bytes` as a complete object at `key` (tests and the orphan sweep's tests).
    pub async fn put_raw(&self, key: &str, bytes: Bytes) -> Result<(), object_store::Error> {
        self.store.put(&Path::from(key), bytes.into()).await?;
        Ok(())
    }
}

/// Removes the files directly in `dir` (the local staging directory of `instance`) modified
/// before `cutoff`, partial `…#<n>` files included, except those of uploads in `in_flight`.
fn delete_stale_local_files(
    dir: &std::path::Path,
    instance: &str,
    cutoff: SystemTime,
    in_flight: &HashSet<Path>,
) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut deleted = 0;
    for entry in entries.filter_map(Result::ok) {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let upload = name.split('#').next().unwrap_or_default();
        if in_flight.contains(&Path::from_iter([STAGING_PREFIX, instance, upload])) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| modified < cutoff);
        if stale && entry.file_type().is_ok_and(|kind| kind.is_file()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => deleted += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => tracing::warn!(%error, file = %name, "deleting a stale staged file"),
            }
        }
    }
    deleted
}

/// Names of the subdirectories of `dir` (none when it does not exist).
fn local_subdirectories(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keys_fan_out_by_the_first_hex_digits_and_parse_back() {
        let hash = hash_of(b"evidence");
        let key = hash.storage_key();
        let hex = hash.hex();
        assert_eq!(key, format!("sha256/{}/{}/{hex}", &hex[..2], &hex[2..4]));
        assert_eq!(ContentHash::from_storage_key(&key), Some(hash));
        assert_eq!(ContentHash::from_storage_key("sha256/zz/yy/nothex"), None);
        assert_eq!(
            ContentHash::from_storage_key(&format!("sha256/00/00/{hex}")),
            None
        );
    }

    #[test]
    fn the_s3_backend_is_built_from_settings_without_contacting_the_server() {
        let settings = S3Settings {
            bucket: "evidence".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            allow_http: true,
            access_key_id: Some("key".into()),
            secret_access_key: Some("secret".into()),
            ..S3Settings::default()
        };
        let storage = ObjectStorage::s3(&settings).expect("an S3 store");
        assert!(
            storage.describe().contains("evidence"),
            "{}",
            storage.describe()
        );
    }

    #[tokio::test]
    async fn promoting_identical_content_twice_keeps_one_object() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let storage = ObjectStorage::local(dir.path(), false)?;
        let content = hash_of(b"same bytes");
        for (round, expected) in [(0, Promotion::Stored), (1, Promotion::AlreadyStored)] {
            let staging = ObjectStorage::staging_location("00000001", uuid::Uuid::new_v4());
            let mut staged = storage.begin_staging(staging).await?;
            staged.write(Bytes::from_static(b"same bytes"), 2).await?;
            staged.finish().await?;
            assert_eq!(staged.promote(&content).await?, expected, "{round}");
            staged.discard().await;
        }
        assert!(storage.exists(&content.storage_key()).await?);
        let objects: Vec<_> = storage.content_objects().try_collect().await?;
        assert_eq!(objects.len(), 1);
        let staged_left = std::fs::read_dir(dir.path().join("staging/00000001"))
            .map(|entries| entries.count())
            .unwrap_or(0);
        assert_eq!(staged_left, 0, "nothing stays in the staging area");
        Ok(())
    }

    #[tokio::test]
    async fn stale_own_staging_goes_but_uploads_in_progress_stay() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let storage = ObjectStorage::local(dir.path(), false)?;
        let instance = "0000aaaa";
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let left = ObjectStorage::staging_location(instance, uuid::Uuid::new_v4());
        storage
            .put_raw(left.as_ref(), Bytes::from_static(b"%PDF-1.7 left"))
            .await?;
        let fresh = ObjectStorage::staging_location(instance, uuid::Uuid::new_v4());
        storage
            .put_raw(fresh.as_ref(), Bytes::from_static(b"%PDF-1.7 fresh"))
            .await?;
        let mut uploading = storage
            .begin_staging(ObjectStorage::staging_location(
                instance,
                uuid::Uuid::new_v4(),
            ))
            .await?;
        uploading
            .write(Bytes::from(vec![7_u8; LOCAL_PART_SIZE]), 0)
            .await?;
        uploading.write(Bytes::from_static(b"x"), 0).await?;
        let staging_dir = dir.path().join(STAGING_PREFIX).join(instance);
        let age_file = |name: &str| -> std::io::Result<()> {
            std::fs::File::options()
                .write(true)
                .open(staging_dir.join(name))?
                .set_modified(hour_ago)
        };
        age_file(left.filename().unwrap_or_default())?;
        let partial = std::fs::read_dir(&staging_dir)?
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().into_string().ok())
            .find(|name| name.contains('#'))
            .ok_or_else(|| anyhow::anyhow!("no partial file of the upload in progress"))?;
        age_file(&partial)?;

        let deleted = storage
            .delete_stale_staging_of(instance, Duration::from_secs(60))
            .await?;
        assert_eq!(deleted, 1, "only the old leftover goes");
        assert!(!staging_dir
            .join(left.filename().unwrap_or_default())
            .exists());
        assert!(staging_dir
            .join(fresh.filename().unwrap_or_default())
            .exists());
        assert!(
            staging_dir.join(&partial).exists(),
            "the upload in progress stays"
        );

        uploading.abort().await;
        assert!(
            !staging_dir.join(&partial).exists(),
            "an aborted upload leaves nothing"
        );
        assert_eq!(
            storage
                .delete_stale_staging_of(instance, Duration::ZERO)
                .await?,
            1,
            "with no upload in progress, everything older than the limit goes"
        );
        Ok(())
    }
}
