//! Completeness of a year: per item, complete, missing or disputed, and the same grouped by
//! owner so Sở TT&TT can chase the right department.
//!
//! - An item is **disputed** when a reviewer disputes an owner's part, or the national system
//!   rejected the item's current value version (every owner is then asked to look).
//! - Otherwise it is **missing** while an owner has not supplied its part. Items with several
//!   owners need every owner's part, whatever the combine rule: the national system gets the
//!   whole breakdown (for `any`, one `true` already fixes the value, but the other owners still
//!   state theirs).
//! - Otherwise it is **complete**: ready to push.

use dti_domain::UnitId;

use crate::national_set::{combine_name, ItemKey, NationalSet};
use crate::snapshot::{ItemState, JobStatus, YearSnapshot};

/// Where an item or a part stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every part supplied, nothing disputed.
    Complete,
    /// A part is missing.
    Missing,
    /// A part is disputed or the national system rejected the value.
    Disputed,
}

/// Who raised a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeSource {
    /// A reviewer of Sở TT&TT.
    Reviewer,
    /// The national system's rejection.
    NationalSystem,
}

/// One open dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Owner asked to look.
    pub department: String,
    /// Who raised it.
    pub source: DisputeSource,
    /// Why.
    pub reason: String,
}

/// Completeness of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCompleteness {
    /// The item.
    pub key: ItemKey,
    /// Its name.
    pub name: String,
    /// Where it stands.
    pub status: Status,
    /// Its owners.
    pub owners: Vec<String>,
    /// Owners without a part.
    pub missing_owners: Vec<String>,
    /// Open disputes.
    pub disputes: Vec<Dispute>,
    /// Combine rule.
    pub combine: &'static str,
    /// Latest value version (0 when never complete).
    pub version: i32,
}

/// One owner's items by the status of its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerCompleteness {
    /// Department id.
    pub department: String,
    /// Its name.
    pub name: String,
    /// Supplied and undisputed.
    pub complete: Vec<ItemKey>,
    /// Not supplied.
    pub missing: Vec<ItemKey>,
    /// Disputed.
    pub disputed: Vec<ItemKey>,
}

/// Completeness of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// Items in framework order.
    pub items: Vec<ItemCompleteness>,
    /// Owners in unit-registry order.
    pub owners: Vec<OwnerCompleteness>,
}

impl Completeness {
    /// How many items have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.items
            .iter()
            .filter(|item| item.status == status)
            .count()
    }
}

/// The completeness of one item's state.
pub fn item_completeness(
    set: &NationalSet,
    key: &ItemKey,
    state: &ItemState,
) -> Option<ItemCompleteness> {
    let item = set.item(key)?;
    let owners: Vec<String> = item.owners.iter().map(ToString::to_string).collect();
    let missing_owners: Vec<String> = owners
        .iter()
        .filter(|owner| state.part(owner).is_none())
        .cloned()
        .collect();
    let mut disputes: Vec<Dispute> = state
        .parts
        .iter()
        .filter_map(|part| {
            part.dispute.as_ref().map(|(reason, _)| Dispute {
                department: part.department.clone(),
                source: DisputeSource::Reviewer,
                reason: reason.clone(),
            })
        })
        .collect();
    if let Some(job) = state
        .latest_job()
        .filter(|job| job.status == JobStatus::Rejected)
    {
        let reason = job.reason.clone().unwrap_or_default();
        disputes.extend(owners.iter().map(|owner| Dispute {
            department: owner.clone(),
            source: DisputeSource::NationalSystem,
            reason: reason.clone(),
        }));
    }
    let status = if !disputes.is_empty() {
        Status::Disputed
    } else if !missing_owners.is_empty() {
        Status::Missing
    } else {
        Status::Complete
    };
    Some(ItemCompleteness {
        key: key.clone(),
        name: item.name.clone(),
        status,
        owners,
        missing_owners,
        disputes,
        combine: combine_name(item.combine),
        version: state.latest.as_ref().map_or(0, |latest| latest.version),
    })
}

/// Completeness of a year, optionally of one department's items only.
pub fn compute(
    set: &NationalSet,
    snapshot: &YearSnapshot,
    department: Option<&UnitId>,
) -> Completeness {
    let items: Vec<ItemCompleteness> = set
        .items()
        .iter()
        .filter(|item| department.is_none_or(|d| item.is_owned_by(d)))
        .filter_map(|item| item_completeness(set, &item.key, &snapshot.item(&item.key)))
        .collect();
    let owners = set
        .owners()
        .into_iter()
        .filter(|owner| department.is_none_or(|d| d == *owner))
        .map(|owner| owner_completeness(set, owner, &items))
        .collect();
    Completeness { items, owners }
}

fn owner_completeness(
    set: &NationalSet,
    owner: &UnitId,
    items: &[ItemCompleteness],
) -> OwnerCompleteness {
    let id = owner.as_str();
    let mut grouped = OwnerCompleteness {
        department: id.to_owned(),
        name: set.department_name(owner).unwrap_or(id).to_owned(),
        complete: Vec::new(),
        missing: Vec::new(),
        disputed: Vec::new(),
    };
    for item in items
        .iter()
        .filter(|item| item.owners.iter().any(|o| o == id))
    {
        let key = item.key.clone();
        if item.disputes.iter().any(|d| d.department == id) {
            grouped.disputed.push(key);
        } else if item.missing_owners.iter().any(|o| o == id) {
            grouped.missing.push(key);
        } else {
            grouped.complete.push(key);
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{JobState, PartState, VersionState};
    use serde_json::json;

    fn set() -> NationalSet {
        NationalSet::builtin("mic-2022-province").expect("routes")
    }

    fn part(department: &str, dispute: Option<&str>) -> PartState {
        PartState {
            department: department.into(),
            value: json!({"amount": 1}),
            evidence: vec![],
            revision: 1,
            dispute: dispute.map(|r| (r.to_owned(), "reviewer".to_owned())),
        }
    }

    #[test]
    fn a_multi_owner_item_is_missing_until_every_owner_reported() {
        let set = set();
        let key = ItemKey::indicator("6.22");
        let state = ItemState {
            parts: vec![part("so-tai-chinh", None)],
            ..ItemState::default()
        };
        let item = item_completeness(&set, &key, &state).unwrap();
        assert_eq!(item.status, Status::Missing);
        assert_eq!(item.missing_owners, ["so-ke-hoach-dau-tu", "so-tttt"]);
        assert_eq!(item.combine, "sum");
    }

    #[test]
    fn reviewer_disputes_and_national_rejections_make_an_item_disputed() {
        let set = set();
        let key = ItemKey::indicator("7.11");
        let complete = ItemState {
            parts: vec![part("so-tai-chinh", None), part("so-ke-hoach-dau-tu", None)],
            latest: Some(VersionState {
                version: 1,
                value: json!({"amount": 2}),
                parts: vec![],
                content_hash: vec![1],
            }),
            jobs: vec![],
        };
        assert_eq!(
            item_completeness(&set, &key, &complete).unwrap().status,
            Status::Complete
        );
        let mut disputed = complete.clone();
        disputed.parts[1] = part(
            "so-ke-hoach-dau-tu",
            Some("does not match the budget report"),
        );
        let item = item_completeness(&set, &key, &disputed).unwrap();
        assert_eq!(item.status, Status::Disputed);
        assert_eq!(item.disputes[0].department, "so-ke-hoach-dau-tu");
        let mut rejected = complete;
        rejected.jobs.push(JobState {
            version: 1,
            value: json!({"amount": 2}),
            content_hash: vec![1],
            status: JobStatus::Rejected,
            idempotency_key: "k".into(),
            receipt: None,
            reason: Some("above the province's budget".into()),
            last_error: None,
        });
        let item = item_completeness(&set, &key, &rejected).unwrap();
        assert_eq!(item.status, Status::Disputed);
        assert_eq!(item.disputes.len(), 2, "both owners are asked to look");
        assert!(item
            .disputes
            .iter()
            .all(|d| d.source == DisputeSource::NationalSystem));
    }

    #[test]
    fn grouping_by_owner_lists_each_owners_items() {
        let set = set();
        let completeness = compute(&set, &YearSnapshot::default(), None);
        assert_eq!(completeness.count(Status::Missing), set.items().len());
        let tttt = completeness
            .owners
            .iter()
            .find(|o| o.department == "so-tttt")
            .unwrap();
        assert!(tttt.missing.contains(&ItemKey::indicator("6.22")));
        assert!(tttt
            .missing
            .contains(&ItemKey::general_info("physical_servers")));
        let only = compute(
            &set,
            &YearSnapshot::default(),
            Some(&UnitId::parse("cuc-thong-ke").unwrap()),
        );
        assert_eq!(only.owners.len(), 1);
        assert!(only
            .items
            .iter()
            .all(|i| i.owners.contains(&"cuc-thong-ke".to_owned())));
    }
}
