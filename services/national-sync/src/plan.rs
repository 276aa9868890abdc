//! The dry run: for every item, what a sync would do now, the exact body it would send and how
//! the value differs from the last one the national system accepted; and a digest of what
//! would be pushed, which the operator's confirmation must match.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::completeness::{item_completeness, Status};
use crate::content::idempotency_key;
use crate::national_api::{PushBody, PushItem, PushOwnerPart, PUSH_SCHEMA};
use crate::national_set::{combine_name, ItemKey, NationalItem, NationalSet, NationalYear};
use crate::snapshot::{ItemState, JobStatus, VersionState, YearSnapshot};

/// What a sync would do with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    /// Push its latest version.
    Push,
    /// The national system accepted the latest version.
    AlreadyAccepted,
    /// The latest version is queued or being pushed.
    InProgress,
    /// The national system rejected the latest version.
    Rejected,
    /// A part is missing or disputed.
    Incomplete,
}

/// How the current value differs from the last accepted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueDiff {
    /// Nothing accepted yet.
    Added,
    /// Content differs.
    Changed,
    /// Same content.
    Unchanged,
    /// No current value.
    None,
}

/// One item of a dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedItem {
    /// The item.
    pub key: ItemKey,
    /// What a sync would do.
    pub action: PlanAction,
    /// Diff against the last accepted value.
    pub diff: ValueDiff,
    /// Latest version (0 when none).
    pub version: i32,
    /// Latest value.
    pub value: Option<Value>,
    /// Last accepted version and value.
    pub last_accepted: Option<(i32, Value)>,
    /// For `Push`: the idempotency key.
    pub idempotency_key: Option<String>,
    /// For `Push`: the body.
    pub body: Option<Value>,
    /// For `Rejected`: the national system's reason.
    pub rejection_reason: Option<String>,
}

/// A dry run of a year.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncPlan {
    /// Year.
    pub year: NationalYear,
    /// Digest of the pushes (hex SHA-256).
    pub digest: String,
    /// Every item, in framework order.
    pub items: Vec<PlannedItem>,
}

impl SyncPlan {
    /// The items to push.
    pub fn to_push(&self) -> impl Iterator<Item = &PlannedItem> {
        self.items
            .iter()
            .filter(|item| item.action == PlanAction::Push)
    }
}

/// The dry run of `year` from its state; `province` is the city's code in the national system.
pub fn plan(
    set: &NationalSet,
    snapshot: &YearSnapshot,
    year: NationalYear,
    province: &str,
) -> SyncPlan {
    let items: Vec<PlannedItem> = set
        .items()
        .iter()
        .map(|item| plan_item(set, item, &snapshot.item(&item.key), year, province))
        .collect();
    let mut hasher = Sha256::new();
    hasher.update(format!("{}/{year}/{province}\n", set.framework_id()));
    for item in items.iter().filter(|item| item.action == PlanAction::Push) {
        if let Some(key) = &item.idempotency_key {
            hasher.update(key.as_bytes());
            hasher.update(b"\n");
        }
    }
    SyncPlan {
        year,
        digest: hex::encode(hasher.finalize()),
        items,
    }
}

fn plan_item(
    set: &NationalSet,
    item: &NationalItem,
    state: &ItemState,
    year: NationalYear,
    province: &str,
) -> PlannedItem {
    let complete =
        item_completeness(set, &item.key, state).is_some_and(|c| c.status == Status::Complete);
    let latest_job = state.latest_job();
    let last_accepted = state.last_accepted();
    let mut planned = PlannedItem {
        key: item.key.clone(),
        action: PlanAction::Incomplete,
        diff: ValueDiff::None,
        version: state.latest.as_ref().map_or(0, |latest| latest.version),
        value: state.latest.as_ref().map(|latest| latest.value.clone()),
        last_accepted: last_accepted.map(|job| (job.version, job.value.clone())),
        idempotency_key: None,
        body: None,
        rejection_reason: None,
    };
    let Some(latest) = &state.latest else {
        return planned;
    };
    planned.diff = match last_accepted {
        None => ValueDiff::Added,
        Some(job) if job.content_hash == latest.content_hash => ValueDiff::Unchanged,
        Some(_) => ValueDiff::Changed,
    };
    planned.action = match latest_job.map(|job| job.status) {
        Some(JobStatus::Accepted) => PlanAction::AlreadyAccepted,
        Some(JobStatus::Pending) => PlanAction::InProgress,
        Some(JobStatus::Rejected) => {
            planned.rejection_reason = latest_job.and_then(|job| job.reason.clone());
            PlanAction::Rejected
        }
        // A latest version is never superseded (only older ones are); nothing to push then.
        Some(JobStatus::Superseded) => PlanAction::InProgress,
        None if !complete => PlanAction::Incomplete,
        None => {
            let key = idempotency_key(
                province,
                year,
                &item.key,
                latest.version,
                &latest.content_hash,
            );
            planned.body =
                serde_json::to_value(push_body(set, item, latest, year, province, &key)).ok();
            planned.idempotency_key = Some(key);
            PlanAction::Push
        }
    };
    planned
}

/// The body that pushes `version` of `item`.
pub fn push_body(
    set: &NationalSet,
    item: &NationalItem,
    version: &VersionState,
    year: NationalYear,
    province: &str,
    idempotency_key: &str,
) -> PushBody {
    PushBody {
        schema: PUSH_SCHEMA.to_owned(),
        province: province.to_owned(),
        framework: set.framework_id().to_string(),
        year: year.as_u16(),
        item: PushItem {
            kind: item.key.kind.as_str().to_owned(),
            code: item.key.code.clone(),
            name: item.name.clone(),
        },
        value_version: version.version,
        value: version.value.clone(),
        combine: combine_name(item.combine).to_owned(),
        owners: version
            .parts
            .iter()
            .map(|part| PushOwnerPart {
                department: part.department.clone(),
                department_name: dti_domain::UnitId::parse(part.department.as_str())
                    .ok()
                    .and_then(|id| set.department_name(&id).map(str::to_owned))
                    .unwrap_or_else(|| part.department.clone()),
                value: part.value.clone(),
                evidence: part.evidence.clone(),
            })
            .collect(),
        idempotency_key: idempotency_key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::VersionPart;
    use crate::snapshot::{JobState, PartState};
    use serde_json::json;

    fn set() -> NationalSet {
        NationalSet::builtin("mic-2022-province").expect("routes")
    }

    fn year() -> NationalYear {
        NationalYear::for_tests(2024)
    }

    fn complete_state(value: Value, hash: u8) -> ItemState {
        ItemState {
            parts: vec![PartState {
                department: "cuc-thong-ke".into(),
                value: value.clone(),
                evidence: vec![],
                revision: 1,
                dispute: None,
            }],
            latest: Some(VersionState {
                version: 2,
                value: value.clone(),
                parts: vec![VersionPart {
                    department: "cuc-thong-ke".into(),
                    revision: 1,
                    value,
                    evidence: vec![],
                }],
                content_hash: vec![hash; 32],
            }),
            jobs: vec![],
        }
    }

    fn accepted(version: i32, value: Value, hash: u8) -> JobState {
        JobState {
            version,
            value,
            content_hash: vec![hash; 32],
            status: JobStatus::Accepted,
            idempotency_key: format!("k{version}"),
            receipt: Some("R".into()),
            reason: None,
            last_error: None,
        }
    }

    #[test]
    fn a_complete_new_version_is_pushed_with_its_body_and_diff() {
        let set = set();
        let key = ItemKey::general_info("population");
        let item = set.item(&key).unwrap();
        let mut state = complete_state(json!(9_400_000), 2);
        state.jobs.push(accepted(1, json!(9_300_000), 1));
        let planned = plan_item(&set, item, &state, year(), "79");
        assert_eq!(planned.action, PlanAction::Push);
        assert_eq!(planned.diff, ValueDiff::Changed);
        assert_eq!(planned.last_accepted, Some((1, json!(9_300_000))));
        let body: PushBody = serde_json::from_value(planned.body.unwrap()).unwrap();
        assert_eq!(body.value, json!(9_400_000));
        assert_eq!(body.owners[0].department_name, "Cục Thống kê Thành phố");
        assert_eq!(Some(body.idempotency_key), planned.idempotency_key);
    }

    #[test]
    fn accepted_pending_and_incomplete_items_are_not_pushed() {
        let set = set();
        let key = ItemKey::general_info("population");
        let item = set.item(&key).unwrap();
        let mut state = complete_state(json!(1), 2);
        state.jobs.push(accepted(2, json!(1), 2));
        let planned = plan_item(&set, item, &state, year(), "79");
        assert_eq!(
            (planned.action, planned.diff),
            (PlanAction::AlreadyAccepted, ValueDiff::Unchanged)
        );
        state.jobs[0].status = JobStatus::Pending;
        assert_eq!(
            plan_item(&set, item, &state, year(), "79").action,
            PlanAction::InProgress
        );
        let empty = plan_item(&set, item, &ItemState::default(), year(), "79");
        assert_eq!(
            (empty.action, empty.diff),
            (PlanAction::Incomplete, ValueDiff::None)
        );
    }

    #[test]
    fn the_digest_changes_with_what_would_be_pushed() {
        let set = set();
        let empty = plan(&set, &YearSnapshot::default(), year(), "79");
        assert_eq!(empty.to_push().count(), 0);
        assert_eq!(
            empty.digest,
            plan(&set, &YearSnapshot::default(), year(), "79").digest
        );
        assert_ne!(
            empty.digest,
            plan(
                &set,
                &YearSnapshot::default(),
                NationalYear::for_tests(2025),
                "79"
            )
            .digest
        );
    }
}
