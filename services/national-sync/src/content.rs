//! The content of an item's value version: the combined value with each owner's part and
//! evidence, its canonical JSON and SHA-256 (which decides whether a change makes a new
//! version), and the idempotency key a version is pushed with.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::national_set::{ItemKey, NationalYear};

/// A reference to evidence: an evidence-store id or a document URL, with an optional title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// Evidence id or URL.
    pub reference: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
}

/// One owner's part as recorded in a value version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionPart {
    /// Owner department id.
    pub department: String,
    /// Revision of the owner's part the version was made from.
    pub revision: i32,
    /// The part's value.
    pub value: Value,
    /// Its evidence.
    pub evidence: Vec<EvidenceRef>,
}

/// The content of a value version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionContent {
    /// The combined national value.
    pub value: Value,
    /// The owners' parts, in framework owner order.
    pub parts: Vec<VersionPart>,
}

impl VersionContent {
    /// SHA-256 of the canonical JSON of the value and the parts' departments, values and
    /// evidence (revisions left out: the same content reached again hashes the same).
    pub fn hash(&self) -> [u8; 32] {
        let parts: Vec<Value> = self
            .parts
            .iter()
            .map(|part| {
                serde_json::json!({
                    "department": part.department,
                    "value": part.value,
                    "evidence": part.evidence,
                })
            })
            .collect();
        let content = serde_json::json!({"value": self.value, "parts": parts});
        Sha256::digest(canonical_json(&content).as_bytes()).into()
    }
}

/// JSON with object keys sorted at every level and no insignificant whitespace (the audit
/// log's canonical form), so the same content always gives the same bytes.
pub use dti_audit::canonical_json;

/// The idempotency key of one value version:
/// `<province>-<year>-<kind>-<code>-v<version>-<first 16 hex digits of the content hash>`.
/// The hash part keeps a key from ever naming other content (e.g. after a database restore).
pub fn idempotency_key(
    province: &str,
    year: NationalYear,
    item: &ItemKey,
    version: i32,
    content_hash: &[u8],
) -> String {
    let hash = hex::encode(content_hash);
    let short = hash.get(..16).unwrap_or(&hash);
    format!(
        "{province}-{year}-{}-{}-v{version}-{short}",
        item.kind.as_str(),
        item.code
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"d": [true, {"z": 1, "y": 2}], "c": null}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[true,{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn hash_ignores_revisions_and_key_order_but_not_evidence() {
        let part = |revision, evidence: Vec<EvidenceRef>| VersionPart {
            department: "so-tttt".into(),
            revision,
            value: json!({"numerator": 3, "denominator": 4}),
            evidence,
        };
        let first = VersionContent {
            value: json!({"numerator": 3, "denominator": 4}),
            parts: vec![part(1, vec![])],
        };
        let reordered = VersionContent {
            value: json!({"denominator": 4, "numerator": 3}),
            parts: vec![part(7, vec![])],
        };
        assert_eq!(first.hash(), reordered.hash());
        let with_evidence = VersionContent {
            parts: vec![part(
                1,
                vec![EvidenceRef {
                    reference: "ev-1".into(),
                    title: String::new(),
                }],
            )],
            ..first.clone()
        };
        assert_ne!(first.hash(), with_evidence.hash());
    }

    #[test]
    fn idempotency_key_names_year_item_version_and_content() {
        let key = idempotency_key(
            "79",
            NationalYear::for_tests(2024),
            &ItemKey::indicator("6.22"),
            3,
            &[0xab; 32],
        );
        assert_eq!(key, "79-2024-indicator-6.22-v3-abababababababab");
    }
}
