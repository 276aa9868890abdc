//! The reconciliation report (`dtictl sync report --year Y`): per item, its owners and their
//! parts, the local value, the last value pushed and whether the national system accepted it
//! or rejected it and why. Read from PostgreSQL alone.

use std::fmt::Write as _;

use dti_db::PgPool;
use dti_i18n::{Lang, Message};
use serde_json::{json, Value};

use crate::completeness::{item_completeness, Status};
use crate::national_set::{NationalSet, NationalYear};
use crate::snapshot::{self, JobState, JobStatus};
use crate::NationalSyncError;

/// One owner's part in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerLine {
    /// Department id.
    pub department: String,
    /// Its part, when supplied.
    pub value: Option<Value>,
    /// The part's revision.
    pub revision: Option<i32>,
    /// A reviewer's open dispute.
    pub dispute: Option<String>,
}

/// What became of the last push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Accepted, with the national system's receipt.
    Accepted(String),
    /// Rejected, with its reason.
    Rejected(String),
    /// Not answered yet; the last failure, if any.
    Pending(Option<String>),
    /// Not sent: a newer version was queued first.
    Superseded(String),
}

/// The last push of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedLine {
    /// Version pushed.
    pub version: i32,
    /// Value pushed.
    pub value: Value,
    /// Its outcome.
    pub outcome: PushOutcome,
}

/// One item of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// `indicator 6.22` or `general information population` (English, as in logs).
    pub item: String,
    /// The same for people, in the language it is shown in.
    pub label: Message,
    /// Kind as stored.
    pub kind: &'static str,
    /// Code or key.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Completeness.
    pub status: Status,
    /// Owners and parts.
    pub owners: Vec<OwnerLine>,
    /// Latest local version and value (combined), when the item was ever complete.
    pub local: Option<(i32, Value)>,
    /// Last push.
    pub last_pushed: Option<PushedLine>,
}

/// The report of a year.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Year.
    pub year: u16,
    /// Framework id.
    pub framework: String,
    /// Items in framework order.
    pub rows: Vec<ReportRow>,
}

/// Builds the report of `year`.
pub async fn build(
    pool: &PgPool,
    set: &NationalSet,
    year: NationalYear,
) -> Result<Report, NationalSyncError> {
    let snapshot = snapshot::load(pool, set, year).await?;
    let rows = set
        .items()
        .iter()
        .filter_map(|item| {
            let state = snapshot.item(&item.key);
            let status = item_completeness(set, &item.key, &state)?.status;
            let owners = item
                .owners
                .iter()
                .map(|owner| {
                    let part = state.part(owner.as_str());
                    OwnerLine {
                        department: owner.to_string(),
                        value: part.map(|p| p.value.clone()),
                        revision: part.map(|p| p.revision),
                        dispute: part
                            .and_then(|p| p.dispute.as_ref().map(|(reason, _)| reason.clone())),
                    }
                })
                .collect();
            Some(ReportRow {
                item: item.key.to_string(),
                label: item.key.message(),
                kind: item.key.kind.as_str(),
                code: item.key.code.clone(),
                name: item.name.clone(),
                status,
                owners,
                local: state.latest.as_ref().map(|v| (v.version, v.value.clone())),
                last_pushed: state.last_pushed().map(pushed_line),
            })
        })
        .collect();
    Ok(Report {
        year: year.as_u16(),
        framework: set.framework_id().to_string(),
        rows,
    })
}

fn pushed_line(job: &JobState) -> PushedLine {
    let outcome = match job.status {
        JobStatus::Accepted => PushOutcome::Accepted(job.receipt.clone().unwrap_or_default()),
        JobStatus::Rejected => PushOutcome::Rejected(job.reason.clone().unwrap_or_default()),
        JobStatus::Pending => PushOutcome::Pending(job.last_error.clone()),
        JobStatus::Superseded => PushOutcome::Superseded(job.reason.clone().unwrap_or_default()),
    };
    PushedLine {
        version: job.version,
        value: job.value.clone(),
        outcome,
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Complete => "complete",
        Status::Missing => "missing",
        Status::Disputed => "disputed",
    }
}

/// An item's completeness for people.
fn status_message(status: Status) -> Message {
    Message::new(match status {
        Status::Complete => "sync-report-complete",
        Status::Missing => "sync-report-missing",
        Status::Disputed => "sync-report-disputed",
    })
}

impl PushOutcome {
    /// What became of a push, for people (the national system's and the transport's own
    /// reasons are quoted as they came).
    fn describe(&self) -> Message {
        match self {
            PushOutcome::Accepted(receipt) => {
                Message::new("sync-report-accepted").arg("receipt", receipt.as_str())
            }
            PushOutcome::Rejected(reason) => {
                Message::new("sync-report-rejected").arg("reason", reason.as_str())
            }
            PushOutcome::Pending(None) => Message::new("sync-report-pending"),
            PushOutcome::Pending(Some(error)) => {
                Message::new("sync-report-pending-failed").arg("error", error.as_str())
            }
            PushOutcome::Superseded(why) => {
                Message::new("sync-report-not-sent").arg("why", why.as_str())
            }
        }
    }
}

impl Report {
    /// A table for people in `lang`: one line per item, one indented line per owner's part of
    /// items with several owners.
    pub fn render_table(&self, lang: Lang) -> String {
        let text = |message: Message| message.render(lang);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}",
            text(
                Message::new("sync-report-title")
                    .arg("year", self.year)
                    .arg("framework", self.framework.as_str())
            )
        );
        let labels: Vec<String> = self
            .rows
            .iter()
            .map(|row| text(row.label.clone()))
            .collect();
        let width = labels
            .iter()
            .map(|label| label.chars().count())
            .max()
            .unwrap_or(0);
        for (row, label) in self.rows.iter().zip(&labels) {
            let owners: Vec<&str> = row.owners.iter().map(|o| o.department.as_str()).collect();
            let local = match (&row.local, row.status) {
                (_, Status::Missing) => {
                    let missing: Vec<&str> = row
                        .owners
                        .iter()
                        .filter(|o| o.value.is_none())
                        .map(|o| o.department.as_str())
                        .collect();
                    text(Message::new("sync-report-missing-from").arg("owners", missing.join(", ")))
                }
                (Some((version, value)), _) => format!("v{version} {value}"),
                (None, _) => text(Message::new("sync-report-none")),
            };
            let pushed = match &row.last_pushed {
                Some(pushed) => format!(
                    "v{} {} {}",
                    pushed.version,
                    pushed.value,
                    text(pushed.outcome.describe())
                ),
                None => text(Message::new("sync-report-never-pushed")),
            };
            let line = Message::new("sync-report-line")
                .arg("owners", owners.join(", "))
                .arg("status", status_message(row.status))
                .arg("local", local)
                .arg("pushed", pushed);
            let _ = writeln!(out, "{label:<width$}  {}", text(line));
            if row.owners.len() > 1 {
                for owner in &row.owners {
                    let part = match (&owner.value, owner.revision) {
                        (Some(value), Some(revision)) => format!("r{revision} {value}"),
                        _ => text(Message::new("sync-report-missing")),
                    };
                    let dispute = owner
                        .dispute
                        .as_ref()
                        .map(|reason| {
                            let disputed = Message::new("sync-report-part-disputed")
                                .arg("reason", reason.as_str());
                            format!("  {}", text(disputed))
                        })
                        .unwrap_or_default();
                    let part = Message::new("sync-report-part")
                        .arg("department", owner.department.as_str())
                        .arg("part", part);
                    let _ = writeln!(out, "{:<width$}    {}{dispute}", "", text(part));
                }
            }
        }
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                json!({
                    "kind": row.kind,
                    "code": row.code,
                    "name": row.name,
                    "status": status_name(row.status),
                    "owners": row.owners.iter().map(|o| json!({
                        "department": o.department,
                        "value": o.value,
                        "revision": o.revision,
                        "dispute": o.dispute,
                    })).collect::<Vec<_>>(),
                    "local": row.local.as_ref().map(|(version, value)| json!({"version": version, "value": value})),
                    "last_pushed": row.last_pushed.as_ref().map(|p| {
                        let (outcome, detail) = match &p.outcome {
                            PushOutcome::Accepted(receipt) => ("accepted", Some(receipt.clone())),
                            PushOutcome::Rejected(reason) => ("rejected", Some(reason.clone())),
                            PushOutcome::Pending(error) => ("pending", error.clone()),
                            PushOutcome::Superseded(why) => ("superseded", Some(why.clone())),
                        };
                        json!({"version": p.version, "value": p.value, "outcome": outcome, "detail": detail})
                    }),
                })
            })
            .collect();
        json!({"year": self.year, "framework": self.framework, "items": rows})
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The caller's input is wrong (bad year, unknown framework).
    #[error("{0}")]
    InvalidInput(String),
    /// Anything else (database unreachable, schema missing).
    #[error("{0}")]
    Unexpected(String),
}

/// A report asked for: the national set and its year, checked before anything is read.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    set: NationalSet,
    year: NationalYear,
}

impl ReportRequest {
    /// The report of `year` for the built-in national set `framework`; a set or year it cannot
    /// be is [`ReportError::InvalidInput`] naming the option.
    pub fn new(year: u32, framework: &str) -> Result<Self, ReportError> {
        let set = NationalSet::builtin(framework)
            .map_err(|e| ReportError::InvalidInput(format!("framework: {e}")))?;
        let year = set
            .year(year)
            .map_err(|problem| ReportError::InvalidInput(format!("--year: {problem}")))?;
        Ok(Self { set, year })
    }

    /// Reads the report from the platform database.
    pub async fn read(&self, pool: &PgPool) -> Result<Report, ReportError> {
        build(pool, &self.set, self.year)
            .await
            .map_err(|e| ReportError::Unexpected(e.to_string()))
    }
}
