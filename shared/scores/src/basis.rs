//! The two bases scores are computed on: the unit's self-assessed values, and those values
//! with the verifiers' decisions applied.

use std::fmt;

use dti_proto::dti::events::v1::ScoreBasis;
use dti_proto::dti::scoring::v1 as pb;
use dti_proto::request::FieldError;

/// Which values a score is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Basis {
    /// The unit's latest submitted version.
    SelfAssessed,
    /// That version with the verifiers' decisions (`verified_values`) applied.
    Verified,
}

impl Basis {
    /// Both bases, in the order their cohort rows are locked.
    pub const ALL: [Basis; 2] = [Basis::SelfAssessed, Basis::Verified];

    /// The name stored in the score tables: `self` or `verified`.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::SelfAssessed => "self",
            Basis::Verified => "verified",
        }
    }

    /// The basis of a stored name.
    pub fn from_stored(name: &str) -> Option<Self> {
        match name {
            "self" => Some(Basis::SelfAssessed),
            "verified" => Some(Basis::Verified),
            _ => None,
        }
    }

    /// The basis of a `dti.scoring.v1.Basis` value; none when unspecified or unknown.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Basis::try_from(value).ok()? {
            pb::Basis::SelfAssessed => Some(Basis::SelfAssessed),
            pb::Basis::Verified => Some(Basis::Verified),
            pb::Basis::Unspecified => None,
        }
    }

    /// The basis of a request's field `basis`: self-assessed or verified, nothing else.
    pub fn parse_request(value: i32) -> Result<Self, FieldError> {
        Self::from_proto(value).ok_or_else(|| {
            FieldError::new("basis", "must be BASIS_SELF_ASSESSED or BASIS_VERIFIED")
        })
    }

    /// As `dti.scoring.v1.Basis`.
    pub fn to_proto(self) -> pb::Basis {
        match self {
            Basis::SelfAssessed => pb::Basis::SelfAssessed,
            Basis::Verified => pb::Basis::Verified,
        }
    }

    /// The basis of a `dti.events.v1.ScoreBasis` value; none when unspecified or unknown.
    pub fn from_event(value: i32) -> Option<Self> {
        match ScoreBasis::try_from(value).ok()? {
            ScoreBasis::SelfAssessed => Some(Basis::SelfAssessed),
            ScoreBasis::Verified => Some(Basis::Verified),
            ScoreBasis::Unspecified => None,
        }
    }

    /// As `dti.events.v1.ScoreBasis`.
    pub fn to_event(self) -> ScoreBasis {
        match self {
            Basis::SelfAssessed => ScoreBasis::SelfAssessed,
            Basis::Verified => ScoreBasis::Verified,
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_protobuf_values_round_trip() {
        for basis in Basis::ALL {
            assert_eq!(Basis::from_stored(basis.as_str()), Some(basis));
            assert_eq!(Basis::from_proto(basis.to_proto() as i32), Some(basis));
            assert_eq!(Basis::from_event(basis.to_event() as i32), Some(basis));
        }
        assert_eq!(Basis::from_proto(0), None);
        assert_eq!(Basis::from_proto(9), None);
        assert_eq!(Basis::from_stored("Self"), None);
        assert_eq!(Basis::parse_request(2), Ok(Basis::Verified));
        assert_eq!(Basis::parse_request(0).unwrap_err().field, "basis");
    }
}
