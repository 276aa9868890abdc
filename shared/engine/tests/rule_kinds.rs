//! Every rule kind of the scoring contract, each threshold hit exactly, and rounding.

mod support;

use serde_json::json;
use support::*;

#[test]
fn ratio_multiplies_points_and_caps_at_one() {
    assert_eq!(points(DISTRICT, "1.2", json!({"a": 133, "b": 190})), "7.00");
    assert_eq!(points(DISTRICT, "1.2", json!({"a": 0, "b": 190})), "0.00");
    assert_eq!(
        points(DISTRICT, "1.2", json!({"a": 250, "b": 190})),
        "10.00"
    );
    assert_eq!(
        points(
            DISTRICT,
            "4.3",
            json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 10, "f": 10})
        ),
        "5.00"
    );
    assert_eq!(
        points(
            DEPARTMENT,
            "6.3",
            json!({"a": 10, "b": 30, "c": 5, "d": 15})
        ),
        "5.00"
    );
    let capped = indicator(DISTRICT, "1.2", json!({"a": 250, "b": 190}));
    assert!(capped.explanation.as_ref().unwrap().clamped);
}

#[test]
fn target_hits_each_threshold_exactly() {
    // 90 % (department and district 6.4 are b/a).
    assert_eq!(
        points(DEPARTMENT, "6.4", json!({"a": 100, "b": 90})),
        "5.00"
    );
    assert_eq!(
        points(DEPARTMENT, "6.4", json!({"a": 100, "b": 89})),
        "4.94"
    );
    // 80 % (6.14).
    assert_eq!(
        points(DISTRICT, "6.14", json!({"a": 80, "b": 100})),
        "10.00"
    );
    assert_eq!(points(DISTRICT, "6.14", json!({"a": 79, "b": 100})), "9.88");
    // 50 % (4.7, 7.1, 8.3; district 6.3 is (b+c)/a).
    assert_eq!(points(DISTRICT, "4.7", json!({"a": 50, "b": 100})), "5.00");
    assert_eq!(points(DISTRICT, "4.7", json!({"a": 49, "b": 100})), "4.90");
    assert_eq!(points(DISTRICT, "7.1", json!({"a": 1, "b": 2})), "30.00");
    assert_eq!(
        points(DISTRICT, "6.3", json!({"a": 100, "b": 30, "c": 20})),
        "20.00"
    );
    assert_eq!(
        points(DISTRICT, "6.3", json!({"a": 100, "b": 30, "c": 19})),
        "19.60"
    );
    // 60 % (8.2) and 70 % (8.4).
    assert_eq!(points(DISTRICT, "8.2", json!({"a": 60, "b": 100})), "20.00");
    assert_eq!(points(DISTRICT, "8.2", json!({"a": 59, "b": 100})), "19.67");
    assert_eq!(points(DISTRICT, "8.4", json!({"a": 70, "b": 100})), "10.00");
    assert_eq!(points(DISTRICT, "8.4", json!({"a": 69, "b": 100})), "9.86");
    // 80 % on 7.2.
    assert_eq!(points(DISTRICT, "7.2", json!({"a": 4, "b": 5})), "30.00");
}

#[test]
fn all_or_nothing_earns_points_from_exactly_80_percent() {
    assert_eq!(points(DISTRICT, "3.1", json!({"a": 80, "b": 100})), "5.00");
    assert_eq!(points(DISTRICT, "3.1", json!({"a": 79, "b": 100})), "0.00");
    assert_eq!(points(DEPARTMENT, "3.2", json!({"a": 4, "b": 5})), "5.00");
    assert_eq!(
        points(DEPARTMENT, "3.2", json!({"a": 399, "b": 500})),
        "0.00"
    );
}

#[test]
fn tiers_at_50_and_80_percent() {
    assert_eq!(points(DISTRICT, "3.3", json!({"a": 81, "b": 100})), "30.00");
    assert_eq!(points(DISTRICT, "3.3", json!({"a": 80, "b": 100})), "15.00");
    assert_eq!(points(DISTRICT, "3.3", json!({"a": 50, "b": 100})), "15.00");
    assert_eq!(points(DISTRICT, "3.3", json!({"a": 49, "b": 100})), "0.00");
    assert_eq!(
        points(DEPARTMENT, "3.3", json!({"a": 801, "b": 1000})),
        "30.00"
    );
    assert_eq!(
        points(DEPARTMENT, "3.3", json!({"a": 499, "b": 1000})),
        "0.00"
    );
}

#[test]
fn split_halves_adds_two_clamped_halves() {
    assert_eq!(
        points(DISTRICT, "3.4", json!({"a": 7, "b": 7, "c": 0, "d": 2})),
        "15.00"
    );
    assert_eq!(
        points(DISTRICT, "3.4", json!({"a": 1, "b": 7, "c": 0, "d": 2})),
        "2.14"
    );
    assert_eq!(
        points(DISTRICT, "3.4", json!({"a": 9, "b": 7, "c": 2, "d": 2})),
        "30.00"
    );
}

#[test]
fn boolean_and_levels() {
    assert_eq!(points(DISTRICT, "2.3", json!({"yes": true})), "10.00");
    assert_eq!(points(DISTRICT, "2.3", json!({"yes": false})), "0.00");
    assert_eq!(
        points(DISTRICT, "1.1", json!({"head_role": "head"})),
        "10.00"
    );
    assert_eq!(
        points(DISTRICT, "1.1", json!({"head_role": "deputy"})),
        "5.00"
    );
    assert_eq!(
        points(DISTRICT, "1.1", json!({"head_role": "none"})),
        "0.00"
    );
    assert_eq!(
        points(DISTRICT, "1.5", json!({"frequency": "weekly"})),
        "20.00"
    );
    assert_eq!(
        points(DISTRICT, "1.5", json!({"frequency": "monthly"})),
        "10.00"
    );
    assert_eq!(
        points(DISTRICT, "1.5", json!({"frequency": "rarer"})),
        "0.00"
    );
    assert_eq!(
        points(DISTRICT, "9.1", json!({"status": "deployed"})),
        "20.00"
    );
    assert_eq!(
        points(DISTRICT, "9.1", json!({"status": "in_progress"})),
        "10.00"
    );
    assert_eq!(points(DISTRICT, "9.1", json!({"status": "none"})), "0.00");
}

#[test]
fn portal_posts_bands() {
    let posts = |section: bool, n: u64| {
        points(DISTRICT, "1.4", json!({"has_section": section, "posts": n}))
    };
    assert_eq!(posts(false, 50), "0.00");
    assert_eq!(posts(true, 20), "10.00");
    assert_eq!(posts(true, 19), "5.00");
    assert_eq!(posts(true, 10), "5.00");
    assert_eq!(posts(true, 9), "2.50");
    assert_eq!(posts(true, 0), "2.50");
}

#[test]
fn portal_tech_adds_four_fifths_and_one_fifth() {
    let tech = |meets: bool, ipv6: bool| {
        points(
            DEPARTMENT,
            "6.1",
            json!({"meets_requirements": meets, "ipv6": ipv6}),
        )
    };
    assert_eq!(tech(true, true), "10.00");
    assert_eq!(tech(true, false), "8.00");
    assert_eq!(tech(false, true), "2.00");
    assert_eq!(tech(false, false), "0.00");
}

#[test]
fn growth_reaches_full_points_at_exactly_10_percent() {
    assert_eq!(
        points(DISTRICT, "6.13", json!({"a": 110, "b": 100})),
        "10.00"
    );
    assert_eq!(
        points(DISTRICT, "6.13", json!({"a": 109, "b": 100})),
        "9.00"
    );
    assert_eq!(
        points(DISTRICT, "6.13", json!({"a": 100, "b": 100})),
        "0.00"
    );
    assert_eq!(points(DISTRICT, "6.13", json!({"a": 90, "b": 100})), "0.00");
    assert_eq!(
        points(DEPARTMENT, "6.13", json!({"a": 1001, "b": 1000})),
        "0.10"
    );
    assert_eq!(
        points(DEPARTMENT, "6.13", json!({"a": 105, "b": 100})),
        "5.00"
    );
}

#[test]
fn activities_count_effective_ones_up_to_the_maximum() {
    let acts = |list: serde_json::Value| points(DISTRICT, "8.5", json!({ "activities": list }));
    assert_eq!(acts(json!([])), "0.00");
    assert_eq!(acts(json!([{"reports": 10, "resolved": 8}])), "1.00");
    assert_eq!(acts(json!([{"reports": 10, "resolved": 7}])), "0.00");
    assert_eq!(acts(json!([{"reports": 0, "resolved": 0}])), "0.00");
    let many: Vec<_> = (0..25)
        .map(|_| json!({"reports": 5, "resolved": 5}))
        .collect();
    assert_eq!(acts(json!(many)), "20.00");
    let explained = indicator(DISTRICT, "8.5", json!({ "activities": many }));
    assert!(matches!(
        explained.explanation.as_ref().unwrap().detail,
        dti_engine::Detail::Activities { capped: true, .. }
    ));
}

#[test]
fn rounds_half_up_at_the_third_decimal() {
    // 1/80 × 10 = 0.125 exactly: half up gives 0.13 (half-even would give 0.12).
    assert_eq!(points(DISTRICT, "1.2", json!({"a": 1, "b": 80})), "0.13");
    // 3/8 × 5 = 1.875 → 1.88.
    assert_eq!(points(DISTRICT, "4.6", json!({"a": 3, "b": 8})), "1.88");
    // 469/1000 × 5 = 2.345 → 2.35.
    assert_eq!(
        points(DISTRICT, "4.6", json!({"a": 469, "b": 1000})),
        "2.35"
    );
    // 2/3 × 10 = 6.666… → 6.67; 1/3 × 10 → 3.33.
    assert_eq!(points(DISTRICT, "1.2", json!({"a": 2, "b": 3})), "6.67");
    assert_eq!(points(DISTRICT, "1.2", json!({"a": 1, "b": 3})), "3.33");
}

#[test]
fn groups_and_totals_add_rounded_indicator_scores() {
    // Three indicators of 1/3 × 10 = 3.333… each: the group is 3 × 3.33 = 9.99, not 10.00.
    let scored = score(
        json!({"framework": DISTRICT, "units": [{"unit": "U", "values": {
        "1.2": {"a": 1, "b": 3}, "1.3": {"a": 1, "b": 3}}, "not_applicable": []}]}),
    );
    let u = unit(&scored, "U");
    let group1 = u.groups.iter().find(|g| g.code.as_str() == "1").unwrap();
    assert_eq!(group1.score.to_string(), "6.66");
    assert_eq!(u.total.to_string(), "6.66");
    assert_eq!(u.indicators.len(), 51);
    assert_eq!(u.groups.len(), 9);
}

#[test]
fn missing_not_applicable_and_real_zero_are_distinct() {
    let scored = score(json!({"framework": DISTRICT, "units": [{"unit": "U",
        "values": {"2.3": {"yes": false}}, "not_applicable": ["2.2"]}]}));
    let u = unit(&scored, "U");
    let zero = find(u, "2.3");
    let na = find(u, "2.2");
    let missing = find(u, "2.1");
    assert_eq!(
        (
            zero.score.to_string(),
            na.score.to_string(),
            missing.score.to_string()
        ),
        ("0.00".into(), "5.00".into(), "0.00".into())
    );
    assert_eq!(
        zero.explanation.as_ref().unwrap().outcome,
        dti_engine::Outcome::Scored
    );
    assert_eq!(
        na.explanation.as_ref().unwrap().outcome,
        dti_engine::Outcome::NotApplicable
    );
    assert_eq!(
        missing.explanation.as_ref().unwrap().outcome,
        dti_engine::Outcome::Missing
    );
}

#[test]
fn explanation_names_rule_inputs_ratio_and_threshold() {
    let explained = indicator(DISTRICT, "8.2", json!({"a": 30, "b": 100}))
        .explanation
        .unwrap();
    assert_eq!(explained.kind, "target");
    assert_eq!(explained.inputs.len(), 2);
    assert_eq!(explained.ratio.as_ref().unwrap().exact, "3/10");
    assert_eq!(explained.raw.exact, "10");
    assert_eq!(explained.rounded.to_string(), "10.00");
    match explained.detail {
        dti_engine::Detail::Threshold { threshold, reached } => {
            assert_eq!(threshold.decimal, "0.6");
            assert!(!reached);
        }
        other => panic!("unexpected detail {other:?}"),
    }
    assert!(
        explained.summary.contains("a/b = 30/100"),
        "{}",
        explained.summary
    );
}
