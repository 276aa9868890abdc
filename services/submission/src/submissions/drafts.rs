//! Changing a unit's draft: creating it, setting indicators' values and general-information
//! fields, marking an indicator not applicable and clearing one. Each change is validated
//! first, is a no-op when it changes nothing (a retry), and otherwise moves the submission back
//! to draft, writes and audits in one transaction.

use chrono::Utc;
use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_domain::round::SubmissionAction;
use dti_domain::values::InputIssue;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_workflow::submissions as workflow;
use serde_json::{json, Map, Value};

use super::model::{
    general_info_json, not_applicable_json, GeneralInfo, GeneralInfoInput, IndicatorInput,
    SubmissionView,
};
use super::validation::{
    check_values_count, checked_reason, requested_indicator, together, validate_general_info,
    validate_values,
};
use super::{round_of_unit, store, DraftChange, Submissions};
use crate::access::require_writer;
use crate::window::may_change;
use crate::SubmissionError;

/// The key of a change's audit entry that holds general-information fields (indicator codes
/// are the others).
pub(super) const GENERAL_INFO_AUDIT: &str = "general_info";

impl Submissions {
    /// Creates the unit's draft for `round`, or returns the existing one.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit))]
    pub async fn create_draft(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<SubmissionView, SubmissionError> {
        require_writer(actor, unit)?;
        self.framework(round).await?;
        if let Some(id) = store::find_id(&self.pool, round, unit).await? {
            return self.view(id).await;
        }
        let mut tx = self.begin().await?;
        let found = round_of_unit(&mut tx, round, unit).await?;
        may_change(&found.record, found.reopened_until, None, Utc::now())
            .map_err(SubmissionError::not_now)?;
        let id = SubmissionId::generate();
        if store::insert_draft(&mut tx, id, round, unit).await? {
            dti_audit::append(
                &mut tx,
                &AuditEntry::on_unit(round, unit, actor)
                    .did("submission.create", format!("submission {id}"))
                    .change(None, Some(json!({"state": "draft"}))),
            )
            .await?;
        }
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a new draft"))?;
        let id = store::find_id(&self.pool, round, unit)
            .await?
            .ok_or_else(|| SubmissionError::not_found(format!("the draft of {unit} vanished")))?;
        self.view(id).await
    }

    /// Replaces the values of the given indicators and the given general-information fields
    /// (the draft's other fields stay). Everything is validated first; one invalid value
    /// refuses the whole request and nothing is stored. Returns the warnings.
    #[tracing::instrument(skip_all, fields(submission = %id, indicators = values.len()))]
    pub async fn set_values(
        &self,
        actor: &Principal,
        id: SubmissionId,
        values: &[IndicatorInput],
        general_info: &[GeneralInfoInput],
    ) -> Result<(SubmissionView, Vec<InputIssue>), SubmissionError> {
        check_values_count(
            values.len() + general_info.len(),
            self.max_values_per_request,
        )?;
        let mut tx = self.begin().await?;
        let head = self.lock_for_change(&mut tx, actor, id).await?;
        let framework = self.framework(&head.round).await?;
        let ((decoded, warnings), fields) = together(
            validate_values(&framework, &head.unit, values),
            validate_general_info(&framework, &head.unit, general_info),
        )?;
        let codes: Vec<&str> = decoded.keys().map(String::as_str).collect();
        let mut before = store::stored_entries(&mut tx, id, &codes).await?;
        let mut after = store::values_audit(&decoded);
        let stored_info = if fields.is_empty() {
            GeneralInfo::new()
        } else {
            store::general_info(&mut tx, id).await?
        };
        if !fields.is_empty() {
            let replaced: Map<String, Value> = fields
                .keys()
                .map(|key| {
                    (
                        key.clone(),
                        stored_info.get(key).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect();
            before.insert(GENERAL_INFO_AUDIT.to_owned(), Value::Object(replaced));
            after.insert(GENERAL_INFO_AUDIT.to_owned(), general_info_json(&fields));
        }
        if before == after {
            // A retry, or values already stored: nothing changes, not even the state.
            drop(tx);
            return Ok((self.view(id).await?, warnings));
        }
        workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
        if !decoded.is_empty() {
            store::write_values(&mut tx, id, &decoded).await?;
        }
        if !fields.is_empty() {
            let mut merged = stored_info;
            merged.extend(fields);
            store::write_general_info(&mut tx, id, &merged).await?;
        }
        let change = DraftChange {
            action: "submission.values_set",
            before,
            after,
        };
        self.commit_change(tx, &head, actor, change, "committing draft values")
            .await?;
        Ok((self.view(id).await?, warnings))
    }

    /// Marks an indicator not applicable to the unit, with a reason, replacing its values.
    #[tracing::instrument(skip_all, fields(submission = %id, indicator = code))]
    pub async fn set_not_applicable(
        &self,
        actor: &Principal,
        id: SubmissionId,
        code: &str,
        reason: &str,
    ) -> Result<SubmissionView, SubmissionError> {
        let reason = checked_reason(reason)?;
        let mut tx = self.begin().await?;
        let head = self.lock_for_change(&mut tx, actor, id).await?;
        let framework = &self.framework(&head.round).await?;
        let code = requested_indicator(framework, &head.unit, code)?
            .code
            .to_string();
        let before = store::stored_entries(&mut tx, id, &[code.as_str()]).await?;
        let mark = not_applicable_json(reason);
        if before.get(&code) == Some(&mark) {
            drop(tx);
            return self.view(id).await;
        }
        workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
        store::write_not_applicable(&mut tx, id, &code, reason).await?;
        let mut after = Map::new();
        after.insert(code, mark);
        let change = DraftChange {
            action: "submission.not_applicable_set",
            before,
            after,
        };
        self.commit_change(tx, &head, actor, change, "committing a not-applicable mark")
            .await?;
        self.view(id).await
    }

    /// Removes an indicator's values or not-applicable mark from the draft.
    #[tracing::instrument(skip_all, fields(submission = %id, indicator = code))]
    pub async fn clear_indicator(
        &self,
        actor: &Principal,
        id: SubmissionId,
        code: &str,
    ) -> Result<SubmissionView, SubmissionError> {
        let mut tx = self.begin().await?;
        let head = self.lock_for_change(&mut tx, actor, id).await?;
        let framework = &self.framework(&head.round).await?;
        let code = requested_indicator(framework, &head.unit, code)?
            .code
            .to_string();
        let before = store::stored_entries(&mut tx, id, &[code.as_str()]).await?;
        if before.is_empty() {
            return self.view(id).await;
        }
        workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
        store::delete_entry(&mut tx, id, &code).await?;
        let mut after = Map::new();
        after.insert(code, Value::Null);
        let change = DraftChange {
            action: "submission.indicator_cleared",
            before,
            after,
        };
        self.commit_change(tx, &head, actor, change, "committing a cleared indicator")
            .await?;
        self.view(id).await
    }
}
