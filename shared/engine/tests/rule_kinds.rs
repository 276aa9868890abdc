//! Every rule kind of the scoring contract, each threshold hit exactly, and rounding: a table
//! of cases (indicator, values, expected score) checked in one loop, then what the
//! explanations and the group and total sums say.

mod support;

use serde_json::{json, Value};
use support::*;

/// One indicator scored on its own: what it exercises, where, its values and the score.
struct Case {
    what: &'static str,
    framework: &'static str,
    code: &'static str,
    values: Value,
    expected: &'static str,
}

fn case(
    what: &'static str,
    framework: &'static str,
    code: &'static str,
    values: Value,
    expected: &'static str,
) -> Case {
    Case {
        what,
        framework,
        code,
        values,
        expected,
    }
}

/// `has_section` and `posts` of the district portal indicator 1.4.
fn posts(has_section: bool, posts: u64) -> Value {
    json!({"has_section": has_section, "posts": posts})
}

/// `meets_requirements` and `ipv6` of the department portal indicator 6.1.
fn tech(meets: bool, ipv6: bool) -> Value {
    json!({"meets_requirements": meets, "ipv6": ipv6})
}

/// 25 effective activities: more than 8.5's maximum.
fn many_activities() -> Value {
    let many: Vec<_> = (0..25)
        .map(|_| json!({"reports": 5, "resolved": 5}))
        .collect();
    json!({ "activities": many })
}

fn cases() -> Vec<Case> {
    let (d, p) = (DISTRICT, DEPARTMENT);
    vec![
        // ratio multiplies points and caps at one
        case("ratio", d, "1.2", json!({"a": 133, "b": 190}), "7.00"),
        case("ratio", d, "1.2", json!({"a": 0, "b": 190}), "0.00"),
        case(
            "ratio capped",
            d,
            "1.2",
            json!({"a": 250, "b": 190}),
            "10.00",
        ),
        case(
            "ratio",
            d,
            "4.3",
            json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 10, "f": 10}),
            "5.00",
        ),
        case(
            "ratio",
            p,
            "6.3",
            json!({"a": 10, "b": 30, "c": 5, "d": 15}),
            "5.00",
        ),
        // target: 90 % (department and district 6.4 are b/a)
        case("target 90 %", p, "6.4", json!({"a": 100, "b": 90}), "5.00"),
        case("target 90 %", p, "6.4", json!({"a": 100, "b": 89}), "4.94"),
        // target: 80 % (6.14)
        case(
            "target 80 %",
            d,
            "6.14",
            json!({"a": 80, "b": 100}),
            "10.00",
        ),
        case("target 80 %", d, "6.14", json!({"a": 79, "b": 100}), "9.88"),
        // target: 50 % (4.7, 7.1, 8.3; district 6.3 is (b+c)/a)
        case("target 50 %", d, "4.7", json!({"a": 50, "b": 100}), "5.00"),
        case("target 50 %", d, "4.7", json!({"a": 49, "b": 100}), "4.90"),
        case("target 50 %", d, "7.1", json!({"a": 1, "b": 2}), "30.00"),
        case(
            "target 50 %",
            d,
            "6.3",
            json!({"a": 100, "b": 30, "c": 20}),
            "20.00",
        ),
        case(
            "target 50 %",
            d,
            "6.3",
            json!({"a": 100, "b": 30, "c": 19}),
            "19.60",
        ),
        // target: 60 % (8.2) and 70 % (8.4)
        case("target 60 %", d, "8.2", json!({"a": 60, "b": 100}), "20.00"),
        case("target 60 %", d, "8.2", json!({"a": 59, "b": 100}), "19.67"),
        case("target 70 %", d, "8.4", json!({"a": 70, "b": 100}), "10.00"),
        case("target 70 %", d, "8.4", json!({"a": 69, "b": 100}), "9.86"),
        // target: 80 % on 7.2
        case("target 80 %", d, "7.2", json!({"a": 4, "b": 5}), "30.00"),
        // all or nothing earns points from exactly 80 %
        case(
            "all or nothing",
            d,
            "3.1",
            json!({"a": 80, "b": 100}),
            "5.00",
        ),
        case(
            "all or nothing",
            d,
            "3.1",
            json!({"a": 79, "b": 100}),
            "0.00",
        ),
        case("all or nothing", p, "3.2", json!({"a": 4, "b": 5}), "5.00"),
        case(
            "all or nothing",
            p,
            "3.2",
            json!({"a": 399, "b": 500}),
            "0.00",
        ),
        // tiers at 50 and 80 %
        case("tiers", d, "3.3", json!({"a": 81, "b": 100}), "30.00"),
        case("tiers", d, "3.3", json!({"a": 80, "b": 100}), "15.00"),
        case("tiers", d, "3.3", json!({"a": 50, "b": 100}), "15.00"),
        case("tiers", d, "3.3", json!({"a": 49, "b": 100}), "0.00"),
        case("tiers", p, "3.3", json!({"a": 801, "b": 1000}), "30.00"),
        case("tiers", p, "3.3", json!({"a": 499, "b": 1000}), "0.00"),
        // split halves adds two clamped halves
        case(
            "split halves",
            d,
            "3.4",
            json!({"a": 7, "b": 7, "c": 0, "d": 2}),
            "15.00",
        ),
        case(
            "split halves",
            d,
            "3.4",
            json!({"a": 1, "b": 7, "c": 0, "d": 2}),
            "2.14",
        ),
        case(
            "split halves",
            d,
            "3.4",
            json!({"a": 9, "b": 7, "c": 2, "d": 2}),
            "30.00",
        ),
        // boolean and levels
        case("boolean", d, "2.3", json!({"yes": true}), "10.00"),
        case("boolean", d, "2.3", json!({"yes": false}), "0.00"),
        case("levels", d, "1.1", json!({"head_role": "head"}), "10.00"),
        case("levels", d, "1.1", json!({"head_role": "deputy"}), "5.00"),
        case("levels", d, "1.1", json!({"head_role": "none"}), "0.00"),
        case("levels", d, "1.5", json!({"frequency": "weekly"}), "20.00"),
        case("levels", d, "1.5", json!({"frequency": "monthly"}), "10.00"),
        case("levels", d, "1.5", json!({"frequency": "rarer"}), "0.00"),
        case("levels", d, "9.1", json!({"status": "deployed"}), "20.00"),
        case(
            "levels",
            d,
            "9.1",
            json!({"status": "in_progress"}),
            "10.00",
        ),
        case("levels", d, "9.1", json!({"status": "none"}), "0.00"),
        // portal posts bands
        case("portal posts", d, "1.4", posts(false, 50), "0.00"),
        case("portal posts", d, "1.4", posts(true, 20), "10.00"),
        case("portal posts", d, "1.4", posts(true, 19), "5.00"),
        case("portal posts", d, "1.4", posts(true, 10), "5.00"),
        case("portal posts", d, "1.4", posts(true, 9), "2.50"),
        case("portal posts", d, "1.4", posts(true, 0), "2.50"),
        // portal tech adds four fifths and one fifth
        case("portal tech", p, "6.1", tech(true, true), "10.00"),
        case("portal tech", p, "6.1", tech(true, false), "8.00"),
        case("portal tech", p, "6.1", tech(false, true), "2.00"),
        case("portal tech", p, "6.1", tech(false, false), "0.00"),
        // growth reaches full points at exactly 10 %
        case("growth", d, "6.13", json!({"a": 110, "b": 100}), "10.00"),
        case("growth", d, "6.13", json!({"a": 109, "b": 100}), "9.00"),
        case("growth", d, "6.13", json!({"a": 100, "b": 100}), "0.00"),
        case("growth", d, "6.13", json!({"a": 90, "b": 100}), "0.00"),
        case("growth", p, "6.13", json!({"a": 1001, "b": 1000}), "0.10"),
        case("growth", p, "6.13", json!({"a": 105, "b": 100}), "5.00"),
        // activities count effective ones up to the maximum
        case("activities", d, "8.5", json!({"activities": []}), "0.00"),
        case(
            "activities",
            d,
            "8.5",
            json!({"activities": [{"reports": 10, "resolved": 8}]}),
            "1.00",
        ),
        case(
            "activities",
            d,
            "8.5",
            json!({"activities": [{"reports": 10, "resolved": 7}]}),
            "0.00",
        ),
        case(
            "activities",
            d,
            "8.5",
            json!({"activities": [{"reports": 0, "resolved": 0}]}),
            "0.00",
        ),
        case("activities capped", d, "8.5", many_activities(), "20.00"),
        // rounding half up at the third decimal: 1/80 × 10 = 0.125 exactly gives 0.13
        // (half-even would give 0.12)
        case("half up", d, "1.2", json!({"a": 1, "b": 80}), "0.13"),
        // 3/8 × 5 = 1.875 → 1.88
        case("half up", d, "4.6", json!({"a": 3, "b": 8}), "1.88"),
        // 469/1000 × 5 = 2.345 → 2.35
        case("half up", d, "4.6", json!({"a": 469, "b": 1000}), "2.35"),
        // 2/3 × 10 = 6.666… → 6.67; 1/3 × 10 → 3.33
        case("rounding", d, "1.2", json!({"a": 2, "b": 3}), "6.67"),
        case("rounding", d, "1.2", json!({"a": 1, "b": 3}), "3.33"),
    ]
}

#[test]
fn every_rule_kind_scores_each_case_exactly() {
    let wrong: Vec<String> = cases()
        .into_iter()
        .filter_map(|case| {
            let got = points(case.framework, case.code, case.values.clone());
            (got != case.expected).then(|| {
                format!(
                    "{} {} {} {}: {got}, expected {}",
                    case.what, case.framework, case.code, case.values, case.expected
                )
            })
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_capped_ratio_says_it_was_clamped() {
    let capped = indicator(DISTRICT, "1.2", json!({"a": 250, "b": 190}));
    assert!(capped.explanation.as_ref().unwrap().clamped);
}

#[test]
fn activities_beyond_the_maximum_say_they_were_capped() {
    let explained = indicator(DISTRICT, "8.5", many_activities());
    assert!(matches!(
        explained.explanation.as_ref().unwrap().detail,
        dti_engine::Detail::Activities { capped: true, .. }
    ));
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
