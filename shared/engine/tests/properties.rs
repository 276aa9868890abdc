//! Property tests over generated cohorts: every score lies in [0, points], groups and totals
//! add the rounded indicator scores, ranks follow totals, outcomes follow the input, and a
//! unit's scores do not depend on the order of the cohort.

mod support;

use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_engine::{Outcome, Points};
use proptest::prelude::*;
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
