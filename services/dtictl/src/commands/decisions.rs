//! The verifier's decisions file of `dtictl verify decide --file`: its format, and its
//! validation against the round's framework before anything is sent.
//!
//! ```json
//! {
//!   "round": {"year": 2023, "framework": "hcm-2023-district"},
//!   "accept_rest": true,
//!   "units": {
//!     "quan-1": {
//!       "version": 1,
//!       "indicators": {
//!         "1.2": {"decision": "adjust", "values": {"a": 98, "b": 264}, "reason": "…"},
//!         "1.3": {"decision": "adjust", "not_applicable": true, "reason": "…"},
//!         "2.4": {"decision": "evidence_insufficient", "reason": "…"},
//!         "6.5": {"decision": "accept"}
//!       }
//!     }
//!   }
//! }
//! ```
//!
//! - `round` (optional): the round the decisions are for; when given it must be the one named
//!   by `--year` and `--framework`.
//! - `accept_rest` (optional, default false): also accept every indicator of each named unit
//!   that the file does not name and that has no decision yet (as `--accept-rest` does).
//! - `units`: unit id → that unit's decisions. `version` (optional) is the submitted version
//!   the verifier reviewed; when the unit has submitted a newer one since, the service refuses
//!   the unit's decisions (exit code 3). Without it, the version the command opens is sent.
//! - `indicators`: indicator code → one decision. `decision` is `accept` (a `reason` is
//!   optional), `adjust` with either `values` (every variable of the indicator, in the scoring
//!   contract's variable format, as in a cohort file) or `"not_applicable": true`, and a
//!   mandatory `reason`, or `evidence_insufficient` with a mandatory `reason` (the indicator
//!   then has no value and scores 0).
//!
//! Every problem of the file is found before anything is sent, each naming the unit, the
//! indicator and the field; the command then exits with code 2 and sends nothing.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use dti_domain::framework::Framework;
use dti_domain::values::{decode_indicator_values, InputIssue};
use dti_proto::dti::verification::v1::{DecisionKind, IndicatorDecision};
use serde_json::{Map, Value};

use super::read_input;
use super::round_common::MAX_REASON_BYTES;
use crate::{tr, Failure};

/// A validated decisions file.
#[derive(Debug, Clone, Default)]
pub struct DecisionsFile {
    /// Accept every other undecided indicator of each named unit.
    pub accept_rest: bool,
    /// Each unit's decisions, in the file's order.
    pub units: Vec<UnitDecisions>,
}

/// One unit's decisions from the file.
#[derive(Debug, Clone)]
pub struct UnitDecisions {
    /// The unit id.
    pub unit: String,
    /// The version the verifier reviewed, when the file names it.
    pub version: Option<u32>,
    /// The decisions, in the framework's order, ready to send.
    pub decisions: Vec<IndicatorDecision>,
}

/// Reads and validates a decisions file for the round `year`/`framework`; every problem
/// found is listed (exit code 2). Warnings on verified values are printed to stderr.
pub fn load(path: &Path, year: u32, framework: &Framework) -> Result<DecisionsFile, Failure> {
    let text = read_input(path)?;
    let document: Value = serde_json::from_str(&text).map_err(|error| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-not-json",
            path = path.display().to_string(),
            error = error.to_string()
        )])
    })?;
    let mut problems = Vec::new();
    let file = parse(&document, year, framework, &mut problems);
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(Failure::InvalidInput(problems))
    }
}

fn unknown_keys(
    object: &Map<String, Value>,
    known: &[&str],
    place: &str,
    problems: &mut Vec<String>,
) {
    for key in object.keys().filter(|key| !known.contains(&key.as_str())) {
        problems.push(format!(
            "{place}{key}: {}",
            tr!("dtictl-unknown-field", known = known.join(", "))
        ));
    }
}

/// Validates a decisions document, adding one line per problem to `problems`.
pub fn parse(
    document: &Value,
    year: u32,
    framework: &Framework,
    problems: &mut Vec<String>,
) -> DecisionsFile {
    let mut file = DecisionsFile::default();
    let Some(top) = document.as_object() else {
        problems.push(tr!("dtictl-decisions-not-object"));
        return file;
    };
    unknown_keys(top, &["round", "accept_rest", "units"], "", problems);
    if let Some(round) = top.get("round") {
        check_round(round, year, framework, problems);
    }
    match top.get("accept_rest") {
        None => {}
        Some(Value::Bool(accept)) => file.accept_rest = *accept,
        Some(_) => problems.push(format!("accept_rest: {}", tr!("dtictl-must-be-bool"))),
    }
    let Some(units) = top.get("units").and_then(Value::as_object) else {
        problems.push(format!("units: {}", tr!("dtictl-decisions-units-object")));
        return file;
    };
    if units.is_empty() {
        problems.push(format!("units: {}", tr!("dtictl-decisions-no-unit")));
    }
    for (unit, entry) in units {
        if let Some(decided) = parse_unit(unit, entry, framework, file.accept_rest, problems) {
            file.units.push(decided);
        }
    }
    file
}

fn check_round(round: &Value, year: u32, framework: &Framework, problems: &mut Vec<String>) {
    let file_year = round.get("year").and_then(Value::as_u64);
    let file_framework = round.get("framework").and_then(Value::as_str);
    match (file_year, file_framework) {
        (Some(file_year), Some(file_framework)) => {
            if file_year != u64::from(year) || file_framework != framework.id.as_str() {
                problems.push(tr!(
                    "dtictl-decisions-other-round",
                    file = format!("{file_year}/{file_framework}"),
                    command = format!("{year}/{}", framework.id)
                ));
            }
        }
        _ => problems.push(tr!("dtictl-decisions-round-shape")),
    }
}

fn parse_unit(
    unit: &str,
    entry: &Value,
    framework: &Framework,
    accept_rest: bool,
    problems: &mut Vec<String>,
) -> Option<UnitDecisions> {
    let place = format!("unit {unit}");
    if super::round_common::unit_id("", unit).is_err() {
        problems.push(format!("{place}: {}", tr!("dtictl-not-registry-unit")));
    }
    let Some(entry) = entry.as_object() else {
        problems.push(format!("{place}: {}", tr!("dtictl-decisions-unit-shape")));
        return None;
    };
    unknown_keys(
        entry,
        &["version", "indicators"],
        &format!("{place} / "),
        problems,
    );
    let version = match entry.get("version") {
        None => None,
        Some(value) => match value.as_u64().and_then(|v| u32::try_from(v).ok()) {
            Some(version) if version >= 1 => Some(version),
            _ => {
                problems.push(format!(
                    "{place} / version: {}",
                    tr!("dtictl-decisions-version")
                ));
                None
            }
        },
    };
    let empty = Map::new();
    let indicators = match entry.get("indicators") {
        Some(Value::Object(indicators)) => indicators,
        None if accept_rest => &empty,
        _ => {
            problems.push(format!(
                "{place} / indicators: {}",
                tr!("dtictl-decisions-indicators-object")
            ));
            return None;
        }
    };
    if indicators.is_empty() && !accept_rest {
        problems.push(format!(
            "{place} / indicators: {}",
            tr!("dtictl-decisions-no-indicator")
        ));
    }
    let mut decisions: Vec<(usize, IndicatorDecision)> = Vec::new();
    for (code, decision) in indicators {
        let place = format!("{place} / indicator {code}");
        let Some((position, indicator)) = framework
            .indicators
            .iter()
            .enumerate()
            .find(|(_, i)| i.code.as_str() == code)
            .filter(|(_, i)| i.rule.is_some() && i.parent.is_none())
        else {
            problems.push(format!(
                "{place}: {}",
                tr!(
                    "dtictl-decisions-not-scored",
                    framework = framework.id.to_string()
                )
            ));
            continue;
        };
        if let Some(decided) = parse_decision(unit, &place, indicator, decision, problems) {
            decisions.push((position, decided));
        }
    }
    decisions.sort_by_key(|(position, _)| *position);
    Some(UnitDecisions {
        unit: unit.to_owned(),
        version,
        decisions: decisions.into_iter().map(|(_, d)| d).collect(),
    })
}

fn parse_decision(
    unit: &str,
    place: &str,
    indicator: &dti_domain::framework::Indicator,
    decision: &Value,
    problems: &mut Vec<String>,
) -> Option<IndicatorDecision> {
    let Some(decision) = decision.as_object() else {
        problems.push(format!(
            "{place}: {}",
            tr!("dtictl-decisions-decision-shape")
        ));
        return None;
    };
    let before = problems.len();
    unknown_keys(
        decision,
        &["decision", "values", "not_applicable", "reason"],
        &format!("{place} / "),
        problems,
    );
    let reason = match decision.get("reason") {
        None => String::new(),
        Some(Value::String(reason)) => reason.trim().to_owned(),
        Some(_) => {
            problems.push(format!("{place} / reason: {}", tr!("dtictl-must-be-text")));
            String::new()
        }
    };
    if reason.len() > MAX_REASON_BYTES {
        problems.push(format!(
            "{place} / reason: {}",
            tr!("dtictl-reason-too-long", max = MAX_REASON_BYTES)
        ));
    }
    let not_applicable = match decision.get("not_applicable") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            problems.push(format!(
                "{place} / not_applicable: {}",
                tr!("dtictl-must-be-bool")
            ));
            false
        }
    };
    let values = decision.get("values");
    let kind = match decision.get("decision").and_then(Value::as_str) {
        Some("accept") => DecisionKind::Accepted,
        Some("adjust") => DecisionKind::Overridden,
        Some("evidence_insufficient") => DecisionKind::EvidenceInsufficient,
        _ => {
            problems.push(format!(
                "{place} / decision: {}",
                tr!("dtictl-decisions-kind")
            ));
            return None;
        }
    };
    if kind != DecisionKind::Accepted && reason.is_empty() {
        problems.push(format!(
            "{place} / reason: {}",
            tr!("dtictl-decisions-reason-needed")
        ));
    }
    let mut variables = HashMap::new();
    match kind {
        DecisionKind::Overridden => match (values, not_applicable) {
            (Some(_), true) => problems.push(format!(
                "{place} / values: {}",
                tr!("dtictl-decisions-values-and-na")
            )),
            (None, false) => problems.push(format!(
                "{place} / values: {}",
                tr!("dtictl-decisions-values-needed")
            )),
            (None, true) => {}
            (Some(Value::Object(values)), false) => {
                let decoded = decode_indicator_values(
                    unit,
                    indicator,
                    values
                        .iter()
                        .map(|(name, value)| (name.clone(), value.clone())),
                );
                for issue in decoded.issues.iter().filter(|issue| !issue.is_error()) {
                    eprintln!("{issue}");
                }
                problems.extend(
                    decoded
                        .issues
                        .iter()
                        .filter(|issue| issue.is_error())
                        .map(InputIssue::to_string),
                );
                if let Some(values) = decoded.value {
                    variables = values
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.to_string(),
                                dti_proto::convert::variable_to_proto(value),
                            )
                        })
                        .collect();
                }
            }
            (Some(_), false) => problems.push(format!(
                "{place} / values: {}",
                tr!("dtictl-decisions-values-object")
            )),
        },
        _ => {
            if values.is_some() || not_applicable {
                problems.push(format!(
                    "{place} / values: {}",
                    tr!("dtictl-decisions-values-only-adjust")
                ));
            }
        }
    }
    (problems.len() == before).then(|| IndicatorDecision {
        indicator_code: indicator.code.to_string(),
        kind: kind as i32,
        variables,
        not_applicable: kind == DecisionKind::Overridden && not_applicable,
        reason,
    })
}

/// The codes of `decisions`, to tell which indicators a unit's file entry names.
pub fn named(decisions: &[IndicatorDecision]) -> BTreeSet<&str> {
    decisions
        .iter()
        .map(|d| d.indicator_code.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use serde_json::json;

    fn district() -> std::sync::Arc<Framework> {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        std::sync::Arc::clone(catalog.get_str("hcm-2023-district").expect("district"))
    }

    #[test]
    fn the_sample_file_is_valid_for_the_district_framework() {
        let framework = district();
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/samples/hcm-2023-districts-decisions.json");
        let file = load(&path, 2023, &framework).expect("a valid sample");
        assert!(file.accept_rest);
        assert!(file.units.len() >= 2);
        assert!(file.units.iter().all(|unit| !unit.decisions.is_empty()));
    }

    #[test]
    fn every_problem_names_unit_indicator_and_field() {
        let framework = district();
        let document = json!({
            "round": {"year": 2022, "framework": "hcm-2023-district"},
            "units": {
                "quan-1": {"indicators": {
                    "1.2": {"decision": "adjust", "values": {"a": 5, "b": "many"}, "reason": "x"},
                    "2.1": {"decision": "evidence_insufficient"},
                    "99.9": {"decision": "accept"},
                    "1.4": {"decision": "maybe"},
                    "1.1": {"decision": "accept", "values": {"head_role": "head"}}
                }},
                "quan-3": {"version": 0, "indicators": {}},
                "quan-99": {"indicators": {"1.1": {"decision": "accept"}}}
            }
        });
        let mut problems = Vec::new();
        parse(&document, 2023, &framework, &mut problems);
        let expected = [
            "round:",
            "unit quan-1, indicator 1.2, variable b:",
            "unit quan-1 / indicator 2.1 / reason:",
            "unit quan-1 / indicator 99.9:",
            "unit quan-1 / indicator 1.4 / decision:",
            "unit quan-1 / indicator 1.1 / values:",
            "unit quan-3 / version:",
            "unit quan-3 / indicators:",
            "unit quan-99:",
        ];
        for start in expected {
            assert!(
                problems.iter().any(|p| p.starts_with(start)),
                "{start} in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    }
}
