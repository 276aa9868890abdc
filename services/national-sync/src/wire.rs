//! Conversions between the gRPC messages of `dti.nationalsync.v1` and the domain types: request
//! values to the contract's JSON, stored parts, completeness, plans, runs and push-log rows to
//! messages.

use std::collections::HashMap;

use dti_domain::framework::VariableType;
use dti_domain::values::{decode_variable, VariableValue as DomainValue};
use dti_i18n::Message;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::nationalsync::v1 as pb;
use serde_json::{json, Value};

use crate::completeness::{Completeness, DisputeSource, Status};
use crate::content::EvidenceRef;
use crate::events::timestamp;
use crate::national_set::{ItemKey, ItemKind, ItemShape, NationalSet, NationalYear};
use crate::owner_values::{RequestedPart, RequestedValue, StoredPart};
use crate::plan::{PlanAction, SyncPlan, ValueDiff};
use crate::push_log::{LogEntry, PushEvent};
use crate::sync_runs::RunRecord;
use crate::NationalSyncError;

/// The contract's JSON of a request value (`null` when no case is set).
pub fn variable_json(value: &common::VariableValue) -> Value {
    use common::variable_value::Value as Case;
    match &value.value {
        Some(Case::Count(n) | Case::Money(n)) => json!(n),
        Some(Case::Flag(flag)) => json!(flag),
        Some(Case::Choice(text) | Case::Decimal(text) | Case::Text(text)) => json!(text),
        Some(Case::Activities(list)) => Value::Array(
            list.activities
                .iter()
                .map(|a| json!({"reports": a.reports, "resolved": a.resolved}))
                .collect(),
        ),
        None => Value::Null,
    }
}

/// The message of a decoded value.
pub fn proto_variable(value: &DomainValue) -> common::VariableValue {
    use common::variable_value::Value as Case;
    let case = match value {
        DomainValue::Count(n) => Case::Count(*n),
        DomainValue::Money(n) => Case::Money(*n),
        DomainValue::Flag(flag) => Case::Flag(*flag),
        DomainValue::Choice(text) => Case::Choice(text.clone()),
        DomainValue::Text(text) => Case::Text(text.clone()),
        DomainValue::Decimal(exact) => Case::Decimal(exact.to_decimal_string(12)),
        DomainValue::Activities(list) => Case::Activities(common::ActivityList {
            activities: list
                .iter()
                .map(|a| common::Activity {
                    reports: a.reports,
                    resolved: a.resolved,
                })
                .collect(),
        }),
    };
    common::VariableValue { value: Some(case) }
}

fn evidence_in(evidence: &[pb::EvidenceRef]) -> Vec<EvidenceRef> {
    evidence
        .iter()
        .map(|e| EvidenceRef {
            reference: e.reference.clone(),
            title: e.title.clone(),
        })
        .collect()
}

fn evidence_out(evidence: &[EvidenceRef]) -> Vec<pb::EvidenceRef> {
    evidence
        .iter()
        .map(|e| pb::EvidenceRef {
            reference: e.reference.clone(),
            title: e.title.clone(),
        })
        .collect()
}

/// The parts a `SubmitOwnerValues` request asks to set.
pub fn requested_parts(request: &pb::SubmitOwnerValuesRequest) -> Vec<RequestedPart> {
    let indicators = request
        .indicators
        .iter()
        .enumerate()
        .map(|(position, part)| {
            let mut variables: Vec<(String, Value)> = part
                .variables
                .iter()
                .map(|(name, value)| (name.clone(), variable_json(value)))
                .collect();
            variables.sort_by(|a, b| a.0.cmp(&b.0));
            RequestedPart {
                item: ItemKey::indicator(part.indicator_code.trim()),
                field: format!("indicators[{position}]"),
                value: RequestedValue::Variables(variables),
                evidence: evidence_in(&part.evidence),
            }
        });
    let fields = request
        .general_info
        .iter()
        .enumerate()
        .map(|(position, part)| RequestedPart {
            item: ItemKey::general_info(part.key.trim()),
            field: format!("general_info[{position}]"),
            value: RequestedValue::Field(part.value.as_ref().map_or(Value::Null, variable_json)),
            evidence: evidence_in(&part.evidence),
        });
    indicators.chain(fields).collect()
}

/// The item a request names; `field` is its place in the request.
pub fn item_key(item: Option<&pb::ItemRef>, field: &str) -> Result<ItemKey, NationalSyncError> {
    let item = item.ok_or_else(|| {
        NationalSyncError::invalid_field(field, Message::new("request-must-be-set"))
    })?;
    let code = item.code.trim();
    if code.is_empty() {
        return Err(NationalSyncError::invalid_field(
            &format!("{field}.code"),
            Message::new("sync-must-not-be-empty"),
        ));
    }
    match pb::ItemKind::try_from(item.kind) {
        Ok(pb::ItemKind::Indicator) => Ok(ItemKey::indicator(code)),
        Ok(pb::ItemKind::GeneralInfo) => Ok(ItemKey::general_info(code)),
        _ => Err(NationalSyncError::invalid_field(
            &format!("{field}.kind"),
            Message::new("sync-item-kind"),
        )),
    }
}

/// The message of an item key.
pub fn item_ref(key: &ItemKey) -> pb::ItemRef {
    let kind = match key.kind {
        ItemKind::Indicator => pb::ItemKind::Indicator,
        ItemKind::GeneralInfo => pb::ItemKind::GeneralInfo,
    };
    pb::ItemRef {
        kind: kind.into(),
        code: key.code.clone(),
    }
}

/// Decodes stored JSON with the declared type (it was validated on write).
fn typed(ty: &VariableType, value: &Value) -> Option<common::VariableValue> {
    decode_variable(ty, value).ok().map(|v| proto_variable(&v))
}

/// The message of a stored part.
pub fn owner_part(set: &NationalSet, year: NationalYear, part: &StoredPart) -> pb::OwnerPart {
    let (indicator, general_info) = match set.item(&part.item).map(|item| (item, &item.shape)) {
        Some((item, ItemShape::Indicator(_))) => {
            let variables: HashMap<String, common::VariableValue> = set
                .indicator(item)
                .map(|indicator| {
                    indicator
                        .variables
                        .iter()
                        .filter_map(|variable| {
                            let value = part.value.get(variable.name.as_str())?;
                            Some((variable.name.to_string(), typed(&variable.ty, value)?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let value = common::IndicatorValue {
                indicator_code: part.item.code.clone(),
                variables,
            };
            (Some(value), None)
        }
        Some((_, ItemShape::GeneralInfo(ty))) => (None, typed(ty, &part.value)),
        None => (None, None),
    };
    let (dispute_reason, disputed_by) = part.dispute.clone().unwrap_or_default();
    pb::OwnerPart {
        year: u32::from(year.as_u16()),
        item: Some(item_ref(&part.item)),
        department_id: part.department.clone(),
        indicator,
        general_info,
        evidence: evidence_out(&part.evidence),
        revision: u32::try_from(part.revision).unwrap_or(0),
        updated_by: part.updated_by.clone(),
        updated_at: Some(timestamp(part.updated_at)),
        dispute_reason,
        disputed_by,
    }
}

fn status(status: Status) -> pb::ItemStatus {
    match status {
        Status::Complete => pb::ItemStatus::Complete,
        Status::Missing => pb::ItemStatus::Missing,
        Status::Disputed => pb::ItemStatus::Disputed,
    }
}

/// The message of a year's completeness.
pub fn completeness(
    set: &NationalSet,
    year: NationalYear,
    completeness: &Completeness,
) -> pb::Completeness {
    let count = |s| u32::try_from(completeness.count(s)).unwrap_or(u32::MAX);
    let keys = |keys: &[ItemKey]| keys.iter().map(item_ref).collect();
    pb::Completeness {
        year: u32::from(year.as_u16()),
        framework: set.framework_id().to_string(),
        items: completeness
            .items
            .iter()
            .map(|item| pb::ItemCompleteness {
                item: Some(item_ref(&item.key)),
                name: item.name.clone(),
                status: status(item.status).into(),
                owners: item.owners.clone(),
                missing_owners: item.missing_owners.clone(),
                disputes: item
                    .disputes
                    .iter()
                    .map(|d| pb::Dispute {
                        department_id: d.department.clone(),
                        source: match d.source {
                            DisputeSource::Reviewer => pb::DisputeSource::Reviewer,
                            DisputeSource::NationalSystem => pb::DisputeSource::NationalSystem,
                        }
                        .into(),
                        reason: d.reason.clone(),
                    })
                    .collect(),
                combine: item.combine.to_owned(),
                version: u32::try_from(item.version).unwrap_or(0),
            })
            .collect(),
        owners: completeness
            .owners
            .iter()
            .map(|owner| pb::OwnerCompleteness {
                department_id: owner.department.clone(),
                department_name: owner.name.clone(),
                complete: keys(&owner.complete),
                missing: keys(&owner.missing),
                disputed: keys(&owner.disputed),
            })
            .collect(),
        complete: count(Status::Complete),
        missing: count(Status::Missing),
        disputed: count(Status::Disputed),
    }
}

/// The message of a dry run.
pub fn plan(set: &NationalSet, plan: &SyncPlan) -> pb::SyncPlan {
    let json_text = |value: Option<&Value>| value.map(Value::to_string).unwrap_or_default();
    pb::SyncPlan {
        year: u32::from(plan.year.as_u16()),
        framework: set.framework_id().to_string(),
        plan_digest: plan.digest.clone(),
        to_push: u32::try_from(plan.to_push().count()).unwrap_or(u32::MAX),
        items: plan
            .items
            .iter()
            .map(|item| pb::PlannedItem {
                item: Some(item_ref(&item.key)),
                action: match item.action {
                    PlanAction::Push => pb::PlanAction::Push,
                    PlanAction::AlreadyAccepted => pb::PlanAction::AlreadyAccepted,
                    PlanAction::InProgress => pb::PlanAction::InProgress,
                    PlanAction::Rejected => pb::PlanAction::Rejected,
                    PlanAction::Incomplete => pb::PlanAction::Incomplete,
                }
                .into(),
                diff: match item.diff {
                    ValueDiff::Added => pb::ValueDiff::Added,
                    ValueDiff::Changed => pb::ValueDiff::Changed,
                    ValueDiff::Unchanged => pb::ValueDiff::Unchanged,
                    ValueDiff::None => pb::ValueDiff::None,
                }
                .into(),
                version: u32::try_from(item.version).unwrap_or(0),
                value_json: json_text(item.value.as_ref()),
                last_accepted_value_json: json_text(item.last_accepted.as_ref().map(|(_, v)| v)),
                last_accepted_version: item
                    .last_accepted
                    .as_ref()
                    .map_or(0, |(v, _)| u32::try_from(*v).unwrap_or(0)),
                idempotency_key: item.idempotency_key.clone().unwrap_or_default(),
                payload_json: json_text(item.body.as_ref()),
                rejection_reason: item.rejection_reason.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The message of a run.
pub fn run(run: &RunRecord) -> pb::SyncRun {
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    pb::SyncRun {
        run_id: run.id.to_string(),
        year: u32::try_from(run.year).unwrap_or(0),
        framework: run.framework.clone(),
        trigger: run.trigger.clone(),
        requested_by: run.requested_by.clone(),
        plan_digest: run.plan_digest.clone(),
        created_at: Some(timestamp(run.created_at)),
        finished_at: run.finished_at.map(timestamp),
        items: u32::try_from(run.items).unwrap_or(0),
        accepted: count(run.accepted),
        rejected: count(run.rejected),
        pending: count(run.pending),
        superseded: count(run.superseded),
    }
}

/// The message of a push-log row.
pub fn log_entry(entry: &LogEntry) -> pb::PushLogEntry {
    pb::PushLogEntry {
        id: entry.id,
        run_id: entry.run_id.to_string(),
        item: Some(item_ref(&entry.item)),
        version: u32::try_from(entry.version).unwrap_or(0),
        department_id: entry.department.clone(),
        idempotency_key: entry.idempotency_key.clone(),
        event: match entry.event {
            PushEvent::Sent => pb::PushEvent::Sent,
            PushEvent::Accepted => pb::PushEvent::Accepted,
            PushEvent::Rejected => pb::PushEvent::Rejected,
            PushEvent::Failed => pb::PushEvent::Failed,
        }
        .into(),
        attempt: u32::try_from(entry.attempt).unwrap_or(0),
        http_status: entry
            .http_status
            .map_or(0, |s| u32::try_from(s).unwrap_or(0)),
        detail: entry.detail.clone().unwrap_or_default(),
        at: Some(timestamp(entry.at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_values_become_the_contracts_json() {
        use common::variable_value::Value as Case;
        let money = common::VariableValue {
            value: Some(Case::Money(1_200)),
        };
        assert_eq!(variable_json(&money), json!(1_200));
        let decimal = common::VariableValue {
            value: Some(Case::Decimal("15.38".into())),
        };
        assert_eq!(variable_json(&decimal), json!("15.38"));
        assert_eq!(
            variable_json(&common::VariableValue { value: None }),
            Value::Null
        );
    }

    #[test]
    fn an_item_ref_needs_a_kind_and_a_code() {
        let missing_kind = pb::ItemRef {
            kind: 0,
            code: "1.1".into(),
        };
        assert!(item_key(Some(&missing_kind), "item").is_err());
        assert!(item_key(None, "item").is_err());
        let indicator = pb::ItemRef {
            kind: pb::ItemKind::Indicator.into(),
            code: " 6.22 ".into(),
        };
        assert_eq!(
            item_key(Some(&indicator), "item").unwrap(),
            ItemKey::indicator("6.22")
        );
    }
}
