//! Units' submissions: drafts, their values, and immutable submitted versions.
//!
//! Every change runs in one transaction that locks the submission's row, checks who is asking
//! and whether the unit may change it now ([`crate::window`]), validates the values with the
//! domain (the same checks and messages as `dtictl`), writes, appends the change to the unit's
//! audit chain and — for a submit — writes the new version and the `submission.submitted.v1`
//! event into the outbox. Bad input changes nothing: it is refused before anything is written,
//! and the transaction rolls back.
//!
//! [`Submissions`] takes and returns domain values; the gRPC layer ([`crate::api`]) converts
//! protobuf to and from them. Modules:
//! - `model`: requests' values and general information, views, entries and version numbers;
//! - `validation`: checking a request before anything is written;
//! - `drafts`: creating a draft and changing its values;
//! - `submit`: submitting a draft, or a whole assessment at once;
//! - `views`: reading a submission and its versions;
//! - `store`: the SQL behind a change;
//! - `events`: the `submission.submitted.v1` event.

mod drafts;
mod events;
mod model;
mod store;
mod submit;
mod validation;
mod views;

use std::sync::Arc;

use chrono::Utc;
use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_db::{PgPool, PgTransaction};
use dti_domain::framework::Framework;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_service_kit::frameworks::FrameworkCache;
use dti_workflow::rounds::{self, RoundForUnit};
use dti_workflow::submissions::{self as workflow, SubmissionHead};
use serde_json::{Map, Value};

pub use events::SUBMITTED_EVENT;
pub use model::{
    version_number, AssessmentInput, Clarification, Entry, GeneralInfo, GeneralInfoInput,
    IndicatorInput, SubmissionView, Submitted, VersionOutOfRange, VersionView,
};

use crate::access::require_writer;
use crate::window::may_change;
use crate::SubmissionError;

/// The submissions of every round, over the platform database.
#[derive(Debug, Clone)]
pub struct Submissions {
    pool: PgPool,
    frameworks: FrameworkCache,
    nats_prefix: String,
    max_values_per_request: usize,
}

impl Submissions {
    /// Submissions stored in `pool`, validated with `frameworks`, announced under `nats_prefix`.
    pub fn new(
        pool: PgPool,
        frameworks: FrameworkCache,
        nats_prefix: String,
        max_values_per_request: usize,
    ) -> Self {
        Self {
            pool,
            frameworks,
            nats_prefix,
            max_values_per_request,
        }
    }

    /// The framework of `round`, or an invalid-request error naming the field (one an operator
    /// has just stored through another replica is loaded first).
    async fn framework(&self, round: &RoundRef) -> Result<Arc<Framework>, SubmissionError> {
        self.frameworks
            .scored("round.framework", &round.framework)
            .await
    }

    async fn begin(&self) -> Result<PgTransaction, SubmissionError> {
        self.pool
            .begin()
            .await
            .map_err(SubmissionError::database("beginning a transaction"))
    }

    /// Locks the submission, checks the caller owns it and that the unit may change it now.
    async fn lock_for_change(
        &self,
        tx: &mut PgTransaction,
        actor: &Principal,
        id: SubmissionId,
    ) -> Result<SubmissionHead, SubmissionError> {
        let head = workflow::lock(tx, id).await?;
        require_writer(actor, &head.unit)?;
        check_window(tx, &head).await?;
        Ok(head)
    }

    /// Marks the draft changed and appends the change to the unit's audit chain.
    async fn touch_and_audit(
        &self,
        tx: &mut PgTransaction,
        head: &SubmissionHead,
        actor: &Principal,
        change: DraftChange<'_>,
    ) -> Result<(), SubmissionError> {
        store::touch(tx, head.id).await?;
        dti_audit::append(tx, &change.entry(head, actor)).await?;
        Ok(())
    }

    /// Marks the draft changed, audits the change and commits `tx` (`committing` names the
    /// step when the commit fails).
    async fn commit_change(
        &self,
        mut tx: PgTransaction,
        head: &SubmissionHead,
        actor: &Principal,
        change: DraftChange<'_>,
        committing: &'static str,
    ) -> Result<(), SubmissionError> {
        self.touch_and_audit(&mut tx, head, actor, change).await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database(committing))
    }
}

/// A change of a draft as the unit's audit chain records it.
struct DraftChange<'a> {
    /// The audit action, e.g. `submission.values_set`.
    action: &'a str,
    /// The changed indicators before, as audit JSON.
    before: Map<String, Value>,
    /// The changed indicators after, as audit JSON.
    after: Map<String, Value>,
}

impl<'a> DraftChange<'a> {
    /// The entry of the unit's audit chain that records this change of `head`'s draft.
    fn entry<'e>(self, head: &'e SubmissionHead, actor: &'e Principal) -> AuditEntry<'e>
    where
        'a: 'e,
    {
        AuditEntry::on_unit(&head.round, &head.unit, actor)
            .did(self.action, format!("submission {}", head.id))
            .change(
                Some(Value::Object(self.before)),
                Some(Value::Object(self.after)),
            )
    }
}

/// The round as `unit` sees it (its record and the unit's reopening, one statement) when the
/// unit is assessed in it: not found when the round does not exist, permission denied when the
/// unit is not in its cohort.
async fn round_of_unit(
    tx: &mut PgTransaction,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<RoundForUnit, SubmissionError> {
    let found = find_round(tx, round, unit).await?;
    if !found.in_cohort {
        return Err(SubmissionError::permission_denied(
            dti_i18n::Message::new("submission-unit-not-in-round")
                .arg("unit", unit.to_string())
                .arg("round", round.to_string())
                .into(),
        ));
    }
    Ok(found)
}

/// The round as `unit` sees it, or not found.
async fn find_round(
    tx: &mut PgTransaction,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<RoundForUnit, SubmissionError> {
    rounds::find_for_unit(&mut **tx, round, unit)
        .await?
        .ok_or_else(|| SubmissionError::not_found(dti_workflow::rounds::not_found(round).into()))
}

/// Refuses when the round's dates and states do not let the unit change its submission.
async fn check_window(
    tx: &mut PgTransaction,
    head: &SubmissionHead,
) -> Result<(), SubmissionError> {
    let found = find_round(tx, &head.round, &head.unit).await?;
    may_change(
        &found.record,
        found.reopened_until,
        Some(head.state),
        Utc::now(),
    )
    .map(|_| ())
    .map_err(SubmissionError::not_now)
}
