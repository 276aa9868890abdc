//! `dtictl owner …`: the data owners' part of the national provincial index (Phụ lục III of
//! Quyết định 79/QĐ-UBND) — submitting each department's values from a file, showing what a
//! department has stored, and the completeness of a year per item and per owner.
//!
//! The owner-values file holds the parts of one or many departments for one year, with values
//! in the scoring contract's variable format (`deploy/samples/hcm-2023-owner-values.json`):
//!
//! ```json
//! {"year": 2023, "framework": "mic-2022-province",
//!  "owners": {"so-tttt": {"indicators": {"6.22": {"amount": 1200000000}},
//!                         "general_info": {},
//!                         "evidence": {"6.22": [{"reference": "https://…", "title": "Báo cáo"}]}}}}
//! ```
//!
//! The whole file is checked against the national set before anything is sent: an unknown
//! department, an item the department does not own, an unknown indicator or variable or a
//! value of the wrong type is listed with its department, item and field (exit code 2). Each
//! department's part is then sent as that department's data owner, in one request each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dti_domain::values::{decode_indicator_values, decode_variable};
use dti_domain::UnitId;
use dti_national_sync::national_set::{ItemKey, ItemShape, NationalSet};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_proto::dti::nationalsync::v1::national_sync_service_client::NationalSyncServiceClient;
use dti_proto::dti::nationalsync::v1::owner_data_service_client::OwnerDataServiceClient;
use serde::Deserialize;
use serde_json::Value;

use super::read_input;
use crate::remote::{call, data_owner, enum_name, operator, table, when, Output, Remote, Service};
use crate::runtime;
use crate::{tr, Failure};

/// `dtictl owner …`.
#[derive(Debug, clap::Subcommand)]
pub enum OwnerCommand {
    /// Submit each department's part of the national set from an owner-values file, as that
    /// department's data owner.
    Submit {
        /// Owner-values file (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// Submit only these departments of the file (default: every one).
        #[arg(long = "department")]
        departments: Vec<String>,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
    /// Show a department's stored parts of a year and what it still has to supply.
    Show {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// The department (its data owner reads its own parts).
        #[arg(long)]
        department: String,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
    /// Per item and per owner: complete, missing or disputed (as an operator).
    Completeness {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// Only this department's items.
        #[arg(long)]
        department: Option<String>,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
}

/// An owner-values file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerValuesFile {
    year: u32,
    #[serde(default = "default_framework")]
    framework: String,
    owners: BTreeMap<String, OwnerPartFile>,
}

fn default_framework() -> String {
    "mic-2022-province".to_owned()
}

/// One department's part as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerPartFile {
    #[serde(default)]
    indicators: BTreeMap<String, serde_json::Map<String, Value>>,
    #[serde(default)]
    general_info: BTreeMap<String, Value>,
    #[serde(default)]
    evidence: BTreeMap<String, Vec<EvidenceFile>>,
}

/// A reference to evidence of one item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceFile {
    reference: String,
    #[serde(default)]
    title: String,
}

/// Reads and checks an owner-values file: one request per department, or every problem.
fn owner_requests(
    path: &std::path::Path,
    only: &[String],
) -> Result<Vec<(String, pb::SubmitOwnerValuesRequest)>, Failure> {
    let text = read_input(path)?;
    let file: OwnerValuesFile = serde_json::from_str(&text)
        .map_err(|error| Failure::InvalidInput(vec![format!("{}: {error}", path.display())]))?;
    let set = NationalSet::builtin(&file.framework).map_err(|error| {
        Failure::InvalidInput(vec![format!("framework {:?}: {error}", file.framework)])
    })?;
    let mut problems = Vec::new();
    for wanted in only {
        if !file.owners.contains_key(wanted) {
            problems.push(tr!(
                "dtictl-department-not-in-file",
                department = wanted,
                path = path.display().to_string()
            ));
        }
    }
    let mut requests = Vec::new();
    for (department, part) in &file.owners {
        if !only.is_empty() && !only.contains(department) {
            continue;
        }
        match owner_request(&set, file.year, department, part) {
            Ok(request) => requests.push((department.clone(), request)),
            Err(found) => problems.extend(found),
        }
    }
    if problems.is_empty() {
        Ok(requests)
    } else {
        Err(Failure::InvalidInput(problems))
    }
}

/// One department's request, or every problem of its part.
fn owner_request(
    set: &NationalSet,
    year: u32,
    department: &str,
    part: &OwnerPartFile,
) -> Result<pb::SubmitOwnerValuesRequest, Vec<String>> {
    let id = UnitId::parse(department.to_owned())
        .map_err(|error| vec![format!("department {department:?}: {error}")])?;
    if !set.is_owner(&id) {
        return Err(vec![tr!(
            "dtictl-department-owns-nothing",
            department = department,
            framework = set.framework_id().to_string(),
            owners = set
                .owners()
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )]);
    }
    let mut problems = Vec::new();
    let mut request = pb::SubmitOwnerValuesRequest {
        year,
        ..Default::default()
    };
    let evidence_of = |code: &str| -> Vec<pb::EvidenceRef> {
        part.evidence
            .get(code)
            .map(|list| {
                list.iter()
                    .map(|e| pb::EvidenceRef {
                        reference: e.reference.clone(),
                        title: e.title.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    for (code, variables) in &part.indicators {
        let where_ = format!("department {department} / indicator {code}");
        let Some(item) = set.item(&ItemKey::indicator(code.as_str())) else {
            problems.push(format!(
                "{where_}: {}",
                tr!(
                    "dtictl-owner-not-indicator",
                    framework = set.framework_id().to_string()
                )
            ));
            continue;
        };
        if !item.is_owned_by(&id) {
            problems.push(format!("{where_}: owned by {}", owners_of(item)));
            continue;
        }
        let Some(indicator) = set.indicator(item) else {
            continue;
        };
        let decoded = decode_indicator_values(department, indicator, variables.clone());
        let errors: Vec<String> = decoded
            .issues
            .iter()
            .filter(|issue| issue.is_error())
            .map(ToString::to_string)
            .collect();
        match decoded.value {
            Some(values) if errors.is_empty() => {
                let value = dti_proto::convert::indicator_to_proto(code, &values);
                request.indicators.push(pb::OwnerIndicatorValues {
                    indicator_code: code.clone(),
                    variables: value.variables,
                    evidence: evidence_of(code),
                });
            }
            _ => problems.extend(errors),
        }
    }
    for (key, raw) in &part.general_info {
        let where_ = format!("department {department} / general information {key}");
        let Some(item) = set.item(&ItemKey::general_info(key.as_str())) else {
            problems.push(format!(
                "{where_}: {}",
                tr!(
                    "dtictl-owner-not-general-info",
                    framework = set.framework_id().to_string()
                )
            ));
            continue;
        };
        if !item.is_owned_by(&id) {
            problems.push(format!("{where_}: owned by {}", owners_of(item)));
            continue;
        }
        let ItemShape::GeneralInfo(ty) = &item.shape else {
            continue;
        };
        match decode_variable(ty, raw) {
            Ok(value) => request.general_info.push(pb::OwnerGeneralInfoValue {
                key: key.clone(),
                value: Some(dti_proto::convert::variable_to_proto(&value)),
                evidence: evidence_of(key),
            }),
            Err(message) => problems.push(format!("{where_} / value: {message}")),
        }
    }
    for code in part.evidence.keys() {
        if !part.indicators.contains_key(code) && !part.general_info.contains_key(code) {
            problems.push(format!(
                "department {department} / evidence {code}: {}",
                tr!("dtictl-owner-evidence-without-value")
            ));
        }
    }
    if problems.is_empty() {
        Ok(request)
    } else {
        Err(problems)
    }
}

fn owners_of(item: &dti_national_sync::national_set::NationalItem) -> String {
    item.owners
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A variable or general-information value for people.
pub fn describe_value(value: Option<&common::VariableValue>) -> String {
    value
        .map(|value| match dti_proto::convert::variable_to_json(value) {
            Ok(json) => json.to_string(),
            Err(reason) => format!("({reason})"),
        })
        .unwrap_or_else(|| "-".to_owned())
}

fn describe_part(part: &pb::OwnerPart) -> String {
    if let Some(indicator) = &part.indicator {
        indicator
            .variables
            .iter()
            .map(|(name, value)| format!("{name}={}", describe_value(Some(value))))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        describe_value(part.general_info.as_ref())
    }
}

fn item_code(item: Option<&pb::ItemRef>) -> String {
    item.map(|item| item.code.clone()).unwrap_or_default()
}

/// Runs a `dtictl owner` command.
pub fn run(command: &OwnerCommand, output: Output) -> Result<(), Failure> {
    match command {
        OwnerCommand::Submit {
            file,
            departments,
            remote,
        } => {
            let requests = owner_requests(file, departments)?;
            runtime()?.block_on(submit(remote, requests, output))
        }
        OwnerCommand::Show {
            year,
            department,
            remote,
        } => runtime()?.block_on(async {
            let mut client =
                OwnerDataServiceClient::new(remote.channel(Service::NationalSync).await?);
            let request = pb::GetOwnerValuesRequest {
                year: *year,
                department_id: department.clone(),
            };
            let response = call(
                &tr!("dtictl-what-department", department = department),
                client.get_owner_values(remote.request(request, &data_owner(department))?),
            )
            .await?;
            output.emit(&response, |response| {
                let rows = response.parts.iter().map(|part| {
                    [
                        item_code(part.item.as_ref()),
                        part.revision.to_string(),
                        describe_part(part),
                        when(part.updated_at.as_ref()),
                        part.dispute_reason.clone(),
                    ]
                });
                let missing: Vec<String> = response
                    .missing
                    .iter()
                    .map(|item| item.code.clone())
                    .collect();
                let header = [
                    tr!("dtictl-col-item"),
                    tr!("dtictl-col-revision"),
                    tr!("dtictl-col-value"),
                    tr!("dtictl-col-updated"),
                    tr!("dtictl-col-disputed"),
                ];
                format!(
                    "{}\n{}",
                    table(header, rows),
                    tr!(
                        "dtictl-owner-parts",
                        parts = response.parts.len(),
                        missing = if missing.is_empty() {
                            tr!("dtictl-none")
                        } else {
                            missing.join(", ")
                        }
                    )
                )
            })
        }),
        OwnerCommand::Completeness {
            year,
            department,
            remote,
        } => runtime()?.block_on(async {
            let mut client =
                NationalSyncServiceClient::new(remote.channel(Service::NationalSync).await?);
            let request = pb::GetCompletenessRequest {
                year: *year,
                department_id: department.clone().unwrap_or_default(),
            };
            let operator = operator();
            let completeness = call(
                &tr!("dtictl-what-year", year = *year),
                client.get_completeness(remote.request(request, &operator)?),
            )
            .await?;
            output.emit(&completeness, render_completeness)
        }),
    }
}

async fn submit(
    remote: &Remote,
    requests: Vec<(String, pb::SubmitOwnerValuesRequest)>,
    output: Output,
) -> Result<(), Failure> {
    let mut client = OwnerDataServiceClient::new(remote.channel(Service::NationalSync).await?);
    let progress = indicatif::ProgressBar::new(requests.len() as u64);
    let mut responses = Vec::new();
    for (department, request) in requests {
        progress.set_message(department.clone());
        let response = call(
            &tr!("dtictl-what-department", department = &department),
            client.submit_owner_values(remote.request(request, &data_owner(&department))?),
        )
        .await?;
        for warning in &response.warnings {
            eprintln!(
                "{department}: {}",
                crate::text::warning_line(&warning.field, &warning.description)
            );
        }
        progress.inc(1);
        responses.push((department, response));
    }
    progress.finish_and_clear();
    if output.json {
        let all: BTreeMap<&str, &pb::SubmitOwnerValuesResponse> = responses
            .iter()
            .map(|(department, response)| (department.as_str(), response))
            .collect();
        return output.emit(&all, |_| String::new());
    }
    for (department, response) in &responses {
        println!(
            "{}",
            tr!(
                "dtictl-owner-stored",
                department = department,
                parts = response.parts.len(),
                changed = response.changed
            )
        );
    }
    Ok(())
}

fn render_completeness(completeness: &pb::Completeness) -> String {
    let items = completeness.items.iter().map(|item| {
        let status = pb::ItemStatus::try_from(item.status)
            .map(|s| crate::text::state(&enum_name(s.as_str_name(), "ITEM_STATUS_")))
            .unwrap_or_default();
        [
            item_code(item.item.as_ref()),
            item.name.chars().take(60).collect(),
            status,
            item.missing_owners.join(", "),
        ]
    });
    let owners = completeness.owners.iter().map(|owner| {
        [
            owner.department_id.clone(),
            owner.department_name.clone(),
            owner.complete.len().to_string(),
            owner.missing.len().to_string(),
            owner.disputed.len().to_string(),
        ]
    });
    format!(
        "{}\n{}\n{}",
        table(
            [
                tr!("dtictl-col-item"),
                tr!("dtictl-col-name"),
                tr!("dtictl-col-status"),
                tr!("dtictl-col-missing-from"),
            ],
            items
        ),
        table(
            [
                tr!("dtictl-col-department"),
                tr!("dtictl-col-name"),
                tr!("dtictl-col-complete"),
                tr!("dtictl-col-missing"),
                tr!("dtictl-col-disputed"),
            ],
            owners
        ),
        tr!(
            "dtictl-completeness",
            year = completeness.year,
            framework = &completeness.framework,
            complete = completeness.complete,
            missing = completeness.missing,
            disputed = completeness.disputed
        )
    )
}
