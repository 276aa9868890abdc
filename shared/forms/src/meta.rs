//! The form's hidden metadata sheet: which framework (and which version of it, by content
//! hash), which year, which unit and which language a form was made for, and the form format.
//! The importer reads it first, rebuilds the same layout from it and refuses a form made for
//! another framework, year or framework version.

use dti_domain::Framework;
use dti_i18n::Lang;
use sha2::{Digest, Sha256};

/// The hidden sheet's name.
pub const META_SHEET: &str = "dti-form";

/// The format of forms this crate writes and reads; a change of layout is a new version.
pub const FORM_FORMAT_VERSION: u32 = 1;

/// What a form was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormMeta {
    /// Format version of the layout.
    pub format_version: u32,
    /// The framework's id.
    pub framework: String,
    /// The framework's content hash when the form was made ([`framework_hash`]).
    pub framework_hash: String,
    /// The round's year.
    pub year: u16,
    /// The unit the form was made for, if any.
    pub unit: Option<String>,
    /// The language of its labels.
    pub lang: Lang,
}

impl FormMeta {
    /// The rows of the metadata sheet: (field, value).
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("format_version", self.format_version.to_string()),
            ("framework", self.framework.clone()),
            ("framework_hash", self.framework_hash.clone()),
            ("year", self.year.to_string()),
            ("unit", self.unit.clone().unwrap_or_default()),
            ("lang", self.lang.tag().to_owned()),
        ]
    }

    /// Reads the rows back; the first field that is missing or malformed is named.
    pub fn from_rows(rows: &[(String, String)]) -> Result<FormMeta, &'static str> {
        let field = |name: &'static str| {
            rows.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim().to_owned())
                .ok_or(name)
        };
        let number = |name: &'static str| -> Result<u32, &'static str> {
            field(name)?.parse().map_err(|_| name)
        };
        Ok(FormMeta {
            format_version: number("format_version")?,
            framework: field("framework")?,
            framework_hash: field("framework_hash")?,
            year: u16::try_from(number("year")?).map_err(|_| "year")?,
            unit: Some(field("unit")?).filter(|unit| !unit.is_empty()),
            lang: Lang::parse(&field("lang")?).ok_or("lang")?,
        })
    }
}

/// A content hash of a framework: the SHA-256 of its checked model as JSON, so any change to
/// its groups, indicators, variables or rules gives another hash.
pub fn framework_hash(framework: &Framework) -> String {
    let json = serde_json::to_vec(framework).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}
