//! Checked identifiers. Every id that crosses a crate or service boundary is one of these
//! newtypes, parsed once at the edge, so a bare string never stands for a unit or an indicator.
//! Ids share their text (`Arc<str>`), so cloning one from a framework costs no allocation.
//! Row ids (submissions, evidence, objections, sync runs) are UUID newtypes: `Copy`, shown and
//! parsed as the hyphenated UUID, stored as the UUID itself.
//!
//! An id that does not parse is an [`IdError`]: shown in English (`Display`, for logs), and
//! to a caller in its language with [`IdError::message`].

use dti_i18n::{Arg, Message};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    /// Which kind of identifier was being parsed.
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl IdError {
    /// What is wrong, from the catalogues: in the language of the request being handled once
    /// shown (`String::from`), in English it reads as `Display` does.
    pub fn message(&self) -> Message {
        Message::new("id-invalid")
            .arg("kind", kind_message(self.kind))
            .arg("value", format!("{:?}", self.value))
            .arg("reason", reason_message(self.reason))
    }
}

/// The kind of an id as a message (a kind this file does not define is shown as is).
fn kind_message(kind: &'static str) -> Arg {
    let key = match kind {
        "unit id" => "id-kind-unit",
        "framework id" => "id-kind-framework",
        "indicator code" => "id-kind-indicator",
        "group code" => "id-kind-group",
        "variable name" => "id-kind-variable",
        "submission id" => "id-kind-submission",
        "evidence id" => "id-kind-evidence",
        "objection id" => "id-kind-objection",
        "sync run id" => "id-kind-sync-run",
        other => return Arg::from(other),
    };
    Message::new(key).into()
}

/// A reason of the checks below as a message (another reason is shown as is).
fn reason_message(reason: &'static str) -> Arg {
    let message = match reason {
        EMPTY => Message::new("id-reason-empty"),
        UNIT_TOO_LONG => Message::new("id-reason-too-long").arg("max", 128_u32),
        CONTROL => Message::new("id-reason-control"),
        WHITE_SPACE => Message::new("id-reason-white-space"),
        LENGTH_64 => Message::new("id-reason-length").arg("max", 64_u32),
        SLUG_CHARACTERS => Message::new("id-reason-slug-characters"),
        SLUG_DASH => Message::new("id-reason-slug-dash"),
        LENGTH_32 => Message::new("id-reason-length").arg("max", 32_u32),
        CODE_FORM => Message::new("id-reason-code"),
        VARIABLE_FORM => Message::new("id-reason-variable"),
        NOT_UUID => Message::new("id-reason-uuid"),
        other => return Arg::from(other),
    };
    message.into()
}

// Why an id is refused, in English ([`IdError::reason`]); [`reason_message`] names each in the
// catalogues.
const EMPTY: &str = "must not be empty";
const UNIT_TOO_LONG: &str = "must be at most 128 bytes";
const CONTROL: &str = "must not contain control characters";
const WHITE_SPACE: &str = "must not start or end with white space";
const LENGTH_64: &str = "must be 1 to 64 characters";
const SLUG_CHARACTERS: &str = "must use only lowercase ASCII letters, digits and '-'";
const SLUG_DASH: &str = "must not start or end with '-'";
const LENGTH_32: &str = "must be 1 to 32 characters";
const CODE_FORM: &str = "must be dot-separated numbers such as 6.13 or 5.12.1";
const VARIABLE_FORM: &str = "must be snake_case ASCII starting with a letter";
const NOT_UUID: &str = "must be a UUID";

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// Parses and checks an identifier.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                let check: fn(&str) -> Result<(), &'static str> = $check;
                match check(&value) {
                    Ok(()) => Ok(Self(Arc::from(value))),
                    Err(reason) => Err(IdError { kind: $kind, value, reason }),
                }
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUID v7) id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the textual form of a UUID; surrounding white space is not trimmed.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                Uuid::parse_str(value).map(Self).map_err(|_| IdError {
                    kind: $kind,
                    value: value.to_owned(),
                    reason: NOT_UUID,
                })
            }

            /// The UUID behind the id.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

fn check_unit_id(s: &str) -> Result<(), &'static str> {
    if s.trim().is_empty() {
        return Err(EMPTY);
    }
    if s.len() > 128 {
        return Err(UNIT_TOO_LONG);
    }
    if s.chars().any(char::is_control) {
        return Err(CONTROL);
    }
    if s.trim() != s {
        return Err(WHITE_SPACE);
    }
    Ok(())
}

fn check_slug(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 64 {
        return Err(LENGTH_64);
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(SLUG_CHARACTERS);
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(SLUG_DASH);
    }
    Ok(())
}

fn check_code(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 32 {
        return Err(LENGTH_32);
    }
    let parts_ok = s
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
    if !parts_ok {
        return Err(CODE_FORM);
    }
    Ok(())
}

fn check_variable(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 64 {
        return Err(LENGTH_64);
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || s.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(VARIABLE_FORM);
    }
    Ok(())
}

string_id!(
    /// A unit assessed or consulted: a department, a district or Thủ Đức City, an agency.
    /// Unit ids are stable across years; renames and merges are recorded as lineage.
    UnitId,
    "unit id",
    check_unit_id
);
string_id!(
    /// A framework (indicator set) id such as `hcm-2023-district`.
    FrameworkId,
    "framework id",
    check_slug
);
string_id!(
    /// An indicator code such as `6.13` or `5.12.1`.
    IndicatorCode,
    "indicator code",
    check_code
);
string_id!(
    /// A group (chỉ số chính) code such as `6`.
    GroupCode,
    "group code",
    check_code
);
string_id!(
    /// A variable of an indicator, using the decision's letters (`a`, `b`) or the contract's
    /// names (`head_role`, `has_section`).
    VariableName,
    "variable name",
    check_variable
);

uuid_id!(
    /// A submission: one unit's indicator values for one round, with its versions.
    SubmissionId,
    "submission id"
);
uuid_id!(
    /// A stored evidence file (minh chứng) attached to a submission.
    EvidenceId,
    "evidence id"
);
uuid_id!(
    /// An objection (kiến nghị) a unit filed against a published result.
    ObjectionId,
    "objection id"
);
uuid_id!(
    /// One national-sync run: the plan, pushes and report of one synchronisation.
    SyncRunId,
    "sync run id"
);

impl IndicatorCode {
    /// The group an indicator belongs to by its code: the text before the first dot.
    pub fn group_prefix(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }

    /// Numeric sort key so that 6.2 comes before 6.10.
    pub fn sort_key(&self) -> Vec<u64> {
        numeric_key(&self.0)
    }
}

impl GroupCode {
    /// Numeric sort key so that 2 comes before 10.
    pub fn sort_key(&self) -> Vec<u64> {
        numeric_key(&self.0)
    }
}

fn numeric_key(code: &str) -> Vec<u64> {
    code.split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}

/// An assessment round: one year scored against one framework. Cohorts, deadlines,
/// rankings and publications all belong to a round.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoundRef {
    /// The assessment year (the year whose results are assessed).
    pub year: u16,
    /// The framework the round uses.
    pub framework: FrameworkId,
}

impl fmt::Display for RoundRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.year, self.framework)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_sort_numerically() {
        let mut codes: Vec<IndicatorCode> = ["6.10", "6.2", "10.1", "5.12.1", "5.12"]
            .iter()
            .map(|c| IndicatorCode::parse(*c).unwrap())
            .collect();
        codes.sort_by_key(IndicatorCode::sort_key);
        let order: Vec<&str> = codes.iter().map(IndicatorCode::as_str).collect();
        assert_eq!(order, ["5.12", "5.12.1", "6.2", "6.10", "10.1"]);
    }

    #[test]
    fn rejects_malformed_ids() {
        assert!(IndicatorCode::parse("6.").is_err());
        assert!(IndicatorCode::parse("a.1").is_err());
        assert!(FrameworkId::parse("HCM_2023").is_err());
        assert!(UnitId::parse("  ").is_err());
        assert!(UnitId::parse(" U1").is_err());
        assert!(VariableName::parse("1a").is_err());
        assert_eq!(IndicatorCode::parse("5.12.1").unwrap().group_prefix(), "5");
    }

    #[test]
    fn a_parse_error_reads_in_english_as_logged_and_in_vietnamese_for_callers() {
        use dti_i18n::Lang;
        let errors = [
            UnitId::parse("").unwrap_err(),
            UnitId::parse("x".repeat(129)).unwrap_err(),
            UnitId::parse("a\u{7}b").unwrap_err(),
            UnitId::parse(" U1").unwrap_err(),
            FrameworkId::parse("").unwrap_err(),
            FrameworkId::parse("HCM_2023").unwrap_err(),
            FrameworkId::parse("-hcm").unwrap_err(),
            IndicatorCode::parse("").unwrap_err(),
            GroupCode::parse("a.1").unwrap_err(),
            VariableName::parse("").unwrap_err(),
            VariableName::parse("1a").unwrap_err(),
            SubmissionId::parse("x").unwrap_err(),
            EvidenceId::parse("x").unwrap_err(),
            ObjectionId::parse("x").unwrap_err(),
            SyncRunId::parse("x").unwrap_err(),
        ];
        for error in &errors {
            assert_eq!(error.message().render(Lang::En), error.to_string());
            assert_ne!(error.message().render(Lang::Vi), error.to_string());
        }
        assert_eq!(
            UnitId::parse(" U1").unwrap_err().message().render(Lang::Vi),
            "mã đơn vị \" U1\" không hợp lệ: không được bắt đầu hoặc kết thúc bằng khoảng trắng"
        );
    }

    #[test]
    fn uuid_ids_round_trip_through_text() {
        let id = SubmissionId::generate();
        assert_eq!(id.to_string().parse::<SubmissionId>(), Ok(id));
        let error = EvidenceId::parse("not-a-uuid").unwrap_err();
        assert_eq!(error.kind, "evidence id");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", id.as_uuid())
        );
    }
}
