//! Submitting: a unit's draft becomes a new immutable version, or a whole assessment is
//! submitted at once — written once, straight into its version, which is then the draft — with
//! an audit entry that keeps the digest of its values. Both write the version and the
//! `submission.submitted.v1` event in the submit's transaction; a retry with the same client
//! request id returns the version the first attempt created and changes nothing.

use std::collections::BTreeMap;

use chrono::Utc;
use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_domain::framework::Framework;
use dti_domain::round::{SubmissionAction, SubmissionState};
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_workflow::submissions::{self as workflow, SubmissionHead};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::drafts::GENERAL_INFO_AUDIT;
use super::events::announce_submitted;
use super::model::{
    general_info_json, next_version, AssessmentInput, Entry, SubmissionView, Submitted,
};
use super::validation::{
    check_assessment_size, checked_request_id, entry_warnings, together, validate_general_info,
    validate_not_applicable, validate_values, ValidValues,
};
use super::{check_window, round_of_unit, store, DraftChange, Submissions};
use crate::access::require_writer;
use crate::window::may_change;
use crate::SubmissionError;

impl Submissions {
    /// Submits the draft as a new immutable version and announces it. A retry with the same
    /// `client_request_id` returns the version the first attempt created and changes nothing.
    #[tracing::instrument(skip_all, fields(submission = %id))]
    pub async fn submit(
        &self,
        actor: &Principal,
        id: SubmissionId,
        client_request_id: &str,
    ) -> Result<Submitted, SubmissionError> {
        let request_id = checked_request_id(client_request_id)?;
        let mut tx = self.begin().await?;
        let head = workflow::lock(&mut tx, id).await?;
        require_writer(actor, &head.unit)?;
        if let Some(version) = store::earlier_version(&mut tx, id, request_id).await? {
            drop(tx);
            return self.retried(id, version).await;
        }
        check_window(&mut tx, &head).await?;
        let (state, entry) = workflow::transition_entry(&head, SubmissionAction::Submit, actor)?;
        dti_audit::append_all(&mut tx, entry.as_slice()).await?;
        let version = next_version(head.latest_version)?;
        let submitted_at = store::write_version(
            &mut tx,
            &store::NewVersion {
                id,
                version,
                request_id,
                submitted_by: &actor.subject,
                state,
            },
        )
        .await?;
        announce_submitted(&mut tx, &self.nats_prefix, &head, version, submitted_at).await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a submitted version"))?;
        metrics::counter!("dti_submission_submits_total", "outcome" => "created").increment(1);
        Ok(self.submitted(self.view(id).await?, version, true).await)
    }

    /// Creates the unit's draft if needed, replaces it with exactly the `assessment` (values,
    /// not-applicable marks and general information), and submits it — one transaction. A retry
    /// with the same `client_request_id` returns the version the first attempt created.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit, indicators = assessment.values.len()))]
    pub async fn submit_assessment(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        assessment: &AssessmentInput,
        client_request_id: &str,
    ) -> Result<Submitted, SubmissionError> {
        let AssessmentInput {
            values,
            not_applicable,
            general_info,
        } = assessment;
        require_writer(actor, unit)?;
        let request_id = checked_request_id(client_request_id)?;
        let framework = self.framework(round).await?;
        check_assessment_size(
            values.len() + not_applicable.len(),
            self.max_values_per_request,
        )?;
        let values_checked = if values.is_empty() {
            Ok((BTreeMap::new(), Vec::new()))
        } else {
            validate_values(&framework, unit, values)
        };
        let ((decoded, _warnings), general_info) = together(
            values_checked,
            validate_general_info(&framework, unit, general_info),
        )?;
        let marks = validate_not_applicable(&framework, unit, not_applicable, &decoded)?;
        let mut tx = self.begin().await?;
        let round_for_unit = round_of_unit(&mut tx, round, unit).await?;
        let (head, created_at) = store::get_or_create_locked(&mut tx, round, unit).await?;
        if let Some(version) = store::earlier_version(&mut tx, head.id, request_id).await? {
            drop(tx);
            return self.retried(head.id, version).await;
        }
        may_change(
            &round_for_unit.record,
            round_for_unit.reopened_until,
            Some(head.state),
            Utc::now(),
        )
        .map_err(SubmissionError::not_now)?;
        // A submitted version goes back to a draft first, as an edit would.
        let edit = (head.state == SubmissionState::Submitted)
            .then(|| workflow::transition_entry(&head, SubmissionAction::Edit, actor))
            .transpose()?;
        let before = SubmissionHead {
            state: edit.as_ref().map_or(head.state, |(state, _)| *state),
            ..head.clone()
        };
        let (state, submit_entry) =
            workflow::transition_entry(&before, SubmissionAction::Submit, actor)?;
        let entries = assessment_entries(&framework, &decoded, &marks);
        // The values are stored once, in the version; the audit entry holds their digest.
        let mut after = Map::new();
        after.insert("values_sha256".to_owned(), Value::String(digest(&entries)));
        after.insert("indicators".to_owned(), Value::from(entries.len()));
        after.insert(
            GENERAL_INFO_AUDIT.to_owned(),
            general_info_json(&general_info),
        );
        let replaced = DraftChange {
            action: "submission.assessment_replaced",
            before: Map::new(),
            after,
        }
        .entry(&head, actor);
        // The unit's chain records, in order: the edit, the replaced assessment, the submit.
        let audit: Vec<AuditEntry> = edit
            .and_then(|(_, entry)| entry)
            .into_iter()
            .chain([replaced])
            .chain(submit_entry)
            .collect();
        dti_audit::append_all(&mut tx, &audit).await?;
        let version = next_version(head.latest_version)?;
        let submitted_at = store::write_assessment_version(
            &mut tx,
            &store::NewVersion {
                id: head.id,
                version,
                request_id,
                submitted_by: &actor.subject,
                state,
            },
            &general_info,
            (&decoded, &marks),
        )
        .await?;
        announce_submitted(&mut tx, &self.nats_prefix, &head, version, submitted_at).await?;
        tx.commit().await.map_err(SubmissionError::database(
            "committing a submitted assessment",
        ))?;
        metrics::counter!("dti_submission_submits_total", "outcome" => "created").increment(1);
        Ok(self
            .submitted(
                SubmissionView {
                    head: SubmissionHead {
                        state,
                        latest_version: version,
                        ..head
                    },
                    entries,
                    general_info,
                    clarifications: Vec::new(),
                    created_at,
                    updated_at: submitted_at,
                },
                version,
                true,
            )
            .await)
    }

    /// The outcome of a submit, with the warnings about the submitted values.
    async fn submitted(&self, view: SubmissionView, version: i32, created: bool) -> Submitted {
        let warnings = self
            .framework(&view.head.round)
            .await
            .map(|framework| {
                entry_warnings(
                    &framework,
                    &view.head.unit,
                    &view.entries,
                    &view.general_info,
                )
            })
            .unwrap_or_default();
        Submitted {
            view,
            version,
            created,
            warnings,
        }
    }

    /// The answer to a retried submit: the version the first attempt created.
    async fn retried(&self, id: SubmissionId, version: i32) -> Result<Submitted, SubmissionError> {
        metrics::counter!("dti_submission_submits_total", "outcome" => "retry").increment(1);
        Ok(self.submitted(self.view(id).await?, version, false).await)
    }
}

/// SHA-256 (hex) of entries as the audit log writes them (`{code: values or not-applicable}`,
/// in framework order): what an assessment's audit entry keeps of its values.
fn digest(entries: &[(String, Entry)]) -> String {
    let canonical: Vec<(&str, Value)> = entries
        .iter()
        .map(|(code, entry)| (code.as_str(), entry.to_json()))
        .collect();
    let text = serde_json::to_vec(&canonical).unwrap_or_default();
    hex::encode(Sha256::digest(text))
}

/// An assessment's values and not-applicable marks as entries, in framework order.
fn assessment_entries(
    framework: &Framework,
    values: &ValidValues,
    marks: &[(String, String)],
) -> Vec<(String, Entry)> {
    let mut entries: Vec<(String, Entry)> = values
        .iter()
        .map(|(code, v)| (code.clone(), Entry::Values(v.clone())))
        .chain(
            marks
                .iter()
                .map(|(code, reason)| (code.clone(), Entry::NotApplicable(reason.clone()))),
        )
        .collect();
    entries.sort_by_cached_key(|(code, _)| {
        framework
            .indicator_by_str(code)
            .map(|i| i.code.sort_key())
            .unwrap_or_default()
    });
    entries
}
