//! The life of an assessment round and of each unit's submission, enforced in one place.
//!
//! Every service that changes a round's or a submission's state asks [`RoundState::apply`] or
//! [`SubmissionState::apply`] first; an action that is not allowed from the current state is an
//! [`IllegalTransition`] (a `FailedPrecondition` at the gRPC edge). The diagram is in
//! `docs/round-states.md`.
//!
//! ```text
//! draft → open → closed → under_verification → verified → approved → provisional → final
//!          ↑______|  (reopen)        ↑______________|  (return for re-verification)
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The state of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundState {
    /// Being prepared by operators; units cannot submit yet.
    Draft,
    /// Units self-assess and submit until the deadline.
    Open,
    /// The deadline has passed; submissions are refused unless reopened for a unit.
    Closed,
    /// Sở TT&TT verifies the submissions.
    UnderVerification,
    /// Every submission is verified; waiting for the chairman's approval.
    Verified,
    /// Approved; ready to publish.
    Approved,
    /// Published; units may object until the provisional period ends.
    Provisional,
    /// Final: every change is refused; corrections are new published revisions.
    Final,
}

/// An action on a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundAction {
    /// Operator opens the round for submissions.
    Open,
    /// Operator closes it (or the deadline passes).
    Close,
    /// Operator reopens a closed round for everyone.
    Reopen,
    /// Verifier starts verification.
    StartVerification,
    /// Verifier completes verification.
    CompleteVerification,
    /// Approver returns the round for more verification.
    ReturnForVerification,
    /// Approver approves the verified ranking.
    Approve,
    /// Publication of the approved result (provisional).
    Publish,
    /// The provisional period ends.
    Finalize,
}

/// Who may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// City IT operators (Sở TT&TT platform team).
    Operator,
    /// Sở TT&TT verifiers.
    Verifier,
    /// The chairman's office.
    Approver,
}

/// An action that is not allowed from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a round that is {from}")]
pub struct IllegalTransition {
    /// The current state.
    pub from: RoundState,
    /// The refused action.
    pub action: RoundAction,
}

impl RoundState {
    /// All states, in order.
    pub const ALL: [RoundState; 8] = [
        RoundState::Draft,
        RoundState::Open,
        RoundState::Closed,
        RoundState::UnderVerification,
        RoundState::Verified,
        RoundState::Approved,
        RoundState::Provisional,
        RoundState::Final,
    ];

    /// The state after `action`, or why it is refused.
    pub fn apply(self, action: RoundAction) -> Result<RoundState, IllegalTransition> {
        use RoundAction as A;
        use RoundState as S;
        let next = match (self, action) {
            (S::Draft, A::Open) => S::Open,
            (S::Open, A::Close) => S::Closed,
            (S::Closed, A::Reopen) => S::Open,
            (S::Closed, A::StartVerification) => S::UnderVerification,
            (S::UnderVerification, A::CompleteVerification) => S::Verified,
            (S::Verified, A::ReturnForVerification) => S::UnderVerification,
            (S::Verified, A::Approve) => S::Approved,
            (S::Approved, A::Publish) => S::Provisional,
            (S::Provisional, A::Finalize) => S::Final,
            (from, action) => return Err(IllegalTransition { from, action }),
        };
        Ok(next)
    }

    /// Whether units may submit or edit their self-assessment (subject to the deadline and
    /// per-unit reopenings).
    pub fn accepts_submissions(self) -> bool {
        self == RoundState::Open
    }

    /// Whether results are published (provisional or final).
    pub fn is_published(self) -> bool {
        matches!(self, RoundState::Provisional | RoundState::Final)
    }

    /// Name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundState::Draft => "draft",
            RoundState::Open => "open",
            RoundState::Closed => "closed",
            RoundState::UnderVerification => "under_verification",
            RoundState::Verified => "verified",
            RoundState::Approved => "approved",
            RoundState::Provisional => "provisional",
            RoundState::Final => "final",
        }
    }
}

impl RoundAction {
    /// All actions.
    pub const ALL: [RoundAction; 9] = [
        RoundAction::Open,
        RoundAction::Close,
        RoundAction::Reopen,
        RoundAction::StartVerification,
        RoundAction::CompleteVerification,
        RoundAction::ReturnForVerification,
        RoundAction::Approve,
        RoundAction::Publish,
        RoundAction::Finalize,
    ];

    /// Who may take the action.
    pub fn actor(self) -> Actor {
        match self {
            RoundAction::Open
            | RoundAction::Close
            | RoundAction::Reopen
            | RoundAction::Finalize => Actor::Operator,
            RoundAction::StartVerification | RoundAction::CompleteVerification => Actor::Verifier,
            RoundAction::ReturnForVerification | RoundAction::Approve | RoundAction::Publish => {
                Actor::Approver
            }
        }
    }

    /// Name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundAction::Open => "open",
            RoundAction::Close => "close",
            RoundAction::Reopen => "reopen",
            RoundAction::StartVerification => "start verification of",
            RoundAction::CompleteVerification => "complete verification of",
            RoundAction::ReturnForVerification => "return for verification",
            RoundAction::Approve => "approve",
            RoundAction::Publish => "publish",
            RoundAction::Finalize => "finalize",
        }
    }
}

impl fmt::Display for RoundState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RoundAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state {0:?}")]
pub struct UnknownState(pub String);

impl FromStr for RoundState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoundState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// The state of one unit's submission within a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// The unit is editing; nothing submitted yet (or a resubmission is being prepared).
    Draft,
    /// Submitted; waiting for verification.
    Submitted,
    /// The verifier asked questions; the unit edits and resubmits.
    ClarificationRequested,
    /// A verifier is working on it.
    UnderVerification,
    /// Verification is complete.
    Verified,
}

/// An action on a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionAction {
    /// The unit edits values.
    Edit,
    /// The unit submits (a new version).
    Submit,
    /// A verifier opens it.
    StartVerification,
    /// A verifier requests clarification on chosen indicators.
    RequestClarification,
    /// A verifier completes it.
    CompleteVerification,
    /// The round's verification starts while the unit's draft was opened after its last
    /// submitted version and never resubmitted: the draft is kept for the record but set
    /// aside, and that version stands (draft → submitted, no new version). Only for a
    /// submission with a submitted version; the verification service checks that.
    SetDraftAside,
}

/// A submission action that is not allowed from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} a submission that is {from:?}")]
pub struct IllegalSubmissionTransition {
    /// The current state.
    pub from: SubmissionState,
    /// The refused action.
    pub action: SubmissionAction,
}

impl SubmissionState {
    /// All states.
    pub const ALL: [SubmissionState; 5] = [
        SubmissionState::Draft,
        SubmissionState::Submitted,
        SubmissionState::ClarificationRequested,
        SubmissionState::UnderVerification,
        SubmissionState::Verified,
    ];

    /// The state after `action`, or why it is refused.
    pub fn apply(
        self,
        action: SubmissionAction,
    ) -> Result<SubmissionState, IllegalSubmissionTransition> {
        use SubmissionAction as A;
        use SubmissionState as S;
        let next = match (self, action) {
            (S::Draft, A::Edit) | (S::Submitted, A::Edit) => S::Draft,
            (S::ClarificationRequested, A::Edit) => S::ClarificationRequested,
            (S::Draft, A::Submit) | (S::ClarificationRequested, A::Submit) => S::Submitted,
            (S::Draft, A::SetDraftAside) => S::Submitted,
            (S::Submitted, A::StartVerification) => S::UnderVerification,
            (S::Submitted, A::RequestClarification)
            | (S::UnderVerification, A::RequestClarification) => S::ClarificationRequested,
            (S::UnderVerification, A::CompleteVerification) => S::Verified,
            (from, action) => return Err(IllegalSubmissionTransition { from, action }),
        };
        Ok(next)
    }

    /// Name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::Draft => "draft",
            SubmissionState::Submitted => "submitted",
            SubmissionState::ClarificationRequested => "clarification_requested",
            SubmissionState::UnderVerification => "under_verification",
            SubmissionState::Verified => "verified",
        }
    }
}

impl FromStr for SubmissionState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubmissionState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGAL: [(RoundState, RoundAction, RoundState); 9] = [
        (RoundState::Draft, RoundAction::Open, RoundState::Open),
        (RoundState::Open, RoundAction::Close, RoundState::Closed),
        (RoundState::Closed, RoundAction::Reopen, RoundState::Open),
        (
            RoundState::Closed,
            RoundAction::StartVerification,
            RoundState::UnderVerification,
        ),
        (
            RoundState::UnderVerification,
            RoundAction::CompleteVerification,
            RoundState::Verified,
        ),
        (
            RoundState::Verified,
            RoundAction::ReturnForVerification,
            RoundState::UnderVerification,
        ),
        (
            RoundState::Verified,
            RoundAction::Approve,
            RoundState::Approved,
        ),
        (
            RoundState::Approved,
            RoundAction::Publish,
            RoundState::Provisional,
        ),
        (
            RoundState::Provisional,
            RoundAction::Finalize,
            RoundState::Final,
        ),
    ];

    #[test]
    fn legal_round_transitions_move_forward() {
        for (from, action, to) in LEGAL {
            assert_eq!(from.apply(action), Ok(to), "{from} --{action}--> {to}");
        }
    }

    #[test]
    fn every_other_round_transition_is_illegal() {
        let mut illegal = 0;
        for from in RoundState::ALL {
            for action in RoundAction::ALL {
                if LEGAL.iter().any(|(f, a, _)| *f == from && *a == action) {
                    continue;
                }
                assert_eq!(from.apply(action), Err(IllegalTransition { from, action }));
                illegal += 1;
            }
        }
        assert_eq!(illegal, 8 * 9 - LEGAL.len());
        assert_eq!(
            RoundState::Final
                .apply(RoundAction::Publish)
                .unwrap_err()
                .to_string(),
            "cannot publish a round that is final"
        );
    }

    #[test]
    fn final_refuses_everything() {
        assert!(RoundAction::ALL
            .iter()
            .all(|a| RoundState::Final.apply(*a).is_err()));
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in RoundState::ALL {
            assert_eq!(state.as_str().parse::<RoundState>(), Ok(state));
        }
        for state in SubmissionState::ALL {
            assert_eq!(state.as_str().parse::<SubmissionState>(), Ok(state));
        }
        assert!("paused".parse::<RoundState>().is_err());
    }

    #[test]
    fn submissions_follow_clarification_loops() {
        use SubmissionAction as A;
        use SubmissionState as S;
        let mut state = S::Draft;
        for action in [
            A::Edit,
            A::Submit,
            A::StartVerification,
            A::RequestClarification,
            A::Edit,
            A::Submit,
            A::StartVerification,
            A::CompleteVerification,
        ] {
            state = state.apply(action).unwrap();
        }
        assert_eq!(state, S::Verified);
        assert!(S::Verified.apply(A::Edit).is_err());
        assert!(S::Verified.apply(A::Submit).is_err());
        assert!(S::UnderVerification.apply(A::Submit).is_err());
        assert!(S::Draft.apply(A::CompleteVerification).is_err());
    }

    #[test]
    fn only_a_draft_is_set_aside_for_its_last_submitted_version() {
        use SubmissionAction as A;
        use SubmissionState as S;
        assert_eq!(S::Draft.apply(A::SetDraftAside), Ok(S::Submitted));
        for from in [
            S::Submitted,
            S::ClarificationRequested,
            S::UnderVerification,
            S::Verified,
        ] {
            assert_eq!(
                from.apply(A::SetDraftAside),
                Err(IllegalSubmissionTransition {
                    from,
                    action: A::SetDraftAside
                })
            );
        }
        // Set aside, the last submitted version is verified like any other.
        let mut state = S::Draft;
        for action in [
            A::SetDraftAside,
            A::StartVerification,
            A::CompleteVerification,
        ] {
            state = state.apply(action).unwrap();
        }
        assert_eq!(state, S::Verified);
    }
}
