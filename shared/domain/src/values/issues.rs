//! Problems found in submitted values ([`InputIssue`], naming unit, indicator and variable),
//! their severity, and the outcome of a decode ([`Decoded`]).
//!
//! An issue's text is a [`Message`] of the `dti-i18n` catalogues: shown to the unit or the
//! verifier in their language ([`Message::localized`]), and in English in logs and `Display`.

use dti_i18n::{Arg, Message};
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Whether an issue blocks scoring and storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Invalid input: nothing is scored or stored.
    Error,
    /// Shown to the unit and the verifier; changes nothing.
    Warning,
}

/// A problem with submitted values, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputIssue {
    /// Error or warning.
    pub severity: Severity,
    /// The unit (its id, or its position when it has no usable id).
    pub unit: Option<String>,
    /// The indicator code (or general-information key).
    pub indicator: Option<String>,
    /// The variable.
    pub variable: Option<String>,
    /// What is wrong (a catalogue message; `Display` and serialisation are English).
    pub message: Message,
}

impl InputIssue {
    /// An error at the given place.
    pub(super) fn error(
        unit: Option<&str>,
        indicator: Option<&str>,
        variable: Option<&str>,
        message: Message,
    ) -> Self {
        Self {
            severity: Severity::Error,
            unit: unit.map(str::to_string),
            indicator: indicator.map(str::to_string),
            variable: variable.map(str::to_string),
            message,
        }
    }

    /// A warning at the given place.
    pub(super) fn warning(
        unit: Option<&str>,
        indicator: Option<&str>,
        variable: Option<&str>,
        message: Message,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(unit, indicator, variable, message)
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Where the issue is, outermost first: `unit U`, then `indicator C` (or `general
    /// information KEY`, already so named), then `variable V`.
    pub fn place(&self) -> Vec<String> {
        let mut place = Vec::new();
        if let Some(unit) = &self.unit {
            place.push(format!("unit {unit}"));
        }
        if let Some(indicator) = &self.indicator {
            if indicator.starts_with(GENERAL_INFO_PLACE) {
                place.push(indicator.clone());
            } else {
                place.push(format!("indicator {indicator}"));
            }
        }
        if let Some(variable) = &self.variable {
            place.push(format!("variable {variable}"));
        }
        place
    }
}

/// How an issue's `indicator` names a general-information field: `general information KEY`.
pub const GENERAL_INFO_PLACE: &str = "general information ";

impl fmt::Display for InputIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        let place = self.place();
        if place.is_empty() {
            write!(f, "input: {}", self.message)
        } else {
            write!(f, "{}: {}", place.join(", "), self.message)
        }
    }
}

/// The outcome of decoding: the cohort when there are no errors, and every issue found.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// The decoded value, present only when no issue is an error.
    pub value: Option<T>,
    /// Errors and warnings, in input order.
    pub issues: Vec<InputIssue>,
}

/// `value` when no issue is an error, with every issue.
pub(super) fn finish<T>(value: T, issues: Vec<InputIssue>) -> Decoded<T> {
    let ok = !issues.iter().any(InputIssue::is_error);
    Decoded {
        value: ok.then_some(value),
        issues,
    }
}

/// A unit's optional field (`name`, and the key of what it must be) when it holds what `take` accepts;
/// `None` when it is absent or null, or when it is of another kind: then an error saying what
/// it must be is added to `issues`.
pub(super) fn optional_field<T>(
    unit: &str,
    (name, expected): (&str, &'static str),
    raw: Option<Value>,
    take: impl FnOnce(Value) -> Result<T, Value>,
    issues: &mut Vec<InputIssue>,
) -> Option<T> {
    match take(raw.filter(|value| !value.is_null())?) {
        Ok(taken) => Some(taken),
        Err(other) => {
            issues.push(InputIssue::error(
                Some(unit),
                None,
                None,
                Message::new("issue-field-must-be")
                    .arg("name", name)
                    .arg("expected", Message::new(expected))
                    .arg("got", describe(&other)),
            ));
            None
        }
    }
}

/// At most the first 40 characters of `text`, quoted, with an ellipsis when cut: a message
/// names what it found without echoing a long input back.
pub(super) fn quote_prefix(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// A JSON value as messages name it: the value itself when short, its kind otherwise.
pub(super) fn describe(value: &Value) -> Arg {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Number(n) => n.to_string().into(),
        Value::String(s) => quote_prefix(s).into(),
        Value::Array(_) => Message::new("issue-value-list").into(),
        Value::Object(_) => Message::new("issue-value-object").into(),
    }
}
