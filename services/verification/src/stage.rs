//! When verifiers, approvers, operators and units may act, given where the round and the
//! submission stand: the rules as pure functions, each answering "yes (and how)" or "not now,
//! because …" (a `FailedPrecondition` at the edge).
//!
//! The state machines themselves are `dti_domain::round`'s; these rules add what the machines
//! do not say: once verification starts, a unit's last submitted version is what is verified
//! (a draft it opened after that version and never resubmitted is set aside), a submission is
//! verified only while its round is under verification, decisions
//! change a published result only as a correction while it is provisional, objections come
//! only during the provisional period, and a result becomes final only after that period and
//! once every objection is answered. After `final`, every change is refused. Why not is written
//! in the request's language (English outside a request, for logs and background work).

use chrono::{DateTime, Utc};
use dti_domain::round::{RoundState, SubmissionState};
use dti_domain::UnitId;
use dti_i18n::Message;

/// What opening a submission does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAction {
    /// Starts its verification (submitted → under_verification).
    Start,
    /// Shows it as it stands.
    View,
}

/// Why decisions are being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionStage {
    /// During verification: accepting needs no reason.
    Verification,
    /// Correcting a provisional result: every decision needs a reason.
    Correction,
}

fn final_refusal(round: RoundState) -> Option<String> {
    (round == RoundState::Final).then(|| Message::new("verification-final").into())
}

/// `key`, a refusal naming the round's state `round`, in the request's language.
fn round_refusal(key: &'static str, round: RoundState) -> String {
    Message::new(key).arg("state", round.as_str()).into()
}

/// Whether the unit's draft is set aside so that its last submitted version is the one
/// verified: the round is under verification (or is being put under verification), the
/// submission is a draft, and the unit submitted a version before it. Such a draft was opened
/// after that version — the unit edited again, or edited while the round was reopened for it —
/// and was not resubmitted before the round closed or the reopening's deadline passed; it is
/// kept for the record and ignored. A draft with no submitted version is left alone: the unit
/// is ranked as not submitted.
pub fn sets_draft_aside(
    round: RoundState,
    submission: SubmissionState,
    latest_version: i32,
) -> bool {
    round == RoundState::UnderVerification
        && submission == SubmissionState::Draft
        && latest_version >= 1
}

/// Whether a verifier may open the submission now, and what that does.
pub fn open_action(
    round: RoundState,
    submission: SubmissionState,
    latest_version: i32,
) -> Result<OpenAction, String> {
    if latest_version < 1 {
        return Err(Message::new("verification-nothing-submitted").into());
    }
    match (round, submission) {
        (RoundState::UnderVerification, SubmissionState::Submitted) => Ok(OpenAction::Start),
        (round, SubmissionState::Submitted) => {
            Err(round_refusal("verification-open-not-now", round))
        }
        _ => Ok(OpenAction::View),
    }
}

/// Whether a verifier may record decisions now, and as what.
pub fn may_decide(round: RoundState, submission: SubmissionState) -> Result<DecisionStage, String> {
    if let Some(refusal) = final_refusal(round) {
        return Err(refusal);
    }
    match (round, submission) {
        (
            RoundState::UnderVerification,
            SubmissionState::UnderVerification | SubmissionState::Verified,
        ) => Ok(DecisionStage::Verification),
        (RoundState::Provisional, SubmissionState::Verified) => Ok(DecisionStage::Correction),
        (RoundState::UnderVerification, SubmissionState::Submitted) => {
            Err(Message::new("verification-open-first").into())
        }
        (RoundState::UnderVerification, SubmissionState::ClarificationRequested) => {
            Err(Message::new("verification-awaiting-clarification").into())
        }
        (RoundState::UnderVerification, state) => {
            Err(Message::new("verification-nothing-to-verify")
                .arg("state", state.as_str())
                .into())
        }
        (round, _) => Err(round_refusal("verification-decide-not-now", round)),
    }
}

/// Whether a verifier may send a submission back with questions, or complete it, now (the
/// submission's own state is the state machine's to check).
pub fn may_verify_submission(round: RoundState) -> Result<(), String> {
    if let Some(refusal) = final_refusal(round) {
        return Err(refusal);
    }
    if round == RoundState::UnderVerification {
        return Ok(());
    }
    Err(round_refusal("verification-verify-not-now", round))
}

/// Why the round's verification cannot be completed: one line per unit whose last submitted
/// version is not verified. Units that never submitted are no obstacle (they are ranked with
/// every indicator missing).
pub fn completion_blockers(submissions: &[(UnitId, SubmissionState, i32)]) -> Vec<String> {
    submissions
        .iter()
        .filter(|(_, state, version)| *version >= 1 && *state != SubmissionState::Verified)
        .map(|(unit, state, version)| {
            let blocker = match state {
                SubmissionState::Draft => Message::new("verification-blocker-draft"),
                state => Message::new("verification-blocker-state").arg("state", state.as_str()),
            };
            String::from(
                blocker
                    .arg("unit", unit.to_string())
                    .arg("version", i64::from(*version)),
            )
        })
        .collect()
}

/// Whether a published result may be corrected (or an objection answered) now.
pub fn may_change_publication(round: RoundState) -> Result<(), String> {
    if let Some(refusal) = final_refusal(round) {
        return Err(refusal);
    }
    if round == RoundState::Provisional {
        return Ok(());
    }
    Err(round_refusal("verification-correct-not-now", round))
}

/// Whether a unit may object now.
pub fn may_object(
    round: RoundState,
    provisional_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if let Some(refusal) = final_refusal(round) {
        return Err(refusal);
    }
    if round != RoundState::Provisional {
        return Err(round_refusal("verification-object-not-now", round));
    }
    match provisional_until {
        Some(until) if now > until => Err(Message::new("verification-period-ended")
            .arg("until", until.to_string())
            .into()),
        Some(_) => Ok(()),
        None => Err(Message::new("verification-no-period").into()),
    }
}

/// Whether the provisional result may become final now.
pub fn may_finalize(
    provisional_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    open_objections: usize,
) -> Result<(), String> {
    let Some(until) = provisional_until else {
        return Err(Message::new("verification-no-period").into());
    };
    if now < until {
        return Err(Message::new("verification-period-running")
            .arg("until", until.to_string())
            .into());
    }
    if open_objections > 0 {
        return Err(Message::new("verification-objections-open")
            .arg("count", open_objections)
            .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn opening_starts_a_submitted_version_only_during_verification() {
        use RoundState as R;
        use SubmissionState as S;
        assert_eq!(
            open_action(R::UnderVerification, S::Submitted, 1),
            Ok(OpenAction::Start)
        );
        assert_eq!(
            open_action(R::UnderVerification, S::UnderVerification, 2),
            Ok(OpenAction::View)
        );
        assert_eq!(
            open_action(R::Provisional, S::Verified, 1),
            Ok(OpenAction::View)
        );
        assert!(open_action(R::Closed, S::Submitted, 1).is_err());
        assert!(open_action(R::UnderVerification, S::Draft, 0).is_err());
    }

    #[test]
    fn decisions_during_verification_corrections_while_provisional_never_when_final() {
        use RoundState as R;
        use SubmissionState as S;
        assert_eq!(
            may_decide(R::UnderVerification, S::UnderVerification),
            Ok(DecisionStage::Verification)
        );
        assert_eq!(
            may_decide(R::UnderVerification, S::Verified),
            Ok(DecisionStage::Verification)
        );
        assert_eq!(
            may_decide(R::Provisional, S::Verified),
            Ok(DecisionStage::Correction)
        );
        for (round, submission) in [
            (R::UnderVerification, S::Submitted),
            (R::UnderVerification, S::ClarificationRequested),
            (R::UnderVerification, S::Draft),
            (R::Closed, S::Submitted),
            (R::Verified, S::Verified),
            (R::Approved, S::Verified),
        ] {
            assert!(
                may_decide(round, submission).is_err(),
                "{round} {submission:?}"
            );
        }
        let refused = may_decide(R::Final, S::Verified).unwrap_err();
        assert!(refused.contains("final"), "{refused}");
    }

    #[test]
    fn submissions_are_verified_only_while_the_round_is_under_verification() {
        assert!(may_verify_submission(RoundState::UnderVerification).is_ok());
        for round in [
            RoundState::Closed,
            RoundState::Verified,
            RoundState::Provisional,
            RoundState::Final,
        ] {
            assert!(may_verify_submission(round).is_err());
        }
    }

    #[test]
    fn every_submitted_unit_must_be_verified_and_silent_units_do_not_block() {
        let unit = |id: &str| UnitId::parse(id).expect("id");
        let blockers = completion_blockers(&[
            (unit("quan-1"), SubmissionState::Verified, 2),
            (unit("quan-3"), SubmissionState::Draft, 0),
            (unit("quan-4"), SubmissionState::ClarificationRequested, 1),
            (unit("quan-5"), SubmissionState::Draft, 1),
        ]);
        assert_eq!(blockers.len(), 2);
        assert!(blockers[0].contains("quan-4") && blockers[0].contains("clarification"));
        assert!(blockers[1].contains("quan-5") && blockers[1].contains("version 1"));
    }

    #[test]
    fn a_draft_after_a_submitted_version_is_set_aside_once_verification_starts() {
        use RoundState as R;
        use SubmissionState as S;
        assert!(sets_draft_aside(R::UnderVerification, S::Draft, 1));
        assert!(sets_draft_aside(R::UnderVerification, S::Draft, 3));
        // Never submitted: nothing to fall back to; the unit is ranked as not submitted.
        assert!(!sets_draft_aside(R::UnderVerification, S::Draft, 0));
        // Before verification the unit may still be reopened and resubmit.
        for round in [R::Open, R::Closed] {
            assert!(!sets_draft_aside(round, S::Draft, 1), "{round}");
        }
        for submission in [
            S::Submitted,
            S::ClarificationRequested,
            S::UnderVerification,
            S::Verified,
        ] {
            assert!(
                !sets_draft_aside(R::UnderVerification, submission, 1),
                "{submission:?}"
            );
        }
    }

    #[test]
    fn objections_only_within_the_provisional_period() {
        let now = Utc::now();
        let until = now + Duration::days(7);
        assert!(may_object(RoundState::Provisional, Some(until), now).is_ok());
        let late = may_object(
            RoundState::Provisional,
            Some(until),
            until + Duration::seconds(1),
        );
        assert!(late.unwrap_err().contains("ended"));
        assert!(may_object(RoundState::Approved, None, now).is_err());
        assert!(may_object(RoundState::Final, Some(until), now)
            .unwrap_err()
            .contains("final"));
    }

    #[test]
    fn finalizing_waits_for_the_period_and_every_answer() {
        let now = Utc::now();
        let ended = now - Duration::seconds(1);
        assert!(may_finalize(Some(ended), now, 0).is_ok());
        assert!(may_finalize(Some(now + Duration::hours(1)), now, 0)
            .unwrap_err()
            .contains("runs until"));
        assert!(may_finalize(Some(ended), now, 2)
            .unwrap_err()
            .contains("2 objection"));
        assert!(may_finalize(None, now, 0).is_err());
    }

    #[test]
    fn corrections_only_while_provisional() {
        assert!(may_change_publication(RoundState::Provisional).is_ok());
        assert!(may_change_publication(RoundState::Approved).is_err());
        assert!(may_change_publication(RoundState::Final)
            .unwrap_err()
            .contains("final"));
    }
}
