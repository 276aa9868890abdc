//! Published figures in hundredths of a point: their two-decimal text, and the arithmetic mean
//! that compares a unit formed by a merger with the units it continues (the national DTI's rule
//! for merged provinces), exact in integers and rounded half-up to a hundredth.

/// Hundredths as a two-decimal text, e.g. `-150` → `"-1.50"`.
pub fn format(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let magnitude = cents.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}

/// The arithmetic mean of `values` (hundredths) rounded half-up (away from zero) to a
/// hundredth; none for no values.
pub fn mean_half_up(values: impl IntoIterator<Item = i64>) -> Option<i64> {
    let (sum, count) = values
        .into_iter()
        .fold((0i128, 0i128), |(sum, count), value| {
            (sum + i128::from(value), count + 1)
        });
    if count == 0 {
        return None;
    }
    let rounded = (2 * sum.abs() + count) / (2 * count);
    let signed = if sum < 0 { -rounded } else { rounded };
    // A mean lies between the smallest and the largest value, so it fits as they do.
    i64::try_from(signed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_have_exactly_two_decimals() {
        assert_eq!(format(0), "0.00");
        assert_eq!(format(5), "0.05");
        assert_eq!(format(1234), "12.34");
        assert_eq!(format(-150), "-1.50");
        assert_eq!(format(-7), "-0.07");
    }

    #[test]
    fn means_are_exact_and_rounded_half_up() {
        assert_eq!(mean_half_up([6000, 5001, 4001]), Some(5001));
        assert_eq!(mean_half_up([1000, 2000, 3001]), Some(2000));
        assert_eq!(mean_half_up([1, 2]), Some(2));
        assert_eq!(mean_half_up([-1, -2]), Some(-2));
        assert_eq!(mean_half_up([7]), Some(7));
        assert_eq!(mean_half_up([i64::MAX, i64::MAX]), Some(i64::MAX));
        assert_eq!(mean_half_up(std::iter::empty()), None);
    }
}
