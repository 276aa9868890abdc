//! What the verifier's, approver's, publication, progress and export commands share, kept
//! apart from the commands themselves so that none of them imports another: the round
//! arguments, the verifier principal, the verification client and its submission lists, unit
//! ids and names checked against the unit registry, problems collected before a call, progress
//! bars, and values and decisions rendered for people.

use dti_auth::Principal;
use dti_domain::framework::Framework;
use dti_domain::{FrameworkCatalog, UnitId};
use dti_proto::dti::common::v1::RoundRef;
use dti_proto::dti::verification::v1::verification_service_client::VerificationServiceClient;
use dti_proto::dti::verification::v1::{
    DecisionKind, ListSubmissionsRequest, ListSubmissionsResponse, ReportedValue, RoundStatus,
    SubmissionSummary,
};
use indicatif::{ProgressBar, ProgressStyle};
use tonic::transport::Channel;

use crate::registry_in_force::unit_registry;
use crate::remote::{call, enum_name, table, Remote, Service};
use crate::{tr, Failure};

/// Longest reason the verification service stores, in bytes.
pub const MAX_REASON_BYTES: usize = 2000;

/// Which round.
#[derive(Debug, Clone, clap::Args)]
pub struct RoundArgs {
    /// Assessment year.
    #[arg(long)]
    pub year: u32,
    /// Framework id, e.g. hcm-2023-district.
    #[arg(long)]
    pub framework: String,
}

impl RoundArgs {
    /// The round as the services' protobuf names it.
    pub fn proto(&self) -> RoundRef {
        RoundRef {
            year: self.year,
            framework: self.framework.clone(),
        }
    }
}

/// The round of `args` as protobuf.
pub fn round_ref(args: &RoundArgs) -> RoundRef {
    RoundRef {
        year: args.year,
        framework: args.framework.clone(),
    }
}

/// The framework named by `--framework`; an unknown one is invalid input.
pub fn framework<'a>(
    catalog: &'a FrameworkCatalog,
    args: &RoundArgs,
) -> Result<&'a std::sync::Arc<dti_domain::framework::Framework>, Failure> {
    super::unit_common::framework_named(catalog, &args.framework)
}

/// A unit id given on the command line (`flag`), checked against the unit registry.
pub fn unit_id(flag: &str, unit: &str) -> Result<String, Failure> {
    let known = UnitId::parse(unit)
        .ok()
        .filter(|id| unit_registry().unit(id).is_some());
    known.map(|id| id.to_string()).ok_or_else(|| {
        Failure::InvalidInput(vec![tr!("dtictl-unknown-unit", flag = flag, unit = unit)])
    })
}

/// A unit id given to `flag`, checked against the unit registry (a problem added when not).
pub fn checked_unit(flag: &str, unit: &str, problems: &mut Vec<String>) -> String {
    match unit_id(flag, unit) {
        Ok(unit) => unit,
        Err(failure) => {
            if let Failure::InvalidInput(lines) = failure {
                problems.extend(lines);
            }
            unit.to_owned()
        }
    }
}

/// Text given to `flag` that must say something (1 to 2000 bytes), trimmed.
pub fn required_text(flag: &str, text: &str, problems: &mut Vec<String>) -> String {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_REASON_BYTES {
        problems.push(tr!(
            "dtictl-required-text",
            flag = flag,
            max = MAX_REASON_BYTES
        ));
    }
    text.to_owned()
}

/// Adds a problem of `--indicator` unless `code` is a scored indicator of `framework`.
pub fn check_scored(framework: &Framework, code: &str, problems: &mut Vec<String>) {
    let scored = framework
        .indicator_by_str(code)
        .is_some_and(|i| i.rule.is_some() && i.parent.is_none());
    if !scored {
        problems.push(tr!(
            "dtictl-not-scored-indicator",
            indicator = code,
            framework = framework.id.to_string()
        ));
    }
}

/// Every problem found as invalid input, or nothing.
pub fn invalid_unless_empty(problems: Vec<String>) -> Result<(), Failure> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::InvalidInput(problems))
    }
}

/// A unit's Vietnamese name from the unit registry (its id when unknown).
pub fn unit_name(unit: &str) -> String {
    UnitId::parse(unit)
        .ok()
        .and_then(|id| unit_registry().unit(&id).map(|u| u.name.clone()))
        .unwrap_or_else(|| unit.to_owned())
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A progress bar over `len` units on stderr, hidden when stderr is not a terminal.
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {prefix}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// Failures of several units as one: the first failure's kind (and exit code), every line.
pub fn combine(failures: Vec<Failure>) -> Result<(), Failure> {
    let mut failures = failures.into_iter();
    let Some(mut first) = failures.next() else {
        return Ok(());
    };
    for failure in failures {
        let more = match failure {
            Failure::InvalidInput(lines) | Failure::Refused(lines) | Failure::Denied(lines) => {
                lines
            }
            Failure::Broken(line) => vec![line],
            Failure::Unexpected(error) => vec![format!("{error:#}")],
        };
        match &mut first {
            Failure::InvalidInput(lines) | Failure::Refused(lines) | Failure::Denied(lines) => {
                lines.extend(more);
            }
            Failure::Broken(text) => {
                for line in more {
                    text.push('\n');
                    text.push_str(&line);
                }
            }
            Failure::Unexpected(error) => {
                let context = more.join("\n");
                first = Failure::Unexpected(anyhow::anyhow!("{error:#}\n{context}"));
            }
        }
    }
    Err(first)
}

/// A connected verification client and the verifier's bearer.
pub async fn verification_client(
    connection: &Remote,
    principal: &Principal,
) -> Result<(VerificationServiceClient<Channel>, String), Failure> {
    let bearer = connection.bearer(principal)?;
    let client = VerificationServiceClient::new(connection.channel(Service::Verification).await?);
    Ok((client, bearer))
}

/// The round's submissions (all states).
pub async fn list_submissions(
    client: &mut VerificationServiceClient<Channel>,
    round: &RoundRef,
    state: &str,
    bearer: &str,
) -> Result<ListSubmissionsResponse, Failure> {
    let request = crate::remote::with_bearer(
        ListSubmissionsRequest {
            round: Some(round.clone()),
            state: state.to_owned(),
        },
        bearer,
    )?;
    call(
        &tr!("dtictl-what-list-submissions"),
        client.list_submissions(request),
    )
    .await
}

/// The submission of `unit` in `listed`, or why there is none (invalid input naming `--unit`).
pub fn submission_of<'a>(
    listed: &'a ListSubmissionsResponse,
    unit: &str,
) -> Result<&'a SubmissionSummary, Failure> {
    let found = listed
        .submissions
        .iter()
        .find(|s| s.unit.as_ref().is_some_and(|u| u.unit_id == unit))
        .filter(|s| s.latest_version >= 1);
    found.ok_or_else(|| {
        let why = if listed.units_without_submission.iter().any(|u| u == unit)
            || listed
                .submissions
                .iter()
                .any(|s| s.unit.as_ref().is_some_and(|u| u.unit_id == unit))
        {
            tr!("dtictl-unit-submitted-nothing", unit = unit)
        } else {
            tr!("dtictl-unit-not-in-cohort", unit = unit)
        };
        Failure::InvalidInput(vec![why])
    })
}

/// The unit id of a summary.
pub fn summary_unit(summary: &SubmissionSummary) -> &str {
    summary.unit.as_ref().map_or("", |u| u.unit_id.as_str())
}

/// One line for people: `round 2023/hcm-2023-district: under_verification`.
pub fn describe_status(status: &RoundStatus) -> String {
    let name = status
        .round
        .as_ref()
        .map(|r| format!("{}/{}", r.year, r.framework))
        .unwrap_or_default();
    match &status.provisional_until {
        Some(until) => tr!(
            "dtictl-round-provisional-until",
            round = name,
            state = crate::text::state(&status.state),
            until = crate::remote::when(Some(until))
        ),
        None => tr!(
            "dtictl-round-state",
            round = name,
            state = crate::text::state(&status.state)
        ),
    }
}

/// Submissions as a table: unit, name, state, version, decided/indicators.
pub fn submissions_table<'a>(
    submissions: impl IntoIterator<Item = &'a SubmissionSummary>,
) -> String {
    table(
        [
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-state"),
            tr!("dtictl-col-version"),
            tr!("dtictl-col-decided"),
        ],
        submissions.into_iter().map(|s| {
            [
                summary_unit(s).to_owned(),
                unit_name(summary_unit(s)),
                crate::text::state(&s.state),
                s.latest_version.to_string(),
                format!("{}/{}", s.decided, s.indicators),
            ]
        }),
    )
}

/// A reported or verified value for people: `a=98 b=264`, `n/a`, or `-` for none.
pub fn render_value(value: Option<&ReportedValue>) -> String {
    let Some(value) = value else {
        return "-".to_owned();
    };
    if value.not_applicable {
        return "n/a".to_owned();
    }
    let Some(values) = &value.values else {
        return "-".to_owned();
    };
    let mut names: Vec<&String> = values.variables.keys().collect();
    names.sort();
    let parts: Vec<String> = names
        .into_iter()
        .map(|name| {
            let text = match dti_proto::convert::variable_to_json(&values.variables[name]) {
                Ok(serde_json::Value::Array(list)) => format!("[{} items]", list.len()),
                Ok(serde_json::Value::String(text)) => text,
                Ok(other) => other.to_string(),
                Err(_) => "?".to_owned(),
            };
            format!("{name}={}", short(&text, 24))
        })
        .collect();
    parts.join(" ")
}

/// A decision for people (`accept`, `adjust`…), or `-` when none was made.
pub fn decision_name(kind: i32) -> String {
    match DecisionKind::try_from(kind) {
        Ok(DecisionKind::Unspecified) | Err(_) => "-".to_owned(),
        Ok(kind) => crate::text::state(&enum_name(kind.as_str_name(), "DECISION_KIND_")),
    }
}
