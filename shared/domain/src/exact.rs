//! Exact numbers. Thresholds, shares and points in framework files are written as decimal or
//! fraction strings (`"0.8"`, `"1/2"`, `"4/5"`, `"30"`) and held as arbitrary-precision rationals,
//! so no binary floating point ever touches a score.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An exact, arbitrary-precision rational number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Exact(pub BigRational);

/// Why a text is not an exact number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an exact number (write it like 0.8, 15 or 1/2)")]
pub struct ExactParseError {
    /// The rejected text.
    pub text: String,
}

impl Exact {
    /// Zero.
    pub fn zero() -> Self {
        Exact(BigRational::zero())
    }

    /// A whole number.
    pub fn from_int(value: impl Into<BigInt>) -> Self {
        Exact(BigRational::from_integer(value.into()))
    }

    /// `numerator / denominator`; `None` when the denominator is zero.
    pub fn ratio(numerator: impl Into<BigInt>, denominator: impl Into<BigInt>) -> Option<Self> {
        let denominator = denominator.into();
        if denominator.is_zero() {
            return None;
        }
        Some(Exact(BigRational::new(numerator.into(), denominator)))
    }

    /// The rational value.
    pub fn value(&self) -> &BigRational {
        &self.0
    }

    /// True when the value lies in [0, 1].
    pub fn is_share(&self) -> bool {
        !self.0.is_negative() && self.0 <= BigRational::from_integer(1.into())
    }

    /// Rounds half up (away from zero for positive values) to whole hundredths and returns
    /// the number of hundredths. Scores are never negative; a negative value rounds toward
    /// positive infinity at the half, which keeps the rule "half up" literal.
    pub fn round_half_up_cents(&self) -> i64 {
        let hundred = BigRational::from_integer(100.into());
        let half = BigRational::new(1.into(), 2.into());
        let scaled = &self.0 * hundred + half;
        let cents = scaled.floor().to_integer();
        i64::try_from(cents).unwrap_or(if self.0.is_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    /// A decimal rendering for people, rounded half up to `digits` places; exact values that
    /// terminate within `digits` print without trailing zeros.
    pub fn to_decimal_string(&self, digits: u32) -> String {
        let negative = self.0.is_negative();
        let abs = self.0.abs();
        let scale = BigInt::from(10u32).pow(digits);
        let scaled = (&abs * BigRational::from_integer(scale.clone())
            + BigRational::new(1.into(), 2.into()))
        .floor()
        .to_integer();
        let (whole, frac) = scaled.div_rem(&scale);
        let mut text = whole.to_string();
        if digits > 0 {
            // `scale + frac` is a 1 followed by exactly `digits` digits: `frac` zero-padded.
            let padded = (&scale + frac).to_string();
            let frac = padded[1..].trim_end_matches('0');
            if !frac.is_empty() {
                text.push('.');
                text.push_str(frac);
            }
        }
        if negative && text.chars().any(|c| c != '0' && c != '.') {
            text.insert(0, '-');
        }
        text
    }
}

impl FromStr for Exact {
    type Err = ExactParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || ExactParseError {
            text: text.to_string(),
        };
        let trimmed = text.trim();
        if let Some((num, den)) = trimmed.split_once('/') {
            let num: BigInt = num.trim().parse().map_err(|_| err())?;
            let den: BigInt = den.trim().parse().map_err(|_| err())?;
            return Exact::ratio(num, den).ok_or_else(err);
        }
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(err());
        }
        let numerator: BigInt = format!("{whole}{frac}").parse().map_err(|_| err())?;
        let places = u32::try_from(frac.len()).map_err(|_| err())?;
        let denominator = BigInt::from(10u32).pow(places);
        let value = BigRational::new(numerator, denominator);
        Ok(Exact(if negative { -value } else { value }))
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_integer() {
            write!(f, "{}", self.0.numer())
        } else {
            write!(f, "{}/{}", self.0.numer(), self.0.denom())
        }
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Int(value) => Ok(Exact::from_int(value)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(text: &str) -> Exact {
        text.parse().unwrap()
    }

    #[test]
    fn parses_decimals_and_fractions() {
        assert_eq!(exact("0.8"), Exact::ratio(4, 5).unwrap());
        assert_eq!(exact("1/2"), Exact::ratio(1, 2).unwrap());
        assert_eq!(exact("30"), Exact::from_int(30));
        assert_eq!(exact("-0.25"), Exact::ratio(-1, 4).unwrap());
        for bad in ["", "0.8.1", "1/0", "x", ".5", "1e3", "0,8"] {
            assert!(bad.parse::<Exact>().is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn rounds_half_up_at_the_third_decimal() {
        assert_eq!(exact("2.345").round_half_up_cents(), 235);
        assert_eq!(exact("2.3449999").round_half_up_cents(), 234);
        assert_eq!(exact("0.005").round_half_up_cents(), 1);
        assert_eq!(exact("0.004").round_half_up_cents(), 0);
        assert_eq!(Exact::ratio(1, 3).unwrap().round_half_up_cents(), 33);
        assert_eq!(Exact::ratio(2, 3).unwrap().round_half_up_cents(), 67);
    }

    #[test]
    fn renders_decimals_for_people() {
        assert_eq!(Exact::ratio(1, 3).unwrap().to_decimal_string(4), "0.3333");
        assert_eq!(exact("0.5").to_decimal_string(4), "0.5");
        assert_eq!(exact("7").to_decimal_string(2), "7");
        assert_eq!(exact("0.05").to_decimal_string(4), "0.05");
        assert_eq!(exact("0.000001").to_decimal_string(6), "0.000001");
        assert_eq!(exact("1.005").to_decimal_string(2), "1.01");
        assert_eq!(exact("-0.001").to_decimal_string(2), "0");
        assert_eq!(exact("12.5").to_decimal_string(0), "13");
        assert_eq!(Exact::ratio(2, 3).unwrap().to_string(), "2/3");
    }
}
