//! Parsing the fields of protobuf requests into checked domain types, once for every service:
//! rounds (year and framework), unit ids and UUID ids. Each failure is a [`FieldError`] naming
//! the request field (`round.year`, `unit.unit_id`, `evidence_id`) and the problem;
//! `dti_service_kit::status::RequestCheck` collects them into one `InvalidArgument` status
//! with a `BadRequest` detail per field.
//!
//! The `TryFrom` impls name fields relative to the message they read (`year`, `unit_id`); the
//! `parse_*` functions name them as a request holds them (`round.year`), and
//! [`FieldError::within`] puts a message's path in front (`header.round.year`).
//!
//! A problem is written from the catalogues of `dti-i18n` in the language of the request being
//! handled ([`dti_i18n::current_lang`]), an id's too ([`dti_domain::IdError::message`]).

use std::fmt;

use dti_domain::{FrameworkId, RoundRef, UnitId};
use dti_i18n::Message;
use uuid::Uuid;

use crate::dti::common::v1 as common;

/// First and last assessment year a round may have.
const YEARS: std::ops::RangeInclusive<u16> = 2000..=2100;

/// One invalid field of a request: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `round.year`.
    pub field: String,
    /// What is wrong with it, e.g. `must be set`.
    pub problem: String,
}

impl FieldError {
    /// `field` has `problem`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// `field` is absent or empty.
    pub fn missing(field: impl Into<String>) -> Self {
        Self::new(field, Message::new("request-must-be-set"))
    }

    /// The same error, for the field as seen from the message `parent` that holds it
    /// (`round` + `year` → `round.year`).
    pub fn within(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            problem: self.problem,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for FieldError {}

impl TryFrom<&common::RoundRef> for RoundRef {
    type Error = FieldError;

    /// A year between 2000 and 2100 and a framework id (fields `year`, `framework`).
    fn try_from(round: &common::RoundRef) -> Result<Self, FieldError> {
        let year = u16::try_from(round.year)
            .ok()
            .filter(|year| YEARS.contains(year))
            .ok_or_else(|| {
                FieldError::new(
                    "year",
                    Message::new("request-bad-year").arg("year", round.year.to_string()),
                )
            })?;
        let framework = FrameworkId::parse(round.framework.clone())
            .map_err(|error| FieldError::new("framework", error.message()))?;
        Ok(RoundRef { year, framework })
    }
}

impl TryFrom<&common::UnitRef> for UnitId {
    type Error = FieldError;

    /// The unit id (field `unit_id`).
    fn try_from(unit: &common::UnitRef) -> Result<Self, FieldError> {
        UnitId::parse(unit.unit_id.clone())
            .map_err(|error| FieldError::new("unit_id", error.message()))
    }
}

/// A message field that must be present (`field` "must be set" otherwise).
pub fn required<'a, T>(field: &str, message: Option<&'a T>) -> Result<&'a T, FieldError> {
    message.ok_or_else(|| FieldError::missing(field))
}

/// The request's `round` (fields `round`, `round.year`, `round.framework`).
pub fn parse_round(round: Option<&common::RoundRef>) -> Result<RoundRef, FieldError> {
    RoundRef::try_from(required("round", round)?).map_err(|error| error.within("round"))
}

/// The request's `unit` (fields `unit`, `unit.unit_id`).
pub fn parse_unit(unit: Option<&common::UnitRef>) -> Result<UnitId, FieldError> {
    UnitId::try_from(required("unit", unit)?).map_err(|error| error.within("unit"))
}

/// A UUID id in request field `field`; surrounding white space is ignored, empty is
/// "must be set".
pub fn parse_uuid(field: &str, text: &str) -> Result<Uuid, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::missing(field));
    }
    Uuid::parse_str(text.trim()).map_err(|error| {
        let problem = Message::new("request-not-uuid")
            .arg("text", format!("{text:?}"))
            .arg("error", error.to_string());
        FieldError::new(field, problem)
    })
}

/// A typed UUID id (such as `dti_domain::SubmissionId`) in request field `field`, with the
/// checks and messages of [`parse_uuid`].
pub fn parse_id<I: From<Uuid>>(field: &str, text: &str) -> Result<I, FieldError> {
    parse_uuid(field, text).map(I::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(year: u32, framework: &str) -> common::RoundRef {
        common::RoundRef {
            year,
            framework: framework.to_owned(),
        }
    }

    #[test]
    fn rounds_name_the_field_that_is_wrong() {
        let parsed = parse_round(Some(&round(2023, "hcm-2023-district"))).expect("valid");
        assert_eq!(parsed.year, 2023);
        assert_eq!(parsed.framework.as_str(), "hcm-2023-district");
        let cases = [
            (None, "round", "must be set"),
            (
                Some(round(1999, "hcm-2023-district")),
                "round.year",
                "must be a year between 2000 and 2100, got 1999",
            ),
            (Some(round(2023, "Not A Framework")), "round.framework", ""),
        ];
        for (request, field, problem) in cases {
            let error = parse_round(request.as_ref()).unwrap_err();
            assert_eq!(error.field, field);
            assert!(error.problem.contains(problem), "{error}");
        }
    }

    #[test]
    fn units_name_the_message_or_its_id() {
        let unit = |id: &str| common::UnitRef {
            unit_id: id.to_owned(),
        };
        assert_eq!(
            parse_unit(Some(&unit("quan-1"))).expect("valid").as_str(),
            "quan-1"
        );
        assert_eq!(parse_unit(None).unwrap_err(), FieldError::missing("unit"));
        let error = parse_unit(Some(&unit(" spaced"))).unwrap_err();
        assert_eq!(error.field, "unit.unit_id");
        assert!(error.problem.starts_with("invalid unit id"), "{error}");
        let vietnamese = dti_i18n::sync_scope(dti_i18n::Lang::Vi, || {
            parse_unit(Some(&unit(" spaced"))).unwrap_err()
        });
        assert!(vietnamese.problem.starts_with("mã đơn vị"), "{vietnamese}");
        assert_eq!(error.within("header").field, "header.unit.unit_id");
    }

    #[test]
    fn uuids_must_be_set_and_well_formed() {
        let id = Uuid::new_v4();
        assert_eq!(parse_uuid("run_id", &format!(" {id} ")), Ok(id));
        assert_eq!(
            parse_uuid("run_id", " "),
            Err(FieldError::missing("run_id"))
        );
        let error = parse_uuid("evidence_id", "not-a-uuid").unwrap_err();
        assert_eq!(error.field, "evidence_id");
        assert!(
            error.problem.starts_with("\"not-a-uuid\" is not a UUID: "),
            "{error}"
        );
    }

    #[test]
    fn typed_ids_parse_like_uuids() {
        let id = dti_domain::SubmissionId::generate();
        let parsed: dti_domain::SubmissionId =
            parse_id("submission_id", &format!(" {id} ")).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(
            parse_id::<dti_domain::SubmissionId>("submission_id", ""),
            Err(FieldError::missing("submission_id"))
        );
    }
}
