//! The frozen form of a published result and its content hash.
//!
//! A snapshot is one JSON document holding everything the result rests on: the framework
//! (id, year, source and a SHA-256 of its full definition, so a later edit of the framework
//! file shows), the input of each unit (submission, version and decision revision), and every
//! unit's verified scores — each indicator with the engine's explanation, each group, the
//! total — and its competition rank. Units are listed best first (ties by unit id).
//!
//! The content hash is SHA-256 over the snapshot's canonical JSON (`dti_audit::canonical_json`:
//! keys sorted, no insignificant white space), so it survives PostgreSQL's JSONB, which
//! reorders keys. Anyone holding a snapshot can recompute it. Every number is an integer or a
//! string (scores as "12.34", exact ratios as "7/10"), never a float.

use chrono::{DateTime, SecondsFormat, Utc};
use dti_domain::framework::Framework;
use dti_domain::RoundRef;
use dti_engine::{CohortScores, UnitScore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::inputs::{RoundInputs, UnitInput};

/// Identifies the snapshot layout; a change of layout gets a new value.
pub const FORMAT: &str = "dti-publication/1";

/// What a revision is, besides its scores.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    /// The round.
    pub round: &'a RoundRef,
    /// Revision, from 1.
    pub revision: i32,
    /// Why it exists.
    pub reason: &'a str,
    /// Who published it.
    pub published_by: &'a str,
    /// When (microsecond precision, as stored).
    pub published_at: DateTime<Utc>,
}

/// SHA-256 of `value`'s canonical JSON.
pub fn content_hash(value: &Value) -> Vec<u8> {
    Sha256::digest(dti_audit::canonical_json(value).as_bytes()).to_vec()
}

/// The framework as the snapshot pins it.
pub fn framework_version(framework: &Framework) -> Value {
    let definition = serde_json::to_value(framework).unwrap_or(Value::Null);
    json!({
        "id": framework.id.as_str(),
        "year": framework.year,
        "title": framework.title,
        "source": framework.source,
        "total_points": framework.total_points.to_string(),
        "sha256": hex::encode(content_hash(&definition)),
    })
}

fn unit_entry(input: &UnitInput, score: &UnitScore) -> Value {
    let submission = input
        .submission
        .as_ref()
        .filter(|s| s.version >= 1)
        .map(|s| {
            json!({
                "submission_id": s.id.to_string(),
                "version": s.version,
                "decisions_revision": s.decisions_revision,
            })
        });
    json!({
        "unit": input.unit.as_str(),
        "rank": score.rank,
        "total": score.total,
        "total_cents": score.total.cents(),
        "input": submission,
        "groups": score.groups,
        "indicators": score.indicators,
    })
}

/// The snapshot of `scores` (the verified cohort of `inputs`, scored with explanations).
pub fn build(
    header: Header<'_>,
    framework: &Framework,
    inputs: &RoundInputs,
    scores: &CohortScores,
) -> Value {
    let mut units: Vec<(&UnitInput, &UnitScore)> =
        inputs.units.iter().zip(scores.units.iter()).collect();
    units.sort_by(|a, b| {
        a.1.rank
            .cmp(&b.1.rank)
            .then_with(|| a.0.unit.cmp(&b.0.unit))
    });
    json!({
        "format": FORMAT,
        "round": {"year": header.round.year, "framework": header.round.framework.as_str()},
        "revision": header.revision,
        "reason": header.reason,
        "published_by": header.published_by,
        "published_at": header.published_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "framework": framework_version(framework),
        "units": units.iter().map(|(input, score)| unit_entry(input, score)).collect::<Vec<_>>(),
    })
}

/// `(unit, total cents, rank)` of every unit, as `publication_ranks` stores them.
pub fn ranks(inputs: &RoundInputs, scores: &CohortScores) -> Vec<(String, i64, i32)> {
    inputs
        .units
        .iter()
        .zip(scores.units.iter())
        .map(|(input, score)| {
            (
                input.unit.to_string(),
                score.total.cents(),
                i32::try_from(score.rank).unwrap_or(i32::MAX),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use dti_domain::values::decode_cohort;
    use dti_domain::{FrameworkCatalog, UnitId};
    use dti_engine::{score_cohort, Explain};

    use crate::model::Reported;

    fn scored() -> (Arc<Framework>, RoundInputs, CohortScores) {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        let document = serde_json::json!({
            "framework": "hcm-2023-district",
            "units": [
                {"unit": "quan-3", "values": {"1.2": {"a": 3, "b": 10}, "5.1": {"a": 4}}},
                {"unit": "quan-1", "values": {"1.2": {"a": 9, "b": 10}, "5.1": {"a": 8}}},
                {"unit": "quan-4", "values": {}}
            ]
        });
        let decoded = decode_cohort(&document.to_string(), &catalog);
        let cohort = decoded.value.expect("a valid cohort");
        let framework = Arc::clone(&cohort.framework);
        let inputs = RoundInputs {
            framework: Arc::clone(&framework),
            units: cohort
                .units
                .iter()
                .map(|values| crate::inputs::UnitInput {
                    unit: values.unit.clone(),
                    submission: None,
                    reported: values
                        .values
                        .iter()
                        .map(|(code, v)| (code.clone(), Reported::Values(v.clone())))
                        .collect(),
                    decisions: BTreeMap::new(),
                    general_info: values.general_info.clone(),
                })
                .collect(),
        };
        let scores = score_cohort(&cohort, Explain::Full).expect("scores");
        (framework, inputs, scores)
    }

    #[test]
    fn the_snapshot_lists_units_best_first_with_explanations_and_a_stable_hash() {
        let (framework, inputs, scores) = scored();
        let round = RoundRef {
            year: 2023,
            framework: framework.id.clone(),
        };
        let header = Header {
            round: &round,
            revision: 1,
            reason: "initial publication",
            published_by: "approver-1",
            published_at: Utc::now(),
        };
        let snapshot = build(header, &framework, &inputs, &scores);
        let units = snapshot["units"].as_array().expect("units");
        let order: Vec<&str> = units.iter().filter_map(|u| u["unit"].as_str()).collect();
        assert_eq!(order, ["quan-1", "quan-3", "quan-4"]);
        assert_eq!(units[0]["rank"], 1);
        assert!(units[0]["indicators"][1]["explanation"]["summary"].is_string());
        assert_eq!(
            snapshot["framework"]["sha256"].as_str().map(str::len),
            Some(64)
        );

        // The hash does not depend on key order (JSONB reorders keys).
        let reparsed: Value =
            serde_json::from_str(&dti_audit::canonical_json(&snapshot)).expect("json");
        assert_eq!(content_hash(&reparsed), content_hash(&snapshot));
        let mut edited = snapshot.clone();
        edited["units"][0]["total"] = json!("999.99");
        assert_ne!(content_hash(&edited), content_hash(&snapshot));

        let ranks = ranks(&inputs, &scores);
        let quan_1 = ranks
            .iter()
            .find(|(u, _, _)| u == "quan-1")
            .expect("quan-1");
        assert_eq!(quan_1.2, 1);
        assert!(UnitId::parse(quan_1.0.clone()).is_ok());
    }
}
