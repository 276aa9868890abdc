//! A unit's own commands on its self-assessment: `dtictl draft show|set|not-applicable|clear|
//! submit|versions`, each as the unit's submitter on the submission service.
//!
//! Local input (a values file, an indicator code, a reason) is checked against the framework
//! before any call, and every problem is listed at once (exit code 2).

use std::path::PathBuf;

use dti_domain::values::{decode_cohort, InputIssue, UnitValues};
use dti_domain::FrameworkCatalog;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{
    ClearIndicatorRequest, CreateDraftRequest, FindSubmissionRequest, ListVersionsRequest,
    ListVersionsResponse, SetNotApplicableRequest, SetValuesRequest, Submission, SubmissionState,
    SubmitRequest, SubmitResponse,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

use super::read_input;
use super::unit_common::{describe_values, scored_indicator, sort_key, Target, UnitRound};
use crate::remote::{call, enum_name, table, unit_submitter, when, Output, Remote, Service};
use crate::runtime;
use crate::{tr, Failure};

/// `dtictl draft …`: a unit's draft on the submission service, as the unit's submitter.
#[derive(Debug, clap::Subcommand)]
pub enum DraftCommand {
    /// Show the unit's submission: state, versions, values per indicator.
    Show(DraftArgs),
    /// Set values from a file: one unit (`{"unit", "values", "not_applicable"}`) or a cohort
    /// file with --unit choosing the unit; checked against the framework before sending.
    Set {
        /// The unit and round.
        #[command(flatten)]
        draft: DraftArgs,
        /// Values file in the scoring contract's format.
        #[arg(long)]
        file: PathBuf,
        /// Reason given for the file's not-applicable indicators.
        #[arg(
            long,
            default_value = "declared not applicable in the unit's values file"
        )]
        not_applicable_reason: String,
    },
    /// Mark an indicator not applicable to the unit (its values are cleared).
    NotApplicable {
        /// The unit and round.
        #[command(flatten)]
        draft: DraftArgs,
        /// Indicator code, e.g. 1.3.
        #[arg(long)]
        indicator: String,
        /// Why it does not apply.
        #[arg(long)]
        reason: String,
    },
    /// Remove an indicator's values or not-applicable mark from the draft.
    Clear {
        /// The unit and round.
        #[command(flatten)]
        draft: DraftArgs,
        /// Indicator code, e.g. 6.13.
        #[arg(long)]
        indicator: String,
    },
    /// Submit the draft as a new version (retrying the same draft returns the same version).
    Submit {
        /// The unit and round.
        #[command(flatten)]
        draft: DraftArgs,
        /// Client request id (default: derived from the submission, its version and its values).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// List the submitted versions, oldest first.
    Versions(DraftArgs),
}

/// The unit, round and connection of a draft command.
#[derive(Debug, Clone, clap::Args)]
pub struct DraftArgs {
    /// The unit and round.
    #[command(flatten)]
    pub target: UnitRound,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// Runs a `dtictl draft` command.
pub fn run(
    catalog: &FrameworkCatalog,
    command: &DraftCommand,
    output: Output,
) -> Result<(), Failure> {
    let draft = match command {
        DraftCommand::Show(draft) | DraftCommand::Versions(draft) => draft,
        DraftCommand::Set { draft, .. }
        | DraftCommand::NotApplicable { draft, .. }
        | DraftCommand::Clear { draft, .. }
        | DraftCommand::Submit { draft, .. } => draft,
    };
    let target = draft.target.resolve(catalog)?;
    // Local checks first: nothing is sent when the input is wrong.
    let values = match command {
        DraftCommand::Set { file, .. } => Some(load_unit_values(catalog, &target, file)?),
        DraftCommand::NotApplicable {
            indicator, reason, ..
        } => {
            let mut problems = check_indicator(&target, indicator)
                .err()
                .into_iter()
                .collect::<Vec<_>>();
            if reason.trim().is_empty() {
                problems.push(tr!("dtictl-na-reason"));
            }
            if !problems.is_empty() {
                return Err(Failure::InvalidInput(problems));
            }
            None
        }
        DraftCommand::Clear { indicator, .. } => {
            check_indicator(&target, indicator).map_err(|p| Failure::InvalidInput(vec![p]))?;
            None
        }
        _ => None,
    };
    let principal = unit_submitter(target.unit.as_str());
    let connection = &draft.connection;
    runtime()?.block_on(async {
        let mut client =
            SubmissionServiceClient::new(connection.channel(Service::Submission).await?);
        let what = tr!("dtictl-what-unit", unit = target.unit.as_str());
        match command {
            DraftCommand::Show(_) => {
                let submission = find(&mut client, connection, &target).await?;
                output.emit(&submission, |s| describe_submission(&target, s))
            }
            DraftCommand::Set {
                not_applicable_reason,
                ..
            } => {
                let values = values.unwrap_or_else(|| UnitValues::new(target.unit.clone()));
                let mut submission = create_draft(&mut client, connection, &target).await?;
                let id = submission.submission_id.clone();
                if !values.values.is_empty() || !values.general_info.is_empty() {
                    let request = SetValuesRequest {
                        submission_id: id.clone(),
                        values: values
                            .values
                            .iter()
                            .map(|(code, v)| {
                                dti_proto::convert::indicator_to_proto(code.as_str(), v)
                            })
                            .collect(),
                        general_info: dti_proto::convert::general_info_map_to_proto(
                            &values.general_info,
                        ),
                    };
                    let response = call(
                        &what,
                        client.set_values(connection.request(request, &principal)?),
                    )
                    .await?;
                    for warning in &response.warnings {
                        eprintln!(
                            "{}",
                            crate::text::warning_line(&warning.field, &warning.description)
                        );
                    }
                    submission = response.submission.unwrap_or(submission);
                }
                for code in &values.not_applicable {
                    let request = SetNotApplicableRequest {
                        submission_id: id.clone(),
                        indicator_code: code.to_string(),
                        reason: not_applicable_reason.clone(),
                    };
                    submission = call(
                        &what,
                        client.set_not_applicable(connection.request(request, &principal)?),
                    )
                    .await?;
                }
                let set = values.values.len();
                let marked = values.not_applicable.len();
                output.emit(&submission, |s| {
                    format!(
                        "{}\n{}",
                        tr!(
                            "dtictl-draft-set",
                            unit = target.describe(),
                            set = set,
                            marked = marked
                        ),
                        describe_submission(&target, s)
                    )
                })
            }
            DraftCommand::NotApplicable {
                indicator, reason, ..
            } => {
                let id = create_draft(&mut client, connection, &target)
                    .await?
                    .submission_id;
                let request = SetNotApplicableRequest {
                    submission_id: id,
                    indicator_code: indicator.clone(),
                    reason: reason.clone(),
                };
                let submission = call(
                    &what,
                    client.set_not_applicable(connection.request(request, &principal)?),
                )
                .await?;
                output.emit(&submission, |s| {
                    format!(
                        "{}\n{}",
                        tr!(
                            "dtictl-draft-marked-na",
                            unit = target.describe(),
                            indicator = indicator
                        ),
                        describe_submission(&target, s)
                    )
                })
            }
            DraftCommand::Clear { indicator, .. } => {
                let id = find(&mut client, connection, &target).await?.submission_id;
                let request = ClearIndicatorRequest {
                    submission_id: id,
                    indicator_code: indicator.clone(),
                };
                let submission = call(
                    &what,
                    client.clear_indicator(connection.request(request, &principal)?),
                )
                .await?;
                output.emit(&submission, |s| {
                    format!(
                        "{}\n{}",
                        tr!(
                            "dtictl-draft-cleared",
                            unit = target.describe(),
                            indicator = indicator
                        ),
                        describe_submission(&target, s)
                    )
                })
            }
            DraftCommand::Submit { request_id, .. } => {
                let submission = find(&mut client, connection, &target).await?;
                let request = SubmitRequest {
                    submission_id: submission.submission_id.clone(),
                    client_request_id: request_id
                        .clone()
                        .unwrap_or_else(|| submit_request_id(&submission)),
                };
                let response: SubmitResponse = call(
                    &what,
                    client.submit(connection.request(request, &principal)?),
                )
                .await?;
                output.emit(&response, |r| {
                    tr!(
                        "dtictl-submitted-version",
                        unit = target.describe(),
                        version = r.version
                    )
                })
            }
            DraftCommand::Versions(_) => {
                let id = find(&mut client, connection, &target).await?.submission_id;
                let request = ListVersionsRequest { submission_id: id };
                let response = call(
                    &what,
                    client.list_versions(connection.request(request, &principal)?),
                )
                .await?;
                output.emit(&response, |r| describe_versions(&target, r))
            }
        }
    })
}

/// The unit's submission of the round (as its submitter).
pub async fn find(
    client: &mut SubmissionServiceClient<Channel>,
    connection: &Remote,
    target: &Target,
) -> Result<Submission, Failure> {
    let request = FindSubmissionRequest {
        round: Some(target.round.clone()),
        unit: Some(target.unit_ref()),
    };
    let principal = unit_submitter(target.unit.as_str());
    call(
        &tr!("dtictl-what-unit", unit = target.unit.as_str()),
        client.find_submission(connection.request(request, &principal)?),
    )
    .await
}

/// The unit's draft of the round, created when it has none (as its submitter).
async fn create_draft(
    client: &mut SubmissionServiceClient<Channel>,
    connection: &Remote,
    target: &Target,
) -> Result<Submission, Failure> {
    let request = CreateDraftRequest {
        round: Some(target.round.clone()),
        unit: Some(target.unit_ref()),
    };
    let principal = unit_submitter(target.unit.as_str());
    call(
        &tr!("dtictl-what-unit", unit = target.unit.as_str()),
        client.create_draft(connection.request(request, &principal)?),
    )
    .await
}

/// `--indicator`'s code is a scored indicator of the round's framework.
fn check_indicator(target: &Target, code: &str) -> Result<(), String> {
    match scored_indicator(target.framework(), code) {
        Some(_) => Ok(()),
        None => Err(tr!(
            "dtictl-draft-not-scored",
            unit = target.unit.as_str(),
            indicator = code,
            framework = target.framework().id.to_string()
        )),
    }
}

/// The unit's values from `file`: a unit object, or a cohort file's unit `target.unit`;
/// decoded and checked against the framework, every error listed (exit 2).
fn load_unit_values(
    catalog: &FrameworkCatalog,
    target: &Target,
    file: &std::path::Path,
) -> Result<UnitValues, Failure> {
    let text = read_input(file)?;
    let document: Value = serde_json::from_str(&text).map_err(|error| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-file-not-json",
            path = file.display().to_string(),
            error = error.to_string()
        )])
    })?;
    let framework = target.framework().id.to_string();
    let unit = target.unit.as_str();
    let chosen = match &document {
        Value::Object(object) if object.contains_key("units") => {
            if let Some(declared) = object.get("framework") {
                if declared.as_str() != Some(framework.as_str()) {
                    return Err(Failure::InvalidInput(vec![tr!(
                        "dtictl-file-other-framework",
                        path = file.display().to_string(),
                        declared = declared.to_string(),
                        framework = &framework
                    )]));
                }
            }
            let units = object["units"].as_array().cloned().unwrap_or_default();
            units
                .into_iter()
                .find(|u| u.get("unit").and_then(Value::as_str) == Some(unit))
                .ok_or_else(|| {
                    Failure::InvalidInput(vec![tr!(
                        "dtictl-file-unit-missing",
                        unit = unit,
                        path = file.display().to_string()
                    )])
                })?
        }
        Value::Object(object) => {
            if let Some(claimed) = object.get("unit") {
                if claimed.as_str() != Some(unit) {
                    let claimed = claimed
                        .as_str()
                        .map_or_else(|| claimed.to_string(), str::to_owned);
                    return Err(Failure::InvalidInput(vec![tr!(
                        "dtictl-file-other-unit",
                        path = file.display().to_string(),
                        claimed = claimed,
                        unit = unit
                    )]));
                }
            }
            document.clone()
        }
        _ => {
            return Err(Failure::InvalidInput(vec![tr!(
                "dtictl-file-shape",
                path = file.display().to_string()
            )]))
        }
    };
    let single = serde_json::json!({"framework": framework, "units": [chosen]}).to_string();
    let decoded = decode_cohort(&single, catalog);
    let (errors, warnings): (Vec<InputIssue>, Vec<InputIssue>) =
        decoded.issues.into_iter().partition(InputIssue::is_error);
    for warning in &warnings {
        eprintln!("{warning}");
    }
    match decoded.value {
        Some(mut cohort) if errors.is_empty() && !cohort.units.is_empty() => {
            let values = cohort.units.remove(0);
            if values.values.is_empty() && values.not_applicable.is_empty() {
                return Err(Failure::InvalidInput(vec![tr!(
                    "dtictl-file-empty-unit",
                    path = file.display().to_string(),
                    unit = unit
                )]));
            }
            Ok(values)
        }
        _ => Err(Failure::InvalidInput(
            errors.iter().map(ToString::to_string).collect(),
        )),
    }
}

/// A submit request id that is the same for every retry of one draft: the submission, the
/// version the draft builds on, and its values. When the draft was already submitted (the
/// state is `submitted`), it builds on the version before the latest, so a retry gets the
/// version the first attempt created back.
fn submit_request_id(submission: &Submission) -> String {
    let base = if submission.state == SubmissionState::Submitted as i32 {
        submission.latest_version.saturating_sub(1)
    } else {
        submission.latest_version
    };
    let mut values: std::collections::BTreeMap<&str, std::collections::BTreeMap<&str, String>> =
        std::collections::BTreeMap::new();
    for value in &submission.values {
        let variables = value
            .variables
            .iter()
            .map(|(name, v)| {
                let json = dti_proto::convert::variable_to_json(v).unwrap_or(Value::Null);
                (name.as_str(), json.to_string())
            })
            .collect();
        values.insert(value.indicator_code.as_str(), variables);
    }
    let mut marks: Vec<(&str, &str)> = submission
        .not_applicable
        .iter()
        .map(|mark| (mark.indicator_code.as_str(), mark.reason.as_str()))
        .collect();
    marks.sort_unstable();
    let canonical = serde_json::json!([submission.submission_id, base, values, marks]).to_string();
    let digest = Sha256::digest(canonical.as_bytes());
    format!("dtictl-draft-{}", hex::encode(&digest[..12]))
}

/// A submission state for people (`submitted`).
pub fn state_name(state: i32) -> String {
    SubmissionState::try_from(state)
        .map(|state| crate::text::state(&enum_name(state.as_str_name(), "SUBMISSION_STATE_")))
        .unwrap_or_else(|_| state.to_string())
}

/// A submission for people: its state and a table of its draft values.
fn describe_submission(target: &Target, submission: &Submission) -> String {
    let framework = target.framework();
    let mut rows: Vec<(Vec<u64>, [String; 3])> = submission
        .values
        .iter()
        .map(|value| {
            (
                sort_key(framework, &value.indicator_code),
                [
                    value.indicator_code.clone(),
                    target.names.indicator_in_table(&value.indicator_code),
                    describe_values(framework, value),
                ],
            )
        })
        .collect();
    rows.extend(submission.not_applicable.iter().map(|mark| {
        (
            sort_key(framework, &mark.indicator_code),
            [
                mark.indicator_code.clone(),
                target.names.indicator_in_table(&mark.indicator_code),
                tr!("dtictl-not-applicable-because", reason = &mark.reason),
            ],
        )
    }));
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = tr!(
        "dtictl-draft-head",
        unit = target.describe(),
        state = state_name(submission.state),
        version = submission.latest_version,
        changed = when(submission.updated_at.as_ref())
    );
    text.push('\n');
    text.push_str(&table(
        [
            tr!("dtictl-col-indicator"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-values"),
        ],
        rows.into_iter().map(|(_, row)| row),
    ));
    for question in &submission.clarifications {
        text.push('\n');
        text.push_str(&tr!(
            "dtictl-clarification-on",
            indicator = &question.indicator_code,
            version = question.version,
            question = &question.question
        ));
    }
    text
}

/// The submitted versions as a table.
fn describe_versions(target: &Target, response: &ListVersionsResponse) -> String {
    let rows = response.versions.iter().map(|version| {
        [
            version.version.to_string(),
            when(version.submitted_at.as_ref()),
            version.submitted_by.clone(),
            version.values.len().to_string(),
            version.not_applicable.len().to_string(),
        ]
    });
    format!(
        "{}\n{}",
        tr!(
            "dtictl-versions-head",
            unit = target.describe(),
            versions = response.versions.len()
        ),
        table(
            [
                tr!("dtictl-col-version"),
                tr!("dtictl-col-submitted-at"),
                tr!("dtictl-col-by"),
                tr!("dtictl-col-indicators"),
                tr!("dtictl-col-not-applicable"),
            ],
            rows
        )
    )
}
