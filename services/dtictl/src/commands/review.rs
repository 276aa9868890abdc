//! The verifier's commands, `dtictl verify …`, against the verification service's
//! `VerificationService`: start a round's verification, list and show submissions (reported and
//! verified values side by side), record decisions from a file ([`super::decisions`]) or accept
//! a whole round at once, ask a unit for clarification, complete submissions and the round.
//!
//! Every call is made as a verifier (a minted `verifier` token, or `--token`). Commands over
//! many units show a progress bar on stderr (hidden when stderr is not a terminal); a refusal
//! for one unit does not stop the others, and the command then fails with every refused unit
//! listed. This module also holds what the approver's, publication and progress commands share:
//! the round reference, unit names and value rendering.

use dti_auth::{Principal, Role};
use dti_domain::framework::Framework;
use dti_domain::{FrameworkCatalog, UnitId, UnitRegistry};
use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::verification::v1::verification_service_client::VerificationServiceClient;
use dti_proto::dti::verification::v1::{
    ChangeKind, CompleteRoundVerificationRequest, DecisionKind, GetSideBySideRequest,
    ListSubmissionsRequest, ListSubmissionsResponse, ReportedValue, RoundStatus, SideBySide,
    StartRoundVerificationRequest, SubmissionReview, SubmissionSummary,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tonic::transport::Channel;

use super::client::RoundArgs;
use super::database::runtime;
use super::decisions::MAX_REASON_BYTES;
use super::verify_steps as steps;
use crate::remote::{call, city, enum_name, table, Output, Remote, Service};
use crate::{tr, Failure};

/// `dtictl verify …`.
#[derive(Debug, clap::Subcommand)]
pub enum VerifyCommand {
    /// Start verifying a closed round (closed → under_verification).
    Start(RoundOnly),
    /// List the round's submissions with state, version and decisions so far.
    List {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// Only submissions in this state.
        #[arg(long, value_parser = ["draft", "submitted", "clarification_requested", "under_verification", "verified"])]
        state: Option<String>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Open a unit's submission and show reported and verified values side by side.
    Show {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// The unit, e.g. quan-1.
        #[arg(long)]
        unit: String,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Record decisions from a file, or accept every undecided indicator of the round.
    Decide(steps::DecideArgs),
    /// Send a unit's submission back with a question on an indicator.
    Clarify(steps::ClarifyArgs),
    /// Complete the verification of a unit's submission, or of every submission.
    Complete(steps::CompleteArgs),
    /// Complete the round's verification (every submitted submission must be verified).
    CompleteRound(RoundOnly),
}

/// A round and how to reach the services.
#[derive(Debug, clap::Args)]
pub struct RoundOnly {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// The verifier dtictl acts as.
pub fn verifier() -> Principal {
    city(Role::Verifier, "dtictl-verifier")
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
    catalog.get_str(&args.framework).ok_or_else(|| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-unknown-framework",
            framework = &args.framework,
            known = catalog.ids().join(", ")
        )])
    })
}

/// A unit id given on the command line (`flag`), checked against the unit registry.
pub fn unit_id(flag: &str, unit: &str) -> Result<String, Failure> {
    let known = UnitId::parse(unit)
        .ok()
        .filter(|id| registry().is_some_and(|registry| registry.unit(id).is_some()));
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

fn registry() -> Option<&'static UnitRegistry> {
    static REGISTRY: std::sync::OnceLock<Option<UnitRegistry>> = std::sync::OnceLock::new();
    REGISTRY
        .get_or_init(|| UnitRegistry::builtin().ok())
        .as_ref()
}

/// A unit's Vietnamese name from the unit registry (its id when unknown).
pub fn unit_name(unit: &str) -> String {
    UnitId::parse(unit)
        .ok()
        .and_then(|id| registry().and_then(|r| r.unit(&id)).map(|u| u.name.clone()))
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

/// `dtictl verify show`'s answer: the opened review and the side-by-side view.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shown {
    /// The submission as `OpenSubmission` returned it (absent when it could not be opened
    /// yet: the round's verification has not started).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<SubmissionReview>,
    /// Reported and verified values and scores per indicator.
    pub side_by_side: SideBySide,
}

/// Runs a `dtictl verify` command.
pub fn run(
    catalog: &FrameworkCatalog,
    command: &VerifyCommand,
    output: Output,
) -> Result<(), Failure> {
    match command {
        VerifyCommand::Decide(args) => return steps::decide(catalog, args, output),
        VerifyCommand::Clarify(args) => return steps::clarify(catalog, args, output),
        VerifyCommand::Complete(args) => return steps::complete(catalog, args, output),
        _ => {}
    }
    runtime()?.block_on(async {
        match command {
            VerifyCommand::Start(RoundOnly { round, connection })
            | VerifyCommand::CompleteRound(RoundOnly { round, connection }) => {
                framework(catalog, round)?;
                let (mut client, bearer) = verification_client(connection, &verifier()).await?;
                let status = if matches!(command, VerifyCommand::Start(_)) {
                    let request = StartRoundVerificationRequest {
                        round: Some(round_ref(round)),
                    };
                    let request = crate::remote::with_bearer(request, &bearer)?;
                    call(
                        &tr!("dtictl-what-start-verification"),
                        client.start_round_verification(request),
                    )
                    .await?
                } else {
                    let request = CompleteRoundVerificationRequest {
                        round: Some(round_ref(round)),
                    };
                    let request = crate::remote::with_bearer(request, &bearer)?;
                    call(
                        &tr!("dtictl-what-complete-round"),
                        client.complete_round_verification(request),
                    )
                    .await?
                };
                output.emit(&status, describe_status)
            }
            VerifyCommand::List {
                round,
                state,
                connection,
            } => {
                framework(catalog, round)?;
                let (mut client, bearer) = verification_client(connection, &verifier()).await?;
                let listed = list_submissions(
                    &mut client,
                    &round_ref(round),
                    state.as_deref().unwrap_or(""),
                    &bearer,
                )
                .await?;
                output.emit(&listed, |listed| {
                    let mut text = submissions_table(&listed.submissions);
                    if !listed.units_without_submission.is_empty() {
                        text.push('\n');
                        text.push_str(&tr!(
                            "dtictl-units-not-submitted",
                            units = listed.units_without_submission.join(", ")
                        ));
                        text.push('\n');
                    }
                    text
                })
            }
            VerifyCommand::Show {
                round,
                unit,
                connection,
            } => {
                framework(catalog, round)?;
                let unit = unit_id("--unit", unit)?;
                let (mut client, bearer) = verification_client(connection, &verifier()).await?;
                let listed = list_submissions(&mut client, &round_ref(round), "", &bearer).await?;
                let summary = submission_of(&listed, &unit)?;
                // Opening starts a submitted one's verification; before the round's
                // verification has started it is refused, and the side-by-side view is shown
                // alone.
                let review = match steps::open(&mut client, &summary.submission_id, &bearer).await {
                    Ok(review) => Some(review),
                    Err(Failure::Refused(lines)) => {
                        eprintln!("{}", tr!("dtictl-not-opened", why = lines.join("; ")));
                        None
                    }
                    Err(other) => return Err(other),
                };
                let request = GetSideBySideRequest {
                    round: Some(round_ref(round)),
                    unit: Some(UnitRef {
                        unit_id: unit.clone(),
                    }),
                };
                let request = crate::remote::with_bearer(request, &bearer)?;
                let side_by_side = call(
                    &tr!("dtictl-what-unit", unit = &unit),
                    client.get_side_by_side(request),
                )
                .await?;
                output.emit(
                    &Shown {
                        review,
                        side_by_side,
                    },
                    render_shown,
                )
            }
            VerifyCommand::Decide(_) | VerifyCommand::Clarify(_) | VerifyCommand::Complete(_) => {
                Ok(())
            }
        }
    })
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

/// `dtictl verify show` for people: a header, one row per indicator, the changes since the
/// previous version.
pub fn render_shown(shown: &Shown) -> String {
    let view = &shown.side_by_side;
    let unit = view.unit.as_ref().map_or("", |u| u.unit_id.as_str());
    let mut text = tr!(
        "dtictl-shown-head",
        unit = unit,
        name = unit_name(unit),
        submission = &view.submission_id,
        version = view.version,
        state = crate::text::state(&view.state)
    );
    text.push('\n');
    text.push_str(&tr!(
        "dtictl-shown-totals",
        self = &view.self_total,
        verified = &view.verified_total,
        difference = &view.total_difference
    ));
    text.push('\n');
    let points = |score: Option<&dti_proto::dti::verification::v1::Score>| {
        score.map_or("-".to_owned(), |s| s.points.clone())
    };
    text.push_str(&table(
        [
            tr!("dtictl-col-code"),
            tr!("dtictl-col-indicator"),
            tr!("dtictl-col-reported"),
            tr!("dtictl-col-self"),
            tr!("dtictl-col-verified-value"),
            tr!("dtictl-col-score"),
            tr!("dtictl-col-diff"),
            tr!("dtictl-col-decision"),
            tr!("dtictl-col-reason"),
        ],
        view.rows.iter().map(|row| {
            [
                row.indicator_code.clone(),
                short(&row.name, 40),
                render_value(row.self_value.as_ref()),
                points(row.self_score.as_ref()),
                render_value(row.verified_value.as_ref()),
                points(row.verified_score.as_ref()),
                row.difference.clone(),
                decision_name(row.decision),
                short(&row.reason, 40),
            ]
        }),
    ));
    text.push('\n');
    let Some(review) = &shown.review else {
        return text;
    };
    if !review.changes.is_empty() {
        text.push_str(&tr!(
            "dtictl-changes-since",
            version = review.previous_version
        ));
        text.push('\n');
        for change in &review.changes {
            let kind = ChangeKind::try_from(change.kind)
                .map(|k| crate::text::state(&enum_name(k.as_str_name(), "CHANGE_KIND_")))
                .unwrap_or_default();
            text.push_str(&format!(
                "  {} {kind}: {} → {}",
                change.indicator_code,
                render_value(change.previous.as_ref()),
                render_value(change.current.as_ref())
            ));
            if change.question.is_empty() {
                text.push('\n');
            } else {
                text.push_str(" (");
                text.push_str(&tr!("dtictl-asked", question = &change.question));
                text.push_str(")\n");
            }
        }
    }
    text
}
