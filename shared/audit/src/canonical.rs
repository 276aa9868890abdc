//! The canonical byte form of an entry that its hash covers.
//!
//! JSON values are written with object keys sorted and no insignificant white space, so the
//! same entry hashes the same after a round trip through PostgreSQL's JSONB (which reorders
//! keys). Timestamps are RFC 3339 in UTC with exactly six fractional digits, PostgreSQL's
//! precision.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Length of a chain hash in bytes.
pub(crate) const HASH_LEN: usize = 32;

/// The fields an entry's hash covers, in order.
pub(crate) struct HashedFields<'a> {
    pub year: i16,
    pub framework: &'a str,
    pub chain: &'a str,
    pub seq: i64,
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub recorded_at: DateTime<Utc>,
}

impl HashedFields<'_> {
    /// `SHA-256(prev_hash ‖ canonical bytes)`.
    pub(crate) fn hash(&self, prev_hash: &[u8]) -> Vec<u8> {
        let mut text = String::new();
        text.push('[');
        let plain = [
            Value::from(self.year),
            Value::from(self.framework),
            Value::from(self.chain),
            Value::from(self.seq),
            Value::from(self.actor),
            Value::from(self.role),
            Value::from(self.action),
            Value::from(self.subject),
        ];
        for value in &plain {
            write_canonical(value, &mut text);
            text.push(',');
        }
        write_canonical(self.before.unwrap_or(&Value::Null), &mut text);
        text.push(',');
        write_canonical(self.after.unwrap_or(&Value::Null), &mut text);
        text.push(',');
        let at = self
            .recorded_at
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        write_canonical(&Value::from(at), &mut text);
        text.push(']');
        let mut hasher = Sha256::new();
        hasher.update(prev_hash);
        hasher.update(text.as_bytes());
        hasher.finalize().to_vec()
    }
}

/// `value` as canonical JSON: object keys sorted, no insignificant white space. The form an
/// entry's hash covers; other content hashes (e.g. a published result's) use it too, so the
/// same value hashes the same after a round trip through JSONB.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

/// Writes `value` as JSON with object keys in sorted order.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_canonical_form() {
        let (mut a, mut b) = (String::new(), String::new());
        write_canonical(&json!({"b": 1, "a": {"y": [1, 2], "x": null}}), &mut a);
        let reordered: Value =
            serde_json::from_str(r#"{"a": {"x": null, "y": [1, 2]}, "b": 1}"#).expect("json");
        write_canonical(&reordered, &mut b);
        assert_eq!(a, b);
        assert_eq!(a, r#"{"a":{"x":null,"y":[1,2]},"b":1}"#);
    }
}
