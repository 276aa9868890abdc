//! Decoding stored rows of `submission_version_values` and `verified_values` with the
//! validation every writer used (`dti_domain::values::decode_indicator_values`). A row that no
//! longer decodes is a problem naming its indicator, never skipped, so a score is never computed
//! from part of a unit's values.

use std::collections::BTreeMap;

use dti_domain::framework::{Framework, Indicator};
use dti_domain::values::{decode_indicator_values, IndicatorValues};
use dti_domain::{IndicatorCode, UnitId};
use serde_json::Value;

use super::model::{Decision, Reported, VerifiedValue};

/// Decodes one stored entry of a version (variables or a not-applicable reason).
pub fn decode_reported(
    framework: &Framework,
    unit: &UnitId,
    code: &str,
    variables: Option<Value>,
    not_applicable_reason: Option<String>,
) -> Result<(IndicatorCode, Reported), String> {
    let indicator = framework
        .indicator_by_str(code)
        .ok_or_else(|| format!("indicator {code} is not in framework {}", framework.id))?;
    let entry = match (variables, not_applicable_reason) {
        (_, Some(reason)) => Reported::NotApplicable(reason),
        (Some(Value::Object(map)), None) => {
            Reported::Values(decode_values(unit, code, indicator, map)?)
        }
        _ => return Err(format!("indicator {code} has neither values nor a reason")),
    };
    Ok((indicator.code.clone(), entry))
}

/// Decodes the entries of one stored version, read as three arrays in step: indicator codes,
/// variables as JSON text (none when not applicable) and not-applicable reasons.
pub fn decode_entries(
    framework: &Framework,
    unit: &UnitId,
    codes: Vec<String>,
    variables: Vec<Option<String>>,
    reasons: Vec<Option<String>>,
) -> Result<BTreeMap<IndicatorCode, Reported>, String> {
    if variables.len() != codes.len() || reasons.len() != codes.len() {
        return Err(format!(
            "the stored entries do not line up: {} indicators, {} variables, {} reasons",
            codes.len(),
            variables.len(),
            reasons.len()
        ));
    }
    codes
        .into_iter()
        .zip(variables)
        .zip(reasons)
        .map(|((code, variables), reason)| {
            let variables = variables
                .map(|text| serde_json::from_str::<Value>(&text))
                .transpose()
                .map_err(|error| format!("indicator {code} has unreadable variables: {error}"))?;
            decode_reported(framework, unit, &code, variables, reason)
        })
        .collect()
}

/// Decodes stored variables with the domain's validation.
pub fn decode_values(
    unit: &UnitId,
    code: &str,
    indicator: &Indicator,
    map: serde_json::Map<String, Value>,
) -> Result<IndicatorValues, String> {
    let decoded = decode_indicator_values(unit.as_str(), indicator, map);
    decoded.value.ok_or_else(|| {
        let problems: Vec<String> = decoded
            .issues
            .iter()
            .filter(|issue| issue.is_error())
            .map(ToString::to_string)
            .collect();
        format!(
            "indicator {code} no longer validates: {}",
            problems.join("; ")
        )
    })
}

/// Decodes a stored decision row (`decision`, `variables`, `not_applicable`).
pub fn decode_decision(
    framework: &Framework,
    unit: &UnitId,
    code: &str,
    decision: &str,
    variables: Option<Value>,
    not_applicable: bool,
) -> Result<(IndicatorCode, Decision), String> {
    let indicator = framework.indicator_by_str(code).ok_or_else(|| {
        format!(
            "decided indicator {code} is not in framework {}",
            framework.id
        )
    })?;
    let decision = match (decision, variables, not_applicable) {
        ("accepted", _, _) => Decision::Accepted,
        ("evidence_insufficient", _, _) => Decision::EvidenceInsufficient,
        ("overridden", _, true) => Decision::Overridden(VerifiedValue::NotApplicable),
        ("overridden", Some(Value::Object(map)), false) => Decision::Overridden(
            VerifiedValue::Values(decode_values(unit, code, indicator, map)?),
        ),
        (other, _, _) => {
            return Err(format!(
                "indicator {code} has an unreadable decision {other:?}"
            ))
        }
    };
    Ok((indicator.code.clone(), decision))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use serde_json::json;
    use std::sync::Arc;

    fn district() -> Arc<Framework> {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        Arc::clone(catalog.get_str("hcm-2023-district").expect("district"))
    }

    #[test]
    fn a_stored_row_that_no_longer_validates_is_an_error() {
        let framework = district();
        let unit = UnitId::parse("quan-1").expect("id");
        let broken = decode_reported(&framework, &unit, "1.2", Some(json!({"a": 7})), None);
        assert!(broken.unwrap_err().contains("indicator 1.2"));
        let unknown = decode_reported(&framework, &unit, "99.9", Some(json!({})), None);
        assert!(unknown.is_err());
        let reason = decode_reported(&framework, &unit, "7.3", None, Some("n/a".into()));
        assert_eq!(
            reason.expect("decodes").1,
            Reported::NotApplicable("n/a".into())
        );
    }

    #[test]
    fn a_versions_entries_decode_from_arrays_in_step() {
        let framework = district();
        let unit = UnitId::parse("quan-1").expect("id");
        let entries = decode_entries(
            &framework,
            &unit,
            vec!["1.2".into(), "7.3".into()],
            vec![Some(r#"{"a": 5, "b": 34}"#.into()), None],
            vec![None, Some("n/a".into())],
        )
        .expect("decodes");
        assert_eq!(entries.len(), 2);
        assert!(matches!(
            entries.get(&IndicatorCode::parse("1.2").unwrap()),
            Some(Reported::Values(_))
        ));
        assert_eq!(
            entries.get(&IndicatorCode::parse("7.3").unwrap()),
            Some(&Reported::NotApplicable("n/a".into()))
        );
        let unreadable = decode_entries(
            &framework,
            &unit,
            vec!["1.2".into()],
            vec![Some("{\"a\": ".into())],
            vec![None],
        );
        assert!(unreadable.unwrap_err().contains("indicator 1.2"));
        let misaligned = decode_entries(&framework, &unit, vec!["1.2".into()], vec![], vec![None]);
        assert!(misaligned.unwrap_err().contains("do not line up"));
        let invalid = decode_entries(
            &framework,
            &unit,
            vec!["1.2".into()],
            vec![Some(r#"{"a": 7}"#.into())],
            vec![None],
        );
        assert!(invalid.unwrap_err().contains("indicator 1.2"));
    }

    #[test]
    fn stored_decisions_decode_by_kind() {
        let framework = district();
        let unit = UnitId::parse("quan-1").expect("id");
        let decode = |decision: &str, variables: Option<Value>, not_applicable: bool| {
            decode_decision(
                &framework,
                &unit,
                "1.2",
                decision,
                variables,
                not_applicable,
            )
            .map(|(_, decision)| decision)
        };
        assert_eq!(decode("accepted", None, false), Ok(Decision::Accepted));
        assert_eq!(
            decode("evidence_insufficient", None, false),
            Ok(Decision::EvidenceInsufficient)
        );
        assert_eq!(
            decode("overridden", None, true),
            Ok(Decision::Overridden(VerifiedValue::NotApplicable))
        );
        assert!(matches!(
            decode("overridden", Some(json!({"a": 5, "b": 34})), false),
            Ok(Decision::Overridden(VerifiedValue::Values(_)))
        ));
        assert!(decode("overridden", None, false).is_err());
        assert!(decode("overridden", Some(json!({"a": 5})), false)
            .unwrap_err()
            .contains("indicator 1.2"));
        assert!(decode("withdrawn", None, false).is_err());
    }
}
