//! The site's signature on what it publishes: an Ed25519 key the city holds (PKCS#8 PEM, as
//! `openssl genpkey -algorithm ed25519` writes it, from `service.signing_key_path`) signs the
//! exact bytes of every snapshot download, whose SHA-256 is the published content hash. The
//! signature is served beside the snapshot (`snapshot.json.sig`, raw 64 bytes, and the
//! `X-Signature-Ed25519` header in base64) and the public key at `/signing-key.pem`, so anyone
//! can check a downloaded snapshot with
//! `openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in snapshot.json -sigfile snapshot.json.sig`.

use std::path::Path;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey};

/// Why the signing key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    /// The file could not be read.
    #[error("reading the signing key {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not an Ed25519 private key in PKCS#8 PEM.
    #[error("the signing key {path} is not an Ed25519 private key in PKCS#8 PEM: {problem}")]
    Format {
        /// The file.
        path: String,
        /// What the decoder said.
        problem: String,
    },
}

/// The key that signs snapshots, and its public half as PEM.
#[derive(Debug, Clone)]
pub struct SnapshotSigner {
    key: SigningKey,
    public_pem: String,
}

impl SnapshotSigner {
    /// The signer of the PKCS#8 PEM private key in `path`.
    pub fn from_pem_file(path: &Path) -> Result<Self, SigningKeyError> {
        let shown = path.display().to_string();
        let pem = std::fs::read_to_string(path).map_err(|source| SigningKeyError::Read {
            path: shown.clone(),
            source,
        })?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|error| SigningKeyError::Format {
            path: shown.clone(),
            problem: error.to_string(),
        })?;
        Self::new(key).map_err(|problem| SigningKeyError::Format {
            path: shown,
            problem,
        })
    }

    /// The signer of `key`.
    pub fn new(key: SigningKey) -> Result<Self, String> {
        let public_pem = key
            .verifying_key()
            .to_public_key_pem(Default::default())
            .map_err(|error| error.to_string())?;
        Ok(Self { key, public_pem })
    }

    /// The signature of `bytes` (64 bytes).
    pub fn sign(&self, bytes: &[u8]) -> [u8; 64] {
        self.key.sign(bytes).to_bytes()
    }

    /// The public key, SubjectPublicKeyInfo PEM.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePrivateKey};
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    use super::*;

    #[test]
    fn a_pem_key_signs_and_its_public_pem_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let pem = key.to_pkcs8_pem(Default::default()).expect("PEM");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("key.pem");
        std::fs::write(&path, pem.as_bytes()).expect("written");
        let signer = SnapshotSigner::from_pem_file(&path).expect("loads");
        let signature = Signature::from_bytes(&signer.sign(b"{\"round\":1}"));
        let public = VerifyingKey::from_public_key_pem(signer.public_pem()).expect("public PEM");
        assert!(public.verify(b"{\"round\":1}", &signature).is_ok());
        assert!(public.verify(b"{\"round\":2}", &signature).is_err());
        std::fs::write(&path, "not a key").expect("written");
        let refused = SnapshotSigner::from_pem_file(&path)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("not an Ed25519 private key"), "{refused}");
    }
}
