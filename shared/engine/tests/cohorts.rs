//! Cohort-wide behaviour: min-max ranges, ties and competition ranks, the worked examples.

mod support;

use serde_json::{json, Value};
use support::*;

fn district_5_1(units: &[(&str, Option<u64>, bool)]) -> Value {
    let units: Vec<Value> = units
        .iter()
        .map(|(id, a, na)| {
            let values = match a {
                Some(a) => json!({"5.1": {"a": a}}),
                None => json!({}),
            };
            let not_applicable = if *na { json!(["5.1"]) } else { json!([]) };
            json!({"unit": id, "values": values, "not_applicable": not_applicable})
        })
        .collect();
    json!({"framework": DISTRICT, "units": units})
}

fn score_of(scored: &dti_engine::CohortScores, id: &str, code: &str) -> String {
    find(unit(scored, id), code).score.to_string()
}

#[test]
fn minmax_scales_between_cohort_min_and_max() {
    let scored = score(district_5_1(&[
        ("A", Some(12), false),
        ("B", Some(14), false),
        ("C", Some(35), false),
    ]));
    assert_eq!(score_of(&scored, "A", "5.1"), "0.00");
    assert_eq!(score_of(&scored, "B", "5.1"), "0.87");
    assert_eq!(score_of(&scored, "C", "5.1"), "10.00");
}

#[test]
fn minmax_all_equal_gives_points_when_positive_and_zero_when_zero() {
    let scored = score(district_5_1(&[
        ("A", Some(7), false),
        ("B", Some(7), false),
    ]));
    assert_eq!(score_of(&scored, "A", "5.1"), "10.00");
    assert_eq!(score_of(&scored, "B", "5.1"), "10.00");
    let scored = score(district_5_1(&[
        ("A", Some(0), false),
        ("B", Some(0), false),
    ]));
    assert_eq!(score_of(&scored, "A", "5.1"), "0.00");
    let alone = score(district_5_1(&[("A", Some(3), false), ("B", None, false)]));
    assert_eq!(score_of(&alone, "A", "5.1"), "10.00");
}

#[test]
fn minmax_ignores_units_without_values_and_not_applicable_units() {
    let scored = score(district_5_1(&[
        ("A", Some(10), false),
        ("B", Some(20), false),
        ("MISSING", None, false),
        ("NA", Some(1000), true),
    ]));
    assert_eq!(score_of(&scored, "A", "5.1"), "0.00");
    assert_eq!(score_of(&scored, "B", "5.1"), "10.00");
    assert_eq!(score_of(&scored, "MISSING", "5.1"), "0.00");
    assert_eq!(score_of(&scored, "NA", "5.1"), "10.00");
    match &find(unit(&scored, "B"), "5.1")
        .explanation
        .as_ref()
        .unwrap()
        .detail
    {
        dti_engine::Detail::MinMax {
            min,
            max,
            units_counted,
            ..
        } => {
            assert_eq!(
                (min.exact.as_str(), max.exact.as_str(), *units_counted),
                ("10", "20", 2)
            );
        }
        other => panic!("unexpected detail {other:?}"),
    }
}

#[test]
fn minmax_ratio_uses_the_clamped_ratio() {
    let unit = |id: &str, num: u64, den: u64| json!({"unit": id, "values": {"4.1": {"a": num, "b": 0, "c": 0, "d": 0, "e": den, "f": 0}}});
    let scored = score(
        json!({"framework": DEPARTMENT, "units": [unit("A", 1, 10), unit("B", 3, 10), unit("C", 5, 10)]}),
    );
    assert_eq!(score_of(&scored, "A", "4.1"), "0.00");
    assert_eq!(score_of(&scored, "B", "4.1"), "5.00");
    assert_eq!(score_of(&scored, "C", "4.1"), "10.00");
    // Ratios above 1 are clamped before min-max: 15/10 and 20/10 both count as 1.
    let scored = score(
        json!({"framework": DEPARTMENT, "units": [unit("A", 5, 10), unit("B", 15, 10), unit("C", 20, 10)]}),
    );
    assert_eq!(score_of(&scored, "A", "4.1"), "0.00");
    assert_eq!(score_of(&scored, "B", "4.1"), "10.00");
    assert_eq!(score_of(&scored, "C", "4.1"), "10.00");
}

#[test]
fn one_units_change_moves_every_minmax_score_of_the_cohort() {
    let before = score(district_5_1(&[
        ("A", Some(10), false),
        ("B", Some(15), false),
        ("C", Some(20), false),
    ]));
    let after = score(district_5_1(&[
        ("A", Some(10), false),
        ("B", Some(15), false),
        ("C", Some(30), false),
    ]));
    assert_eq!(score_of(&before, "B", "5.1"), "5.00");
    assert_eq!(score_of(&after, "B", "5.1"), "2.50");
}

#[test]
fn ties_share_a_rank_and_the_next_rank_is_skipped() {
    let u = |id: &str, yes: bool, head: &str| json!({"unit": id, "values": {"2.3": {"yes": yes}, "1.1": {"head_role": head}}});
    let scored = score(json!({"framework": DISTRICT, "units": [
        u("A", true, "deputy"), u("B", true, "head"), u("C", true, "deputy"), u("D", false, "none"), u("E", true, "head")]}));
    let ranks: Vec<(String, u32)> = scored
        .units
        .iter()
        .map(|u| (u.unit.to_string(), u.rank))
        .collect();
    assert_eq!(
        ranks,
        [("A", 3), ("B", 1), ("C", 3), ("D", 5), ("E", 1)]
            .map(|(u, r)| (u.to_string(), r))
            .to_vec()
    );
}

#[test]
fn an_empty_cohort_scores_to_no_units() {
    let scored = score(json!({"framework": DISTRICT, "units": []}));
    assert!(scored.units.is_empty());
}

#[test]
fn the_contract_worked_examples_match_to_the_cent() {
    for name in ["district", "department"] {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/contract");
        let input: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{root}/{name}-sample.json")).unwrap(),
        )
        .unwrap();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{root}/{name}-sample.expected.json")).unwrap(),
        )
        .unwrap();
        let scored = score(input);
        for (got, want) in scored
            .units
            .iter()
            .zip(expected["units"].as_array().unwrap())
        {
            assert_eq!(got.unit.as_str(), want["unit"]);
            for indicator in &got.indicators {
                assert_eq!(
                    indicator.score.to_string(),
                    want["indicators"][indicator.code.as_str()],
                    "{name} {} {}",
                    got.unit,
                    indicator.code
                );
            }
            for group in &got.groups {
                assert_eq!(
                    group.score.to_string(),
                    want["groups"][group.code.as_str()],
                    "{name} {} group {}",
                    got.unit,
                    group.code
                );
            }
            assert_eq!(got.total.to_string(), want["total"]);
            assert_eq!(u64::from(got.rank), want["rank"].as_u64().unwrap());
        }
    }
}
