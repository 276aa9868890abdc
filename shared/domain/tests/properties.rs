//! Property tests of everything the domain decodes or loads: any JSON value decoded as a
//! variable of any type never panics and is accepted exactly when it is in bounds; cohort
//! documents (generated, mutated or random) never panic; mutated copies of the built-in
//! framework files and of the unit registry load or fail with an error, never panic.

use dti_domain::exact::Exact;
use dti_domain::framework::catalog::BUILTIN_FILES;
use dti_domain::framework::load::parse_framework;
use dti_domain::framework::VariableType;
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::units::BUILTIN_FILE;
use dti_domain::values::{decode_cohort, decode_variable, MAX_ACTIVITIES, MAX_WHOLE};
use dti_domain::{FrameworkCatalog, UnitRegistry, VariableValue};
use dti_i18n::{Lang, Message};
use proptest::prelude::*;
use serde_json::{json, Number, Value};

fn types() -> Vec<VariableType> {
    vec![
        VariableType::Count,
        VariableType::Money,
        VariableType::Bool,
        VariableType::Choice {
            choices: vec!["head".into(), "deputy".into(), "none".into()],
        },
        VariableType::Activities,
        VariableType::Decimal,
        VariableType::Text,
    ]
}

/// Numbers of every shape: small and huge, negative, fractional, beyond 64 bits.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(|n| json!(n)),
        (0..=MAX_WHOLE + 2).prop_map(|n| json!(n)),
        (MAX_WHOLE - 2..=MAX_WHOLE + 2).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-1e20f64..1e20).prop_map(|f| json!(f)),
        "-?[0-9]{1,40}(\\.[0-9]{1,5})?(e-?[0-9]{1,3})?"
            .prop_filter_map("valid JSON number", |t| serde_json::from_str(&t).ok()),
    ]
}

/// Any JSON value, with numbers, activity-like objects and choice-like strings likely.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
        prop_oneof![Just("head"), Just("none"), Just("Head"), Just(" head")]
            .prop_map(|s| Value::String(s.to_owned())),
        decimal_text().prop_map(|(text, _)| Value::String(text)),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("reports".to_owned()),
                    Just("resolved".to_owned()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A decimal-looking text and whether the decoder must accept it: sign, whole digits,
/// an optional point and fraction, white space around.
fn decimal_text() -> impl Strategy<Value = (String, bool)> {
    (
        prop_oneof![Just(""), Just("-")],
        "[0-9]{0,18}",
        prop::option::of("[0-9]{0,14}"),
        prop_oneof![Just(""), Just(" "), Just("\t")],
    )
        .prop_map(|(sign, whole, fraction, pad)| {
            let text = match &fraction {
                Some(f) => format!("{pad}{sign}{whole}.{f}{pad}"),
                None => format!("{pad}{sign}{whole}{pad}"),
            };
            let fraction_len = fraction.as_ref().map_or(0, String::len);
            let is_zero = whole
                .chars()
                .chain(fraction.iter().flat_map(|f| f.chars()))
                .all(|c| c == '0');
            let accepted = !whole.is_empty()
                && sign.len() + whole.len() <= 15
                && fraction_len <= 12
                && (sign.is_empty() || is_zero);
            (text, accepted)
        })
}

/// The whole number a count or money value must decode to, if any.
fn expected_whole(raw: &Value) -> Option<u64> {
    raw.as_u64().filter(|n| *n <= MAX_WHOLE)
}

fn check_decoded(
    ty: &VariableType,
    raw: &Value,
    decoded: &Result<VariableValue, Message>,
) -> Result<(), TestCaseError> {
    if let Err(message) = decoded {
        // In both languages: never empty, never the input echoed at length.
        for message in [message.to_string(), message.render(Lang::Vi)] {
            prop_assert!(!message.is_empty());
            prop_assert!(
                message.chars().count() < 400,
                "message echoes the input: {}",
                message
            );
        }
    }
    match ty {
        VariableType::Count | VariableType::Money => {
            prop_assert_eq!(
                decoded.as_ref().ok().and_then(VariableValue::as_count),
                expected_whole(raw)
            );
        }
        VariableType::Bool => prop_assert_eq!(
            decoded.as_ref().ok().and_then(VariableValue::as_flag),
            raw.as_bool()
        ),
        VariableType::Choice { choices } => {
            let expected = raw.as_str().filter(|s| choices.iter().any(|c| c == s));
            prop_assert_eq!(
                decoded.as_ref().ok().and_then(VariableValue::as_choice),
                expected
            );
        }
        VariableType::Text => match raw {
            Value::String(s) => prop_assert_eq!(decoded, &Ok(VariableValue::Text(s.clone()))),
            _ => prop_assert!(decoded.is_err()),
        },
        VariableType::Activities => {
            let expected: Option<Vec<(u64, u64)>> = raw
                .as_array()
                .filter(|a| a.len() <= MAX_ACTIVITIES)
                .and_then(|items| {
                    items
                        .iter()
                        .map(|item| {
                            let fields = item.as_object()?;
                            if fields.keys().any(|k| k != "reports" && k != "resolved") {
                                return None;
                            }
                            Some((
                                expected_whole(fields.get("reports")?)?,
                                expected_whole(fields.get("resolved")?)?,
                            ))
                        })
                        .collect()
                });
            let got = decoded
                .as_ref()
                .ok()
                .and_then(VariableValue::as_activities)
                .map(|list| {
                    list.iter()
                        .map(|a| (a.reports, a.resolved))
                        .collect::<Vec<_>>()
                });
            prop_assert_eq!(got, expected);
        }
        VariableType::Decimal => match decoded {
            Ok(VariableValue::Decimal(d)) => {
                prop_assert!(**d >= Exact::zero());
                let text = raw.as_str().unwrap().trim();
                prop_assert_eq!(&text.parse::<Exact>().unwrap(), &**d);
                let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
                prop_assert!(
                    whole.len() <= 15 && fraction.len() <= 12,
                    "{} accepted",
                    text
                );
            }
            Ok(other) => prop_assert!(false, "decimal decoded as {:?}", other),
            Err(_) => {}
        },
    }
    if let Ok(value) = decoded {
        prop_assert_eq!(value.type_name(), ty.name());
    }
    Ok(())
}

/// A copy of `text` with random edits: bytes replaced, removed or inserted, and the result
/// cut short.
fn mutated(text: &'static str) -> impl Strategy<Value = String> {
    let len = text.len();
    (
        prop::collection::vec((0..len, 0u8..3, any::<u8>()), 0..8),
        prop::option::of(0..len),
        prop::collection::vec(
            prop_oneof![
                Just("[[indicators]]\n"),
                Just("points = -1\n"),
                Just("kind = \"ratio\"\n"),
                Just("= \"\n"),
                Just("[units.x]\n"),
                Just("code = \"1.1\"\n"),
                Just("\n[groups]\n"),
            ],
            0..3,
        ),
    )
        .prop_map(move |(edits, cut, inserts)| {
            let mut bytes = text.as_bytes().to_vec();
            for (at, op, byte) in edits {
                let at = at.min(bytes.len().saturating_sub(1));
                match op {
                    0 if !bytes.is_empty() => bytes[at] = byte,
                    1 if !bytes.is_empty() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, byte),
                }
            }
            for (i, insert) in inserts.iter().enumerate() {
                let at = (bytes.len() / (i + 2)).min(bytes.len());
                bytes.splice(at..at, insert.bytes());
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
}

fn builtin_framework() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(BUILTIN_FILES.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_decodes_to_exactly_the_in_bound_values(raw in json_value()) {
        for ty in types() {
            let decoded = decode_variable(&ty, &raw);
            check_decoded(&ty, &raw, &decoded)?;
        }
    }

    #[test]
    fn numbers_are_counts_exactly_when_whole_and_in_bounds(raw in number()) {
        for ty in [VariableType::Count, VariableType::Money] {
            let decoded = decode_variable(&ty, &raw);
            check_decoded(&ty, &raw, &decoded)?;
        }
    }

    #[test]
    fn decimals_are_accepted_exactly_within_their_digits((text, accepted) in decimal_text()) {
        let decoded = decode_variable(&VariableType::Decimal, &Value::String(text.clone()));
        prop_assert_eq!(decoded.is_ok(), accepted, "{:?}: {:?}", text, decoded);
        check_decoded(&VariableType::Decimal, &Value::String(text), &decoded)?;
    }

    #[test]
    fn framework_files_with_random_edits_load_or_fail(
        (file, copy) in builtin_framework().prop_flat_map(|(file, text)| mutated(text).prop_map(move |copy| (file, copy)))
    ) {
        match parse_framework(file, &copy) {
            Ok(framework) => prop_assert!(!framework.indicators.is_empty() || !framework.scored),
            Err(error) => {
                prop_assert!(!error.problems.is_empty());
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn registry_files_with_random_edits_load_or_fail(copy in mutated(BUILTIN_FILE.1)) {
        match UnitRegistry::parse("hcm.toml", &copy) {
            Ok(registry) => { let _ = registry.units().count(); }
            Err(error) => prop_assert!(!error.problems.is_empty()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_cohorts_decode_and_mutated_ones_never_panic(
        framework in 0usize..2,
        units in 1usize..6,
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let catalog = FrameworkCatalog::builtin().unwrap();
        let fw = catalog.get_str(["hcm-2023-district", "hcm-2023-department"][framework]).unwrap();
        let options = SampleOptions { units, seed, ..SampleOptions::default() };
        let text = serde_json::to_string(&sample_cohort(fw, &options)).unwrap();
        let decoded = decode_cohort(&text, &catalog);
        prop_assert!(decoded.value.is_some(), "a generated cohort is refused: {:?}", decoded.issues.first());
        prop_assert_eq!(decoded.value.unwrap().units.len(), units);

        let mut bytes = text.into_bytes();
        for (at, byte) in edits {
            let at = at.index(bytes.len());
            bytes[at] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let edited = String::from_utf8_lossy(&bytes);
        let decoded = decode_cohort(&edited, &catalog);
        prop_assert!(decoded.value.is_some() || decoded.issues.iter().any(|i| i.is_error()));
    }

    #[test]
    fn random_cohort_documents_never_panic(
        framework in prop_oneof![Just(json!("hcm-2023-district")), Just(json!("hcm-2023-department")), json_value()],
        units in prop::collection::vec(
            prop::collection::btree_map(
                prop_oneof![Just("unit".to_owned()), Just("values".to_owned()), Just("not_applicable".to_owned()), Just("general_info".to_owned()), "[a-z_]{1,8}"],
                prop_oneof![
                    json_value(),
                    "[a-z0-9-]{1,12}".prop_map(Value::String),
                    prop::collection::btree_map("[0-9]\\.[0-9]{1,2}", prop::collection::btree_map("[a-z_]{1,10}", json_value(), 0..3).prop_map(|m| Value::Object(m.into_iter().collect())), 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ],
                0..5,
            ).prop_map(|m| Value::Object(m.into_iter().collect())),
            0..4,
        ),
        extra in prop::option::of(json_value()),
    ) {
        let catalog = FrameworkCatalog::builtin().unwrap();
        let mut document = json!({"framework": framework, "units": units});
        if let Some(extra) = extra {
            document["extra"] = extra;
        }
        let decoded = decode_cohort(&document.to_string(), &catalog);
        prop_assert!(decoded.value.is_some() || decoded.issues.iter().any(|i| i.is_error()));
    }

    #[test]
    fn arbitrary_text_is_not_a_cohort_and_does_not_panic(text in any::<String>()) {
        let catalog = FrameworkCatalog::builtin().unwrap();
        let decoded = decode_cohort(&text, &catalog);
        prop_assert!(decoded.value.is_none() && !decoded.issues.is_empty());
    }
}
