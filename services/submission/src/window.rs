//! When a unit may change or submit its self-assessment: the one rule, as a pure function.
//!
//! A unit may edit and submit while its round is open and before the round's deadline; after
//! that only if an operator reopened the round for the unit and the reopening's own deadline
//! has not passed, or if a verifier sent the submission back for clarification (then the round
//! is usually past its deadline, and the unit answers by resubmitting). Why not is written in
//! the request's language.

use chrono::{DateTime, Utc};
use dti_domain::round::{RoundState, SubmissionState};
use dti_i18n::Message;
use dti_workflow::rounds::RoundRecord;

/// Why a unit may act now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// The round is open and before its deadline.
    RoundOpen,
    /// An operator reopened the round for the unit.
    Reopened,
    /// A verifier asked for clarification.
    Clarification,
}

/// Decides whether the unit may edit or submit at `now`, or says why not.
pub fn may_change(
    round: &RoundRecord,
    reopened_until: Option<DateTime<Utc>>,
    submission: Option<SubmissionState>,
    now: DateTime<Utc>,
) -> Result<Allowed, String> {
    if submission == Some(SubmissionState::ClarificationRequested)
        && matches!(
            round.state,
            RoundState::Open | RoundState::Closed | RoundState::UnderVerification
        )
    {
        return Ok(Allowed::Clarification);
    }
    if round.accepts_submissions_at(now) {
        return Ok(Allowed::RoundOpen);
    }
    let reopenable = matches!(round.state, RoundState::Open | RoundState::Closed);
    if let Some(until) = reopened_until {
        if reopenable && now <= until {
            return Ok(Allowed::Reopened);
        }
        if reopenable {
            return Err(Message::new("window-reopening-passed")
                .arg("round", round.round.to_string())
                .arg("until", until.to_string())
                .into());
        }
    }
    let refusal = match (round.state, round.deadline) {
        (RoundState::Open, Some(deadline)) => Message::new("window-deadline-passed")
            .arg("round", round.round.to_string())
            .arg("deadline", deadline.to_string()),
        (state, _) => Message::new("window-round-not-accepting")
            .arg("round", round.round.to_string())
            .arg("state", state.to_string()),
    };
    Err(refusal.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use dti_domain::{FrameworkId, RoundRef};

    fn round(state: RoundState, deadline: DateTime<Utc>) -> RoundRecord {
        RoundRecord {
            round: RoundRef {
                year: 2023,
                framework: FrameworkId::parse("hcm-2023-district").expect("id"),
            },
            state,
            deadline: Some(deadline),
        }
    }

    #[test]
    fn open_round_accepts_until_and_at_its_deadline() {
        let now = Utc::now();
        let open = round(RoundState::Open, now);
        assert_eq!(may_change(&open, None, None, now), Ok(Allowed::RoundOpen));
        let late = may_change(&open, None, None, now + Duration::seconds(1)).unwrap_err();
        assert!(late.contains("deadline"), "{late}");
    }

    #[test]
    fn reopening_lets_one_unit_in_until_its_own_deadline() {
        let now = Utc::now();
        let closed = round(RoundState::Closed, now - Duration::days(1));
        let until = now + Duration::hours(1);
        assert_eq!(
            may_change(&closed, Some(until), Some(SubmissionState::Draft), now),
            Ok(Allowed::Reopened)
        );
        assert!(may_change(&closed, Some(until), None, until + Duration::seconds(1)).is_err());
        assert!(may_change(&closed, None, None, now).is_err());
    }

    #[test]
    fn clarification_reopens_the_submission_during_verification_only() {
        let now = Utc::now();
        let past = now - Duration::days(3);
        let clarifying = Some(SubmissionState::ClarificationRequested);
        for state in [RoundState::Closed, RoundState::UnderVerification] {
            assert_eq!(
                may_change(&round(state, past), None, clarifying, now),
                Ok(Allowed::Clarification)
            );
        }
        for state in [
            RoundState::Verified,
            RoundState::Approved,
            RoundState::Final,
        ] {
            assert!(may_change(&round(state, past), None, clarifying, now).is_err());
        }
    }

    #[test]
    fn a_round_past_open_refuses_even_a_reopened_unit() {
        let now = Utc::now();
        let verifying = round(RoundState::UnderVerification, now - Duration::days(1));
        let refused =
            may_change(&verifying, Some(now + Duration::hours(1)), None, now).unwrap_err();
        assert!(refused.contains("under_verification"), "{refused}");
    }
}
