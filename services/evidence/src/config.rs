//! The evidence service's own settings (`[service]` / `DTI_EVIDENCE_SERVICE_*`): limits,
//! accepted content types, where objects are stored, and how often stale data is swept.

use std::path::PathBuf;

use dti_config::{settings_at_least_one, ConfigError, FrameworkDir, Validate};
use secrecy::SecretString;
use serde::Deserialize;

use crate::content_type;

/// Default largest document accepted: 20 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;

/// Settings of the evidence service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Largest document accepted, in bytes; enforced while the upload streams.
    pub max_upload_bytes: u64,
    /// Content types accepted, as sniffed from the bytes (the client's declaration is never
    /// trusted). Each must be a type the sniffer recognises.
    pub allowed_content_types: Vec<String>,
    /// Seconds an upload may wait for its next chunk before it is abandoned.
    pub upload_idle_timeout_secs: u64,
    /// Extra framework files (`*.toml`) added to the built-in ones.
    pub framework_dir: FrameworkDir,
    /// Seconds between sweeps of stale staging objects and unreferenced content objects.
    pub sweep_interval_secs: u64,
    /// A content object nobody references is deleted only once it is this many seconds old
    /// (an upload may be about to record it).
    pub orphan_min_age_secs: u64,
    /// Where documents are stored.
    pub storage: StorageSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            allowed_content_types: content_type::DEFAULT_ALLOWED
                .iter()
                .map(|mime| (*mime).to_owned())
                .collect(),
            upload_idle_timeout_secs: 60,
            framework_dir: FrameworkDir::default(),
            sweep_interval_secs: 900,
            orphan_min_age_secs: 3600,
            storage: StorageSettings::default(),
        }
    }
}

impl Settings {
    /// The defaults with documents in the local directory `root`, each flushed to disk before
    /// its upload is acknowledged when `fsync` (tests and benches that need no durability turn
    /// it off).
    pub fn local(root: impl Into<PathBuf>, fsync: bool) -> Self {
        Self {
            storage: StorageSettings {
                backend: Backend::Local,
                root: root.into(),
                fsync,
                ..StorageSettings::default()
            },
            ..Self::default()
        }
    }
}

/// Which object store backend holds the documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A directory of the local filesystem (`storage.root`).
    Local,
    /// An S3-compatible bucket (`storage.s3`).
    S3,
}

/// Where and how documents are stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// `local` (default) or `s3`.
    pub backend: Backend,
    /// Root directory of the `local` backend; created when missing.
    pub root: PathBuf,
    /// Flush files and directories to disk before an upload is acknowledged (`local`).
    pub fsync: bool,
    /// The bucket of the `s3` backend.
    pub s3: S3Settings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: Backend::Local,
            root: PathBuf::from("data/evidence"),
            fsync: true,
            s3: S3Settings::default(),
        }
    }
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Region, e.g. `us-east-1` (most S3-compatible servers accept any).
    pub region: String,
    /// Endpoint of an S3-compatible server, e.g. `https://s3.example.vn`; unset for AWS.
    pub endpoint: Option<String>,
    /// Access key id; unset to use the environment's credentials.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<SecretString>,
    /// Allow a plain `http://` endpoint.
    pub allow_http: bool,
    /// Address the bucket as `https://<bucket>.<endpoint>` instead of `<endpoint>/<bucket>`.
    pub virtual_hosted_style: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            region: "us-east-1".to_owned(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            virtual_hosted_style: false,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        settings_at_least_one!(self, max_upload_bytes);
        if self.allowed_content_types.is_empty() {
            return Err(ConfigError::invalid(
                "service.allowed_content_types",
                "must name at least one content type",
            ));
        }
        if let Some(unknown) = self
            .allowed_content_types
            .iter()
            .find(|mime| !content_type::is_recognised(mime))
        {
            return Err(ConfigError::invalid(
                "service.allowed_content_types",
                format!("{unknown:?} is not a content type recognised from file contents"),
            ));
        }
        settings_at_least_one!(self, upload_idle_timeout_secs, sweep_interval_secs);
        self.framework_dir.validate()?;
        self.storage.validate()
    }
}

impl Validate for StorageSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        match self.backend {
            Backend::Local if self.root.as_os_str().is_empty() => Err(ConfigError::invalid(
                "service.storage.root",
                "must name a directory",
            )),
            Backend::Local => Ok(()),
            Backend::S3 => self.s3.validate(),
        }
    }
}

impl Validate for S3Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.bucket.trim().is_empty() {
            return Err(ConfigError::invalid(
                "service.storage.s3.bucket",
                "must be set for the s3 backend",
            ));
        }
        if let Some(endpoint) = &self.endpoint {
            let plain = endpoint.starts_with("http://");
            if !(plain || endpoint.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "service.storage.s3.endpoint",
                    "must start with http:// or https://",
                ));
            }
            if plain && !self.allow_http {
                return Err(ConfigError::invalid(
                    "service.storage.s3.endpoint",
                    "is plain http://; set service.storage.s3.allow_http to use it",
                ));
            }
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            return Err(ConfigError::invalid(
                "service.storage.s3.secret_access_key",
                "set both access_key_id and secret_access_key, or neither",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_accept_the_five_document_types() {
        let settings = Settings::default();
        assert!(settings.validate().is_ok());
        assert_eq!(settings.max_upload_bytes, 20 * 1024 * 1024);
        assert_eq!(settings.allowed_content_types.len(), 5);
    }

    #[test]
    fn an_unrecognisable_content_type_is_rejected_naming_the_field() {
        let settings = Settings {
            allowed_content_types: vec!["application/pdf".into(), "text/x-made-up".into()],
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.allowed_content_types"), "{error}");
        assert!(error.contains("text/x-made-up"), "{error}");
    }

    #[test]
    fn a_configuration_file_selects_the_s3_backend_and_limits() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("evidence.toml");
        std::fs::write(
            &file,
            r#"
            [service]
            max_upload_bytes = 10485760
            allowed_content_types = ["application/pdf", "image/png"]

            [service.storage]
            backend = "s3"

            [service.storage.s3]
            bucket = "dti-evidence"
            endpoint = "https://s3.example.vn"
            access_key_id = "evidence"
            secret_access_key = "not-a-real-secret"
            "#,
        )?;
        let config = dti_config::load_from::<dti_config::ServiceConfig<Settings>>(
            "DTI_EVIDENCE_CONFIG_TEST_NOTHING_SET_",
            Some(&file),
        )?;
        let service = config.service;
        assert_eq!(service.max_upload_bytes, 10 * 1024 * 1024);
        assert_eq!(
            service.allowed_content_types,
            ["application/pdf", "image/png"]
        );
        assert_eq!(service.storage.backend, Backend::S3);
        assert_eq!(service.storage.s3.bucket, "dti-evidence");
        std::fs::write(&file, "[service]\nmax_upload_byte = 1\n")?;
        let unknown = dti_config::load_from::<dti_config::ServiceConfig<Settings>>(
            "DTI_EVIDENCE_CONFIG_TEST_NOTHING_SET_",
            Some(&file),
        );
        assert!(unknown.is_err(), "a misspelt field is rejected");
        Ok(())
    }

    #[test]
    fn the_s3_backend_needs_a_bucket_and_paired_credentials() {
        let mut storage = StorageSettings {
            backend: Backend::S3,
            ..StorageSettings::default()
        };
        let error = storage.validate().unwrap_err().to_string();
        assert!(error.contains("service.storage.s3.bucket"), "{error}");
        storage.s3.bucket = "evidence".into();
        storage.s3.access_key_id = Some("key".into());
        let error = storage.validate().unwrap_err().to_string();
        assert!(error.contains("secret_access_key"), "{error}");
        storage.s3.secret_access_key = Some(SecretString::from("secret"));
        storage.s3.endpoint = Some("http://127.0.0.1:9000".into());
        assert!(storage.validate().is_err(), "plain http needs allow_http");
        storage.s3.allow_http = true;
        assert!(storage.validate().is_ok());
    }
}
