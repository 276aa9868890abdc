//! Who may read scores and rankings, and when a unit may see them.
//!
//! Verifiers, approvers and operators read every unit of every round. A unit submitter reads
//! its own unit's scores, and the ranking of a round its unit belongs to, once the round allows
//! it: always with [`UnitVisibility::Live`], from publication on (round `provisional` or
//! `final`) with [`UnitVisibility::AfterPublication`]. Every other role reads nothing.

use dti_auth::{AccessDenied, Principal, Role, Scope};
use dti_domain::round::RoundState;
use dti_domain::{RoundRef, UnitId};
use dti_i18n::Message;
use serde::Deserialize;

/// When units see their scores and rankings (service setting `unit_visibility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitVisibility {
    /// As soon as they are computed, while data arrives.
    #[default]
    Live,
    /// Once the round is published (`provisional` or `final`).
    AfterPublication,
}

impl UnitVisibility {
    /// Whether units may see scores of a round in `state`.
    pub fn allows(self, state: RoundState) -> bool {
        match self {
            UnitVisibility::Live => true,
            UnitVisibility::AfterPublication => state.is_published(),
        }
    }
}

/// What a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// Verifiers, approvers and operators: everything.
    CityWide,
    /// A unit submitter: its own unit.
    Unit(String),
}

impl Reader {
    /// The reader `principal` is, or why it reads nothing.
    pub fn of(principal: &Principal) -> Result<Self, AccessDenied> {
        match (principal.role, &principal.scope) {
            (Role::Verifier | Role::Approver | Role::Operator, _) => Ok(Reader::CityWide),
            (Role::UnitSubmitter, Scope::Unit { unit_id }) => Ok(Reader::Unit(unit_id.clone())),
            (role, _) => Err(AccessDenied(
                Message::new("scores-role-refused")
                    .arg("role", role.to_string())
                    .into(),
            )),
        }
    }

    /// The unit a unit submitter acts for.
    pub fn own_unit(&self) -> Option<&str> {
        match self {
            Reader::Unit(unit) => Some(unit),
            Reader::CityWide => None,
        }
    }

    /// May this reader see `unit`'s scores in `round`, now in `state`?
    pub fn may_read_unit(
        &self,
        unit: &UnitId,
        round: &RoundRef,
        state: RoundState,
        visibility: UnitVisibility,
    ) -> Result<(), AccessDenied> {
        match self {
            Reader::CityWide => Ok(()),
            Reader::Unit(own) if own != unit.as_str() => Err(AccessDenied(
                Message::new("scores-unit-only")
                    .arg("unit", unit.to_string())
                    .into(),
            )),
            Reader::Unit(_) => visible(round, state, visibility),
        }
    }

    /// May this reader see the ranking of `round`, now in `state`? `member` says whether a
    /// unit submitter's unit belongs to the round's cohort.
    pub fn may_read_cohort(
        &self,
        round: &RoundRef,
        state: RoundState,
        visibility: UnitVisibility,
        member: bool,
    ) -> Result<(), AccessDenied> {
        match self {
            Reader::CityWide => Ok(()),
            Reader::Unit(own) if !member => Err(AccessDenied(
                Message::new("submission-unit-not-in-round")
                    .arg("unit", own.as_str())
                    .arg("round", round.to_string())
                    .into(),
            )),
            Reader::Unit(_) => visible(round, state, visibility),
        }
    }
}

fn visible(
    round: &RoundRef,
    state: RoundState,
    visibility: UnitVisibility,
) -> Result<(), AccessDenied> {
    if visibility.allows(state) {
        Ok(())
    } else {
        Err(AccessDenied(
            Message::new("scores-not-published")
                .arg("round", round.to_string())
                .arg("state", state.as_str())
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkId;

    #[test]
    fn units_read_their_own_scores_when_the_round_allows_it() {
        let round = RoundRef {
            year: 2023,
            framework: FrameworkId::parse("hcm-2023-district").unwrap(),
        };
        let unit = UnitId::parse("quan-1").unwrap();
        let own = Reader::of(&Principal::unit_submitter("p", "quan-1")).unwrap();
        let live = UnitVisibility::Live;
        let published = UnitVisibility::AfterPublication;
        assert!(own
            .may_read_unit(&unit, &round, RoundState::Open, live)
            .is_ok());
        assert!(own
            .may_read_unit(&unit, &round, RoundState::Open, published)
            .is_err());
        assert!(own
            .may_read_unit(&unit, &round, RoundState::Provisional, published)
            .is_ok());
        assert!(own
            .may_read_unit(&unit, &round, RoundState::Final, published)
            .is_ok());
        let other = Reader::of(&Principal::unit_submitter("p", "quan-3")).unwrap();
        assert!(other
            .may_read_unit(&unit, &round, RoundState::Final, live)
            .is_err());
        assert!(other
            .may_read_cohort(&round, RoundState::Open, live, false)
            .is_err());
        assert!(other
            .may_read_cohort(&round, RoundState::Open, live, true)
            .is_ok());
        let verifier = Reader::of(&Principal::city("p", Role::Verifier)).unwrap();
        assert!(verifier
            .may_read_unit(&unit, &round, RoundState::Open, published)
            .is_ok());
        let owner = Principal::data_owner("p", "so-tttt");
        assert!(Reader::of(&owner).is_err());
        assert!(Reader::of(&Principal::city("p", Role::NationalSync)).is_err());
    }
}
