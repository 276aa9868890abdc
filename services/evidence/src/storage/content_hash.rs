//! The SHA-256 of a document's content: its identity in the store and its object's key.

use sha2::{Digest, Sha256};

use super::CONTENT_PREFIX;

/// SHA-256 of a document's content: its identity in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The hash of everything fed to `hasher`.
    pub fn finish(hasher: Sha256) -> Self {
        Self(hasher.finalize().into())
    }

    /// A hash as stored in the database (32 bytes).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, as shown to clients.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Where the content is stored: `sha256/ab/cd/abcd…`.
    pub fn storage_key(&self) -> String {
        let hex = self.hex();
        format!("{CONTENT_PREFIX}/{}/{}/{hex}", &hex[..2], &hex[2..4])
    }

    /// The key of the PostgreSQL advisory lock that serialises storing and sweeping this
    /// content (its first four bytes).
    pub fn lock_key(&self) -> i32 {
        i32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// The content hash named by a content object's key, if it is one.
    pub fn from_storage_key(key: &str) -> Option<Self> {
        let hex = key.strip_prefix(CONTENT_PREFIX)?.rsplit('/').next()?;
        let mut bytes = [0_u8; 32];
        hex::decode_to_slice(hex, &mut bytes).ok()?;
        (Self(bytes).storage_key() == key).then_some(Self(bytes))
    }
}

/// The SHA-256 of `bytes`, for checks.
pub fn hash_of(bytes: &[u8]) -> ContentHash {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    ContentHash::finish(hasher)
}
