//! Property tests of request parsing: `parse_round`, `parse_unit`, `parse_uuid` and `parse_id`
//! never panic on any text or number, and whatever they accept round-trips (the parsed value
//! written back as a request field parses to the same value).

use dti_domain::{FrameworkId, SubmissionId, UnitId};
use dti_proto::dti::common::v1 as common;
use dti_proto::request::{parse_id, parse_round, parse_unit, parse_uuid};
use proptest::prelude::*;
use uuid::Uuid;

/// Text a client might send: anything, id-like text, UUID-like text, white space around.
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9._-]{0,40}",
        "[ \t]{0,2}[0-9a-fA-F-]{30,40}[ \t\n]{0,2}",
        any::<u128>().prop_map(|n| Uuid::from_u128(n).to_string()),
        any::<u128>().prop_map(|n| format!("  {}\n", Uuid::from_u128(n).simple())),
        Just(String::new()),
        Just("hcm-2023-district".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rounds_are_accepted_only_in_range_and_round_trip(year in prop_oneof![any::<u32>(), 1990u32..2110], framework in field_text()) {
        let message = common::RoundRef { year, framework: framework.clone() };
        match parse_round(Some(&message)) {
            Ok(round) => {
                prop_assert!((2000..=2100).contains(&year), "year {} accepted", year);
                prop_assert_eq!(u32::from(round.year), year);
                prop_assert_eq!(round.framework.as_str(), framework.as_str());
                prop_assert!(FrameworkId::parse(framework.clone()).is_ok());
                let again = common::RoundRef { year: u32::from(round.year), framework: round.framework.to_string() };
                prop_assert_eq!(parse_round(Some(&again)), Ok(round));
            }
            Err(error) => {
                prop_assert!(error.field == "round.year" || error.field == "round.framework", "{}", error);
                prop_assert!(!error.problem.is_empty());
                let year_ok = (2000..=2100).contains(&year);
                let framework_ok = FrameworkId::parse(framework).is_ok();
                prop_assert!(!(year_ok && framework_ok), "a valid round refused: {}", error);
            }
        }
    }

    #[test]
    fn units_round_trip(unit_id in field_text()) {
        let message = common::UnitRef { unit_id: unit_id.clone() };
        match parse_unit(Some(&message)) {
            Ok(unit) => {
                prop_assert_eq!(unit.as_str(), unit_id.as_str());
                let again = common::UnitRef { unit_id: unit.to_string() };
                prop_assert_eq!(parse_unit(Some(&again)), Ok(unit));
            }
            Err(error) => {
                prop_assert_eq!(error.field.as_str(), "unit.unit_id");
                prop_assert!(UnitId::parse(unit_id).is_err());
            }
        }
    }

    #[test]
    fn uuids_round_trip(text in field_text()) {
        match parse_uuid("evidence_id", &text) {
            Ok(id) => {
                prop_assert_eq!(Uuid::parse_str(text.trim()), Ok(id));
                prop_assert_eq!(parse_uuid("evidence_id", &id.to_string()), Ok(id));
                let typed: SubmissionId = parse_id("submission_id", &text).unwrap();
                prop_assert_eq!(typed, SubmissionId::from(id));
            }
            Err(error) => {
                prop_assert_eq!(error.field.as_str(), "evidence_id");
                if text.trim().is_empty() {
                    prop_assert_eq!(error.problem.as_str(), "must be set");
                } else {
                    prop_assert!(Uuid::parse_str(text.trim()).is_err());
                }
                prop_assert!(parse_id::<SubmissionId>("submission_id", &text).is_err());
            }
        }
    }
}

#[test]
fn absent_messages_are_must_be_set() {
    assert_eq!(
        parse_round(None).unwrap_err().to_string(),
        "round: must be set"
    );
    assert_eq!(
        parse_unit(None).unwrap_err().to_string(),
        "unit: must be set"
    );
}
