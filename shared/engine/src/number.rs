//! The engine's exact number: a rational that stays on machine integers (`i128`) while the
//! values fit and moves to arbitrary precision the moment an operation would overflow. Results
//! are identical to pure big-rational arithmetic; only the speed differs.

use dti_domain::exact::Exact;
use num_bigint::BigInt;
use num_rational::{BigRational, Ratio};
use num_traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::ops::{Add, AddAssign, Div, Mul, Sub};

/// An exact rational number.
#[derive(Debug, Clone)]
pub enum Num {
    /// Fits in machine integers (always normalised, positive denominator).
    Small(Ratio<i128>),
    /// Arbitrary precision.
    Big(BigRational),
}

impl Num {
    /// Zero.
    pub fn zero() -> Self {
        Num::Small(Ratio::zero())
    }

    /// One.
    pub fn one() -> Self {
        Num::Small(Ratio::one())
    }

    /// A whole number.
    pub fn int(value: impl Into<i128>) -> Self {
        Num::Small(Ratio::from_integer(value.into()))
    }

    /// `numerator / denominator` for counts; the denominator must not be zero.
    pub fn ratio(numerator: u128, denominator: u128) -> Self {
        match (i128::try_from(numerator), i128::try_from(denominator)) {
            (Ok(n), Ok(d)) if d != 0 => Num::Small(Ratio::new(n, d)),
            _ => Num::Big(BigRational::new(numerator.into(), denominator.into())),
        }
    }

    /// The value as a big rational.
    pub fn to_big(&self) -> BigRational {
        match self {
            Num::Small(r) => {
                BigRational::new_raw(BigInt::from(*r.numer()), BigInt::from(*r.denom()))
            }
            Num::Big(b) => b.clone(),
        }
    }

    /// The value as an [`Exact`].
    pub fn to_exact(&self) -> Exact {
        Exact(self.to_big())
    }

    fn from_big(big: BigRational) -> Self {
        match (big.numer().to_i128(), big.denom().to_i128()) {
            (Some(n), Some(d)) => Num::Small(Ratio::new_raw(n, d)),
            _ => Num::Big(big),
        }
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        match self {
            Num::Small(r) => r.is_negative(),
            Num::Big(b) => b.is_negative(),
        }
    }

    /// True above zero.
    pub fn is_positive(&self) -> bool {
        match self {
            Num::Small(r) => r.is_positive(),
            Num::Big(b) => b.is_positive(),
        }
    }

    /// The value clamped to [0, 1].
    pub fn clamp01(&self) -> Num {
        if self.is_negative() {
            Num::zero()
        } else if *self > Num::one() {
            Num::one()
        } else {
            self.clone()
        }
    }

    /// The exact value as text, as [`Exact`] displays it: a whole number, or
    /// `numerator/denominator` in lowest terms.
    pub fn to_exact_string(&self) -> String {
        match self {
            Num::Small(r) if *r.denom() == 1 => r.numer().to_string(),
            Num::Small(r) => format!("{}/{}", r.numer(), r.denom()),
            Num::Big(_) => self.to_exact().to_string(),
        }
    }

    /// A decimal rendering rounded half up to `digits` places, exactly as
    /// [`Exact::to_decimal_string`] renders the same value (on machine integers while they
    /// suffice: explanations render several numbers for every indicator of every unit).
    pub fn to_decimal_string(&self, digits: u32) -> String {
        if let Num::Small(r) = self {
            if let Some(text) = small_decimal(*r.numer(), *r.denom(), digits) {
                return text;
            }
        }
        self.to_exact().to_decimal_string(digits)
    }

    /// Rounds half up to whole hundredths and returns the number of hundredths.
    pub fn round_half_up_cents(&self) -> i64 {
        if let Num::Small(r) = self {
            let (numer, denom) = (*r.numer(), *r.denom());
            let scaled = numer
                .checked_mul(200)
                .and_then(|n| n.checked_add(denom))
                .and_then(|n| denom.checked_mul(2).map(|d| n.div_euclid(d)));
            if let Some(cents) = scaled.and_then(|c| i64::try_from(c).ok()) {
                return cents;
            }
        }
        self.to_exact().round_half_up_cents()
    }

    fn combine(
        &self,
        other: &Num,
        small: impl Fn(&Ratio<i128>, &Ratio<i128>) -> Option<Ratio<i128>>,
        big: impl Fn(BigRational, BigRational) -> BigRational,
    ) -> Num {
        if let (Num::Small(a), Num::Small(b)) = (self, other) {
            if let Some(result) = small(a, b) {
                return Num::Small(result);
            }
        }
        Num::from_big(big(self.to_big(), other.to_big()))
    }
}

/// [`Num::to_decimal_string`] of `numerator/denominator` (in lowest terms, the denominator
/// positive) on `i128`; `None` when a step would overflow.
fn small_decimal(numerator: i128, denominator: i128, digits: u32) -> Option<String> {
    let scale = 10_i128.checked_pow(digits)?;
    // floor(|n| / d × scale + 1/2) = floor((2 |n| scale + d) / 2d), every term positive.
    let scaled = numerator
        .checked_abs()?
        .checked_mul(scale)?
        .checked_mul(2)?
        .checked_add(denominator)?
        / denominator.checked_mul(2)?;
    let mut text = (scaled / scale).to_string();
    if digits > 0 {
        let width = usize::try_from(digits).ok()?;
        let fraction = format!("{:0width$}", scaled % scale);
        let fraction = fraction.trim_end_matches('0');
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
    }
    if numerator < 0 && text.chars().any(|c| c != '0' && c != '.') {
        text.insert(0, '-');
    }
    Some(text)
}

impl From<&Exact> for Num {
    fn from(value: &Exact) -> Self {
        Num::from_big(value.0.clone())
    }
}

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Num {}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Num::Small(a), Num::Small(b)) => a.cmp(b),
            _ => self.to_big().cmp(&other.to_big()),
        }
    }
}

macro_rules! binary_op {
    ($trait:ident, $method:ident, $checked:ident) => {
        impl $trait<&Num> for &Num {
            type Output = Num;
            fn $method(self, rhs: &Num) -> Num {
                self.combine(rhs, |a, b| a.$checked(b), |a, b| a.$method(b))
            }
        }
        impl $trait<Num> for Num {
            type Output = Num;
            fn $method(self, rhs: Num) -> Num {
                (&self).$method(&rhs)
            }
        }
        impl $trait<&Num> for Num {
            type Output = Num;
            fn $method(self, rhs: &Num) -> Num {
                (&self).$method(rhs)
            }
        }
        impl $trait<Num> for &Num {
            type Output = Num;
            fn $method(self, rhs: Num) -> Num {
                self.$method(&rhs)
            }
        }
    };
}

binary_op!(Add, add, checked_add);
binary_op!(Sub, sub, checked_sub);
binary_op!(Mul, mul, checked_mul);
binary_op!(Div, div, checked_div);

impl AddAssign<&Num> for Num {
    fn add_assign(&mut self, rhs: &Num) {
        *self = &*self + rhs;
    }
}

impl std::iter::Sum for Num {
    fn sum<I: Iterator<Item = Num>>(iter: I) -> Num {
        iter.fold(Num::zero(), |acc, n| acc + n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotes_on_overflow_and_agrees_with_big_rationals() {
        let huge = Num::ratio(u64::MAX.into(), 3);
        let product = &huge * &huge * &huge;
        let expected = {
            let b = BigRational::new(u64::MAX.into(), 3.into());
            &b * &b * &b
        };
        assert!(matches!(product, Num::Big(_)));
        assert_eq!(product.to_big(), expected);
        let back = &product / &product;
        assert_eq!(back, Num::one());
        assert!(matches!(back, Num::Small(_)));
    }

    #[test]
    fn rounds_half_up_on_both_paths() {
        assert_eq!(Num::ratio(1, 8).round_half_up_cents(), 13);
        assert_eq!(Num::ratio(2, 3).round_half_up_cents(), 67);
        let big = Num::Big(BigRational::new(
            BigInt::from(1) << 200,
            BigInt::from(8) << 200,
        ));
        assert_eq!(big.round_half_up_cents(), 13);
    }

    #[test]
    fn compares_across_representations() {
        let small = Num::ratio(1, 2);
        let big = Num::Big(BigRational::new(
            BigInt::from(1) << 130,
            BigInt::from(1) << 131,
        ));
        assert_eq!(small, big);
        assert!(Num::ratio(1, 3) < big);
        assert_eq!(Num::ratio(5, 4).clamp01(), Num::one());
        assert_eq!((Num::ratio(1, 4) - Num::ratio(1, 2)).clamp01(), Num::zero());
    }
}
