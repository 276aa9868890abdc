//! Decoding a cohort document (`{"framework": ..., "units": [...]}`): its framework and its
//! list of units are read first, each unit is decoded on its own, and the decoded units are
//! assembled into a validated [`Cohort`] with every issue.
//!
//! [`decode_cohort`] decodes the units one after another; [`decode_cohort_with`] lets the
//! caller decode them (`dtictl`, which reads whole cohort files, does it in parallel).

use super::issues::{describe, finish, Decoded, InputIssue};
use super::model::Cohort;
use super::unit::{raw_to_value, DecodedUnit, Key, RawObject, UnitDocument};
use crate::framework::{Framework, FrameworkCatalog};
use dti_i18n::Message;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Decodes a cohort document (`{"framework": ..., "units": [...]}`) and validates every value.
///
/// The document is read without building a tree of the whole input: each unit and each
/// indicator is parsed on its own, so a cohort of thousands of units stays small in memory.
pub fn decode_cohort(text: &str, catalog: &FrameworkCatalog) -> Decoded<Cohort> {
    decode_cohort_with(text, catalog, |framework, units| {
        units.iter().map(|unit| unit.decode(framework)).collect()
    })
}

/// Decodes a cohort document as [`decode_cohort`] does, with `decode_units` decoding its
/// units (each with [`UnitDocument::decode`]) and returning them in input order.
pub fn decode_cohort_with(
    text: &str,
    catalog: &FrameworkCatalog,
    decode_units: impl FnOnce(&Framework, &[UnitDocument<'_>]) -> Vec<DecodedUnit>,
) -> Decoded<Cohort> {
    let document = match CohortDocument::read(text, catalog) {
        Ok(document) => document,
        Err(refused) => return refused,
    };
    let decoded = decode_units(&document.framework, &document.units);
    document.finish(decoded)
}

/// A cohort document whose framework is known and whose units are not decoded yet.
#[derive(Debug)]
struct CohortDocument<'a> {
    /// The framework the cohort is scored with.
    framework: Arc<Framework>,
    /// The units, in input order.
    units: Vec<UnitDocument<'a>>,
    /// Problems of the document itself (unknown fields, `units` not a list).
    issues: Vec<InputIssue>,
}

impl<'a> CohortDocument<'a> {
    /// Reads the document's framework and list of units. When the text is not such a
    /// document or names no usable framework, the refusal is the outcome, with every issue.
    fn read(text: &'a str, catalog: &FrameworkCatalog) -> Result<Self, Decoded<Cohort>> {
        let top = read_top(text).map_err(|message| Decoded {
            value: None,
            issues: vec![InputIssue::error(None, None, None, message)],
        })?;
        let mut issues = Vec::new();
        for key in top.keys() {
            if key.0 != "framework" && key.0 != "units" {
                issues.push(InputIssue::error(
                    None,
                    None,
                    None,
                    Message::new("issue-cohort-unknown-field").arg("field", format!("{:?}", key.0)),
                ));
            }
        }
        let field = |name: &'static str| top.get(&Key(Cow::Borrowed(name))).copied();
        let framework = read_framework(field("framework"), catalog, &mut issues);
        let units = read_units(field("units"), &mut issues);
        let Some(framework) = framework else {
            return Err(Decoded {
                value: None,
                issues,
            });
        };
        Ok(Self {
            framework,
            units,
            issues,
        })
    }

    /// The cohort of the decoded `units` (in input order), with the document's issues, each
    /// unit's and one for every unit id that appears twice.
    fn finish(self, units: Vec<DecodedUnit>) -> Decoded<Cohort> {
        let mut issues = self.issues;
        let mut values = Vec::with_capacity(self.units.len());
        let mut seen = BTreeSet::new();
        for decoded in units {
            if let Some(id) = &decoded.id {
                if !seen.insert(id.clone()) {
                    issues.push(InputIssue::error(
                        Some(id),
                        None,
                        None,
                        Message::new("issue-unit-twice"),
                    ));
                }
            }
            issues.extend(decoded.issues);
            values.extend(decoded.value);
        }
        let cohort = Cohort {
            framework: self.framework,
            units: values,
        };
        finish(cohort, issues)
    }
}

/// The document's top-level object, or why the text is not one.
fn read_top(text: &str) -> Result<RawObject<'_>, Message> {
    serde_json::from_str(text).map_err(|e| {
        match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) => Message::new("issue-not-json").arg("error", e.to_string()),
            Ok(_) if e.is_data() => Message::new("issue-not-cohort"),
            Ok(_) => Message::new("issue-not-json").arg("error", e.to_string()),
        }
    })
}

/// The scored framework the document names; each problem is added to `issues`.
fn read_framework(
    raw: Option<&RawValue>,
    catalog: &FrameworkCatalog,
    issues: &mut Vec<InputIssue>,
) -> Option<Arc<Framework>> {
    let problem = match raw.map(raw_to_value) {
        Some(Value::String(id)) => match catalog.get_str(&id) {
            Some(f) if f.scored => return Some(f.clone()),
            Some(_) => Message::new("issue-framework-unscored").arg("id", format!("{id:?}")),
            None => Message::new("issue-framework-unknown")
                .arg("id", format!("{id:?}"))
                .arg("known", catalog.ids().join(", ")),
        },
        Some(other) => Message::new("issue-framework-not-string").arg("got", describe(&other)),
        None => Message::new("issue-missing-framework"),
    };
    issues.push(InputIssue::error(None, None, None, problem));
    None
}

/// The document's units, undecoded; each problem is added to `issues`.
fn read_units<'a>(
    raw: Option<&'a RawValue>,
    issues: &mut Vec<InputIssue>,
) -> Vec<UnitDocument<'a>> {
    let Some(raw) = raw else {
        issues.push(InputIssue::error(
            None,
            None,
            None,
            Message::new("issue-missing-units"),
        ));
        return Vec::new();
    };
    match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
        Ok(units) => units
            .into_iter()
            .enumerate()
            .map(|(position, raw)| UnitDocument::new(position, raw))
            .collect(),
        Err(_) => {
            issues.push(InputIssue::error(
                None,
                None,
                None,
                Message::new("issue-units-not-list").arg("got", describe(&raw_to_value(raw))),
            ));
            Vec::new()
        }
    }
}
