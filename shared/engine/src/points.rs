//! Rounded scores. A score is held as a whole number of hundredths of a point, so group and
//! total sums are exact integer additions of the rounded indicator scores.

use serde::{Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::Add;

/// A score in hundredths of a point (`1234` is 12.34 points).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(pub i64);

impl Points {
    /// Zero points.
    pub const ZERO: Points = Points(0);

    /// Hundredths of a point.
    pub fn cents(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&dti_domain::cents::format(self.0))
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Add for Points {
    type Output = Points;
    fn add(self, rhs: Points) -> Points {
        Points(self.0 + rhs.0)
    }
}

impl Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        Points(iter.map(|p| p.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_exactly_two_decimals() {
        assert_eq!(Points(0).to_string(), "0.00");
        assert_eq!(Points(5).to_string(), "0.05");
        assert_eq!(Points(1234).to_string(), "12.34");
        assert_eq!(Points(66000).to_string(), "660.00");
        assert_eq!(Points(-7).to_string(), "-0.07");
    }
}
