//! Carrying decisions forward to a resubmitted version: a decision stands for every indicator
//! whose entry did not change.

use std::collections::BTreeMap;

use dti_domain::IndicatorCode;

use crate::model::{NewDecision, Reported, StoredDecision};

/// Decisions of the previous version to carry to the current one: for every indicator whose
/// entry did not change (both reported identically, or both not reported) and that has no
/// decision on the current version yet.
pub fn carried_forward(
    previous: &BTreeMap<IndicatorCode, Reported>,
    current: &BTreeMap<IndicatorCode, Reported>,
    previous_decisions: &BTreeMap<IndicatorCode, StoredDecision>,
    current_decisions: &BTreeMap<IndicatorCode, StoredDecision>,
) -> Vec<NewDecision> {
    previous_decisions
        .iter()
        .filter(|(code, _)| !current_decisions.contains_key(*code))
        .filter(|(code, _)| previous.get(*code) == current.get(*code))
        .map(|(code, stored)| NewDecision {
            code: code.clone(),
            decision: stored.decision.clone(),
            reason: stored.reason.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use dti_domain::framework::Framework;
    use dti_domain::{FrameworkCatalog, UnitId};
    use dti_scores::inputs::decode_values;
    use serde_json::{json, Value};
    use std::sync::Arc;

    use crate::model::Decision;

    fn district() -> Arc<Framework> {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        Arc::clone(catalog.get_str("hcm-2023-district").expect("district"))
    }

    fn unit() -> UnitId {
        UnitId::parse("quan-1").expect("id")
    }

    #[test]
    fn decisions_carry_forward_only_where_nothing_changed() {
        let framework = district();
        let unit = unit();
        let code = |c: &str| IndicatorCode::parse(c).expect("code");
        let values = |json: Value| {
            let Value::Object(map) = json else {
                panic!("object")
            };
            decode_values(
                &unit,
                "1.2",
                framework.indicator_by_str("1.2").expect("1.2"),
                map,
            )
            .expect("valid")
        };
        let stored = |decision: Decision| StoredDecision {
            decision,
            reason: Some("r".into()),
            decided_by: "v".into(),
            decided_at: Utc::now(),
        };
        let previous = BTreeMap::from([
            (
                code("1.2"),
                Reported::Values(values(json!({"a": 7, "b": 34}))),
            ),
            (code("7.3"), Reported::NotApplicable("none".into())),
        ]);
        let current = BTreeMap::from([
            (
                code("1.2"),
                Reported::Values(values(json!({"a": 9, "b": 34}))),
            ),
            (code("7.3"), Reported::NotApplicable("none".into())),
        ]);
        let previous_decisions = BTreeMap::from([
            (code("1.2"), stored(Decision::EvidenceInsufficient)),
            (code("7.3"), stored(Decision::Accepted)),
            (code("2.1"), stored(Decision::EvidenceInsufficient)),
            (code("1.1"), stored(Decision::Accepted)),
        ]);
        let current_decisions = BTreeMap::from([(code("1.1"), stored(Decision::Accepted))]);
        let carried = carried_forward(&previous, &current, &previous_decisions, &current_decisions);
        let codes: Vec<&str> = carried.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["2.1", "7.3"], "1.2 changed; 1.1 is decided already");
    }
}
