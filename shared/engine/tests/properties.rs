//! Property tests over generated cohorts: every score lies in [0, points], groups and totals
//! add the rounded indicator scores, ranks follow totals, outcomes follow the input, and a
//! unit's scores do not depend on the order of the cohort. Per rule kind: every indicator of
//! every built-in framework, with random valid values (counts from 0 to the bound included),
//! scores within [0, points], and the monotone kinds are monotone: a fraction rule's score
//! (`ratio`, `target`, `all_or_nothing`, `tiers_3_3`, `split_halves`) does not decrease when a
//! numerator grows with its denominator fixed, nor `growth`'s when the current value grows
//! with the previous one fixed, nor `portal_posts`' when the posts grow.

mod support;

use dti_domain::framework::{Framework, Rule};
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::values::{decode_cohort, MAX_WHOLE};
use dti_domain::{FrameworkCatalog, VariableName};
use dti_engine::{score_cohort, Explain, Outcome, Points};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::*;

fn options(units: usize, seed: u64, missing: u64, na: u64) -> SampleOptions {
    SampleOptions {
        units,
        seed,
        missing_percent: missing,
        not_applicable_percent: na,
        ..SampleOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scores_stay_within_points_and_add_up(
        framework in prop_oneof![Just(DISTRICT), Just(DEPARTMENT)],
        units in 1usize..30,
        seed in any::<u64>(),
        missing in 0u64..40,
        na in 0u64..20,
    ) {
        let catalog = catalog();
        let fw = catalog.get_str(framework).unwrap();
        let document = sample_cohort(fw, &options(units, seed, missing, na));
        let scored = score(document.clone());
        prop_assert_eq!(scored.units.len(), units);
        for (unit, input) in scored.units.iter().zip(document["units"].as_array().unwrap()) {
            for score in &unit.indicators {
                let max = fw.indicator(&score.code).unwrap().points.round_half_up_cents();
                prop_assert!(score.score >= Points::ZERO && score.score.cents() <= max,
                    "{} {} = {} outside [0, {}]", unit.unit, score.code, score.score, max);
                let code = score.code.as_str();
                let expected_outcome = if input["not_applicable"].as_array().unwrap().iter().any(|c| c == code) {
                    Outcome::NotApplicable
                } else if input["values"].get(code).is_some() {
                    Outcome::Scored
                } else {
                    Outcome::Missing
                };
                prop_assert_eq!(score.explanation.as_ref().unwrap().outcome, expected_outcome);
                match expected_outcome {
                    Outcome::NotApplicable => prop_assert_eq!(score.score.cents(), max),
                    Outcome::Missing => prop_assert_eq!(score.score, Points::ZERO),
                    Outcome::Scored => {}
                }
            }
            for group in &unit.groups {
                let sum: Points = unit.indicators.iter().filter(|i| i.group == group.code).map(|i| i.score).sum();
                prop_assert_eq!(group.score, sum);
            }
            prop_assert_eq!(unit.total, unit.groups.iter().map(|g| g.score).sum::<Points>());
        }
        for a in &scored.units {
            let better = scored.units.iter().filter(|b| b.total > a.total).count();
            prop_assert_eq!(a.rank as usize, better + 1);
        }
    }

    #[test]
    fn scores_do_not_depend_on_cohort_order(units in 2usize..20, seed in any::<u64>(), rotate in 1usize..19) {
        let catalog = catalog();
        let fw = catalog.get_str(DISTRICT).unwrap();
        let document = sample_cohort(fw, &options(units, seed, 5, 3));
        let mut rotated = document.clone();
        rotated["units"].as_array_mut().unwrap().rotate_left(rotate % units);
        let first = score(document);
        let second = score(rotated);
        for unit in &first.units {
            let other = second.units.iter().find(|u| u.unit == unit.unit).unwrap();
            prop_assert_eq!(unit, other);
        }
    }
}

/// The rounded score (in cents) of one indicator of a one-unit cohort with `values`, or
/// `None` when the values are refused.
fn score_one(
    catalog: &FrameworkCatalog,
    framework: &Framework,
    code: &str,
    values: &Value,
) -> Option<i64> {
    let document = json!({"framework": framework.id.to_string(), "units": [{"unit": "U", "values": {code: values}}]});
    let cohort = decode_cohort(&document.to_string(), catalog).value?;
    let scored = score_cohort(&cohort, Explain::ScoresOnly).expect("validated cohorts score");
    Some(find(&scored.units[0], code).score.cents())
}

/// Count variables of `values` replaced by extremes or random whole numbers within bounds.
fn with_random_counts(values: &Value, picks: &[u64]) -> Value {
    let mut values = values.clone();
    if let Some(object) = values.as_object_mut() {
        for (i, value) in object.values_mut().filter(|v| v.is_u64()).enumerate() {
            let pick = picks[i % picks.len()];
            *value = json!(match pick % 5 {
                0 => 0,
                1 => MAX_WHOLE,
                2 => pick % 1_000,
                3 => pick % (MAX_WHOLE + 1),
                _ => value.as_u64().unwrap(),
            });
        }
    }
    values
}

/// The count variables whose growth may not lower the indicator's score (with what they are
/// divided by held fixed).
fn monotone_variables(rule: &Rule) -> Vec<&VariableName> {
    match rule {
        Rule::Ratio(_)
        | Rule::Target(_)
        | Rule::AllOrNothing(_)
        | Rule::Tiers(_)
        | Rule::SplitHalves(_) => rule
            .fractions()
            .into_iter()
            .flat_map(|(numerator, _)| numerator.iter())
            .collect(),
        Rule::Growth(g) => vec![&g.current],
        Rule::PortalPosts(p) => vec![&p.count],
        _ => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_rule_kind_scores_within_points_and_monotone_kinds_are_monotone(
        seed in any::<u64>(),
        picks in prop::collection::vec(any::<u64>(), 1..8),
        growth in prop_oneof![1u64..10, 1u64..1_000_000, Just(MAX_WHOLE)],
    ) {
        let catalog = catalog();
        let mut kinds = BTreeSet::new();
        let mut monotone = BTreeSet::new();
        for framework in catalog.iter().filter(|f| f.scored) {
            let options = SampleOptions { units: 1, seed, missing_percent: 0, not_applicable_percent: 0, ..SampleOptions::default() };
            let document = sample_cohort(framework, &options);
            let values = &document["units"][0]["values"];
            for indicator in &framework.indicators {
                let Some(rule) = &indicator.rule else { continue };
                if rule.is_cohort_dependent() {
                    continue;
                }
                let code = indicator.code.as_str();
                let Some(sampled) = values.get(code) else { continue };
                let max = indicator.points.round_half_up_cents();
                let mut tried = vec![sampled.clone(), with_random_counts(sampled, &picks)];
                tried.push(with_random_counts(sampled, &picks.iter().map(|p| p.rotate_left(7)).collect::<Vec<_>>()));
                for input in &tried {
                    let Some(score) = score_one(&catalog, framework, code, input) else { continue };
                    kinds.insert(rule.kind_name());
                    prop_assert!((0..=max).contains(&score), "{} {} ({}) scored {} cents of {} for {}", framework.id, code, rule.kind_name(), score, max, input);
                    for variable in monotone_variables(rule) {
                        let Some(before) = input.get(variable.as_str()).and_then(Value::as_u64) else { continue };
                        let mut grown = input.clone();
                        grown[variable.as_str()] = json!(before.saturating_add(growth).min(MAX_WHOLE));
                        let Some(after) = score_one(&catalog, framework, code, &grown) else { continue };
                        monotone.insert(rule.kind_name());
                        prop_assert!(after >= score, "{} {} ({}): {} growing from {} lowered the score from {} to {} cents ({})",
                            framework.id, code, rule.kind_name(), variable.as_str(), before, score, after, grown);
                    }
                }
            }
        }
        let every_kind: BTreeSet<&str> = catalog
            .iter()
            .filter(|f| f.scored)
            .flat_map(|f| f.indicators.iter().filter_map(|i| i.rule.as_ref()))
            .filter(|rule| !rule.is_cohort_dependent())
            .map(Rule::kind_name)
            .collect();
        prop_assert_eq!(&kinds, &every_kind, "every rule kind of the built-in frameworks is scored");
        for kind in ["ratio", "target", "growth", "portal_posts"] {
            prop_assert!(monotone.contains(kind), "no {} indicator was checked for monotony: {:?}", kind, monotone);
        }
    }
}
