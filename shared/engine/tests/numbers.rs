//! The engine's number renders exactly as the domain's arbitrary-precision rational does:
//! explanations show each value as `exact` text and a decimal rounded half up, and the machine
//! integer path used for them must never differ from the big-rational one — for small values,
//! negative ones, halves at the rounding digit, and values whose arithmetic overflows `i128`.

use dti_domain::exact::Exact;
use dti_engine::number::Num;
use dti_engine::ExactView;
use proptest::prelude::*;

fn both(numerator: i128, denominator: i128) -> (Num, Exact) {
    let exact = Exact::ratio(numerator, denominator).expect("a non-zero denominator");
    (Num::from(&exact), exact)
}

fn assert_same(numerator: i128, denominator: i128, digits: u32) {
    let (num, exact) = both(numerator, denominator);
    assert_eq!(
        num.to_decimal_string(digits),
        exact.to_decimal_string(digits),
        "{numerator}/{denominator} to {digits} digits"
    );
    assert_eq!(num.to_exact_string(), exact.to_string());
    assert_eq!(ExactView::from(&num), ExactView::from(&exact));
}

#[test]
fn worked_values_render_as_the_domain_renders_them() {
    for (numerator, denominator, digits, decimal) in [
        (7, 10, 6, "0.7"),
        (133, 190, 6, "0.7"),
        (2, 3, 6, "0.666667"),
        (1, 2_000_000, 6, "0.000001"),
        (-1, 3_000_000, 6, "0"),
        (-2, 3, 6, "-0.666667"),
        (1, 8, 2, "0.13"),
        (30, 1, 6, "30"),
        (
            i128::MAX,
            3,
            6,
            "56713727820156410577229101238628035242.333333",
        ),
    ] {
        let (num, _) = both(numerator, denominator);
        assert_eq!(num.to_decimal_string(digits), decimal);
        assert_same(numerator, denominator, digits);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn small_values_render_as_the_domain_renders_them(
        numerator in -1_000_000_000_000_i128..1_000_000_000_000,
        denominator in 1_i128..10_000_000,
        digits in 0_u32..9,
    ) {
        assert_same(numerator, denominator, digits);
    }

    #[test]
    fn values_past_machine_integers_render_as_the_domain_renders_them(
        numerator in prop_oneof![any::<i128>(), (i128::MAX - 1_000)..=i128::MAX],
        denominator in prop_oneof![1_i128..1_000, any::<i128>().prop_filter("non-zero", |d| *d != 0)],
        digits in 0_u32..12,
    ) {
        assert_same(numerator, denominator, digits);
    }
}
