//! The verifier's steps on submissions, `dtictl verify decide|clarify|complete`.
//!
//! - `decide --file F [--accept-rest]`: the decisions file ([`super::decisions`]) is validated
//!   whole, then checked against the round's cohort (every named unit must have submitted);
//!   only then is anything sent: per unit, its submission is opened (a `submitted` one starts
//!   its verification) and its decisions are sent for the version the file names or, without
//!   one, the version just opened. `--accept-rest` (or the file's `accept_rest`) adds an
//!   acceptance of every indicator the file does not name and that has no decision yet.
//! - `decide --all-accept`: every `submitted` or `under_verification` submission of the round
//!   is opened and each undecided indicator accepted, so a whole round is verified in one
//!   command (submissions waiting for their unit's clarification are left alone).
//! - `clarify`: questions on indicators of one unit's latest version.
//! - `complete --unit U | --all [--accept-undecided]`: completes submissions' verification.

use std::path::PathBuf;

use dti_domain::FrameworkCatalog;
use dti_proto::dti::verification::v1::verification_service_client::VerificationServiceClient;
use dti_proto::dti::verification::v1::{
    ClarificationQuestion, CompleteSubmissionRequest, DecideIndicatorsRequest,
    DecideIndicatorsResponse, DecisionKind, IndicatorDecision, OpenSubmissionRequest,
    RequestClarificationRequest, SubmissionReview, SubmissionSummary,
};
use serde::Serialize;
use tonic::transport::Channel;

use super::decisions::{self, UnitDecisions};
use super::round_common::{
    self, check_scored, checked_unit, combine, framework, invalid_unless_empty, list_submissions,
    progress, round_ref, submission_of, submissions_table, summary_unit, unit_id, unit_name,
    verification_client, RoundArgs,
};
use crate::remote::{call, table, verifier, with_bearer, Output, Remote};
use crate::runtime;
use crate::{tr, Failure};

/// What `dtictl verify decide` reads.
#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// Decisions file (format in docs/verification.md; `-` for standard input).
    #[arg(long, required_unless_present = "all_accept")]
    pub file: Option<PathBuf>,
    /// Also accept every other undecided indicator of each unit the file names.
    #[arg(long, requires = "file")]
    pub accept_rest: bool,
    /// Accept every undecided indicator of every submission of the round.
    #[arg(long)]
    pub all_accept: bool,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// What `dtictl verify clarify` sends.
#[derive(Debug, clap::Args)]
pub struct ClarifyArgs {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// The unit asked.
    #[arg(long)]
    pub unit: String,
    /// Indicator asked about (repeat with one --question each).
    #[arg(long = "indicator", required = true)]
    pub indicators: Vec<String>,
    /// The question on the indicator in the same position.
    #[arg(long = "question", required = true)]
    pub questions: Vec<String>,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// Which submissions `dtictl verify complete` completes.
#[derive(Debug, clap::Args)]
pub struct CompleteArgs {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// Units to complete (repeatable).
    #[arg(long = "unit", required_unless_present = "all", conflicts_with = "all")]
    pub units: Vec<String>,
    /// Every submission of the round that is not verified yet.
    #[arg(long)]
    pub all: bool,
    /// Accept every indicator not decided yet (otherwise they refuse the completion).
    #[arg(long)]
    pub accept_undecided: bool,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// One unit's decisions as recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitDecided {
    /// The unit.
    pub unit_id: String,
    /// Its submission.
    pub submission_id: String,
    /// The version decided on.
    pub version: u32,
    /// Decisions sent.
    pub sent: usize,
    /// The service's answer.
    pub response: DecideIndicatorsResponse,
}

/// `dtictl verify decide`'s answer: one entry per unit decisions were sent for.
#[derive(Debug, Serialize)]
pub struct Decided {
    /// Per unit.
    pub units: Vec<UnitDecided>,
}

/// `dtictl verify complete`'s answer.
#[derive(Debug, Serialize)]
pub struct Completed {
    /// The completed submissions.
    pub submissions: Vec<SubmissionSummary>,
}

type Client = VerificationServiceClient<Channel>;

/// Opens a submission (a `submitted` one starts its verification).
pub async fn open(
    client: &mut Client,
    id: &str,
    bearer: &str,
) -> Result<SubmissionReview, Failure> {
    let request = with_bearer(
        OpenSubmissionRequest {
            submission_id: id.to_owned(),
        },
        bearer,
    )?;
    call(
        &tr!("dtictl-what-open-submission"),
        client.open_submission(request),
    )
    .await
}

fn accept(code: &str) -> IndicatorDecision {
    IndicatorDecision {
        indicator_code: code.to_owned(),
        kind: DecisionKind::Accepted as i32,
        ..IndicatorDecision::default()
    }
}

/// Opens `summary`'s submission and sends `decisions` (plus acceptances of the rest when
/// `accept_rest`); `None` when there was nothing to decide.
async fn decide_unit(
    client: &mut Client,
    bearer: &str,
    summary: &SubmissionSummary,
    unit: &UnitDecisions,
    accept_rest: bool,
) -> Result<Option<UnitDecided>, Failure> {
    let review = open(client, &summary.submission_id, bearer).await?;
    let latest = review
        .summary
        .as_ref()
        .map_or(summary.latest_version, |s| s.latest_version);
    let mut sent = unit.decisions.clone();
    if accept_rest {
        let named = decisions::named(&unit.decisions);
        let rest: Vec<IndicatorDecision> = review
            .indicators
            .iter()
            .filter(|i| i.decision.is_none() && !named.contains(i.indicator_code.as_str()))
            .map(|i| accept(&i.indicator_code))
            .collect();
        sent.extend(rest);
    }
    if sent.is_empty() {
        return Ok(None);
    }
    let version = unit.version.unwrap_or(latest);
    let count = sent.len();
    let request = with_bearer(
        DecideIndicatorsRequest {
            submission_id: summary.submission_id.clone(),
            version,
            decisions: sent,
        },
        bearer,
    )?;
    let response = call(
        &tr!("dtictl-what-unit", unit = &unit.unit),
        client.decide_indicators(request),
    )
    .await?;
    Ok(Some(UnitDecided {
        unit_id: unit.unit.clone(),
        submission_id: summary.submission_id.clone(),
        version,
        sent: count,
        response,
    }))
}

/// What [`decide_all`] collects: the units recorded, and each unit's refusal.
#[derive(Default)]
struct Outcome {
    decided: Vec<UnitDecided>,
    failures: Vec<Failure>,
}

/// Decides each target in turn ([`decide_unit`]) with a progress bar labelled `what`: a unit's
/// refusal is kept in `outcome` and the next unit is tried; a denied caller stops at once.
async fn decide_all<U: std::borrow::Borrow<UnitDecisions>>(
    client: &mut Client,
    bearer: &str,
    what: &str,
    targets: Vec<(&SubmissionSummary, U)>,
    accept_rest: bool,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    let bar = progress(targets.len(), what);
    for (summary, unit) in targets {
        let unit = unit.borrow();
        bar.set_prefix(unit.unit.clone());
        match decide_unit(client, bearer, summary, unit, accept_rest).await {
            Ok(Some(done)) => outcome.decided.push(done),
            Ok(None) => {}
            Err(denied @ Failure::Denied(_)) => return Err(denied),
            Err(failure) => outcome.failures.push(failure),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Runs `dtictl verify decide`.
pub fn decide(
    catalog: &FrameworkCatalog,
    args: &DecideArgs,
    output: Output,
) -> Result<(), Failure> {
    let framework = framework(catalog, &args.round)?;
    let file = match &args.file {
        Some(path) => Some(decisions::load(path, args.round.year, framework)?),
        None => None,
    };
    let round = round_ref(&args.round);
    runtime()?.block_on(async {
        let (mut client, bearer) = verification_client(&args.connection, &verifier()).await?;
        let listed = list_submissions(&mut client, &round, "", &bearer).await?;
        let mut outcome = Outcome::default();
        if let Some(file) = &file {
            let mut problems = Vec::new();
            let mut targets = Vec::new();
            for unit in &file.units {
                match submission_of(&listed, &unit.unit) {
                    Ok(summary) => targets.push((summary, unit)),
                    Err(Failure::InvalidInput(lines)) => {
                        problems.extend(lines.into_iter().map(|l| {
                            l.replacen(
                                "--unit: ",
                                &format!("{}: ", tr!("dtictl-decisions-file")),
                                1,
                            )
                        }))
                    }
                    Err(other) => return Err(other),
                }
            }
            if !problems.is_empty() {
                return Err(Failure::InvalidInput(problems));
            }
            let accept_rest = args.accept_rest || file.accept_rest;
            decide_all(
                &mut client,
                &bearer,
                &tr!("dtictl-progress-deciding"),
                targets,
                accept_rest,
                &mut outcome,
            )
            .await?;
        }
        if args.all_accept {
            let listed = list_submissions(&mut client, &round, "", &bearer).await?;
            let open: Vec<&SubmissionSummary> = listed
                .submissions
                .iter()
                .filter(|s| s.latest_version >= 1)
                .filter(|s| matches!(s.state.as_str(), "submitted" | "under_verification"))
                .collect();
            for waiting in listed
                .submissions
                .iter()
                .filter(|s| s.state == "clarification_requested")
            {
                eprintln!(
                    "{}",
                    tr!("dtictl-waiting-clarification", unit = summary_unit(waiting))
                );
            }
            let targets: Vec<(&SubmissionSummary, UnitDecisions)> = open
                .into_iter()
                .map(|summary| {
                    let unit = UnitDecisions {
                        unit: summary_unit(summary).to_owned(),
                        version: None,
                        decisions: Vec::new(),
                    };
                    (summary, unit)
                })
                .collect();
            decide_all(
                &mut client,
                &bearer,
                &tr!("dtictl-progress-accepting"),
                targets,
                true,
                &mut outcome,
            )
            .await?;
        }
        output.emit(
            &Decided {
                units: outcome.decided,
            },
            render_decided,
        )?;
        combine(outcome.failures)
    })
}

fn render_decided(decided: &Decided) -> String {
    if decided.units.is_empty() {
        return tr!("dtictl-nothing-to-decide");
    }
    let mut text = table(
        [
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-version"),
            tr!("dtictl-col-sent"),
            tr!("dtictl-col-changed"),
            tr!("dtictl-col-decision-revision"),
        ],
        decided.units.iter().map(|u| {
            [
                u.unit_id.clone(),
                unit_name(&u.unit_id),
                u.version.to_string(),
                u.sent.to_string(),
                u.response.changed_indicator_codes.len().to_string(),
                u.response.revision.to_string(),
            ]
        }),
    );
    text.push('\n');
    for unit in &decided.units {
        for warning in &unit.response.warnings {
            text.push_str(&crate::text::warning_line(
                &warning.field,
                &warning.description,
            ));
            text.push('\n');
        }
    }
    text
}

/// Runs `dtictl verify clarify`.
pub fn clarify(
    catalog: &FrameworkCatalog,
    args: &ClarifyArgs,
    output: Output,
) -> Result<(), Failure> {
    let framework = framework(catalog, &args.round)?;
    let mut problems = Vec::new();
    let unit = match unit_id("--unit", &args.unit) {
        Ok(unit) => Some(unit),
        Err(Failure::InvalidInput(lines)) => {
            problems.extend(lines);
            None
        }
        Err(other) => return Err(other),
    };
    if args.indicators.len() != args.questions.len() {
        problems.push(tr!(
            "dtictl-questions-per-indicator",
            questions = args.questions.len(),
            indicators = args.indicators.len()
        ));
    }
    for code in &args.indicators {
        check_scored(framework, code, &mut problems);
    }
    for question in &args.questions {
        if question.trim().is_empty() || question.len() > round_common::MAX_REASON_BYTES {
            problems.push(tr!(
                "dtictl-required-text",
                flag = "--question",
                max = round_common::MAX_REASON_BYTES
            ));
        }
    }
    let unit = match unit {
        Some(unit) if problems.is_empty() => unit,
        _ => return Err(Failure::InvalidInput(problems)),
    };
    let round = round_ref(&args.round);
    runtime()?.block_on(async {
        let (mut client, bearer) = verification_client(&args.connection, &verifier()).await?;
        let listed = list_submissions(&mut client, &round, "", &bearer).await?;
        let summary = submission_of(&listed, &unit)?;
        let request = with_bearer(
            RequestClarificationRequest {
                submission_id: summary.submission_id.clone(),
                version: summary.latest_version,
                questions: args
                    .indicators
                    .iter()
                    .zip(&args.questions)
                    .map(|(code, question)| ClarificationQuestion {
                        indicator_code: code.clone(),
                        question: question.trim().to_owned(),
                    })
                    .collect(),
            },
            &bearer,
        )?;
        let asked = call(
            &tr!("dtictl-what-unit", unit = &unit),
            client.request_clarification(request),
        )
        .await?;
        output.emit(&asked, |s| submissions_table([s]))
    })
}

/// Runs `dtictl verify complete`.
pub fn complete(
    catalog: &FrameworkCatalog,
    args: &CompleteArgs,
    output: Output,
) -> Result<(), Failure> {
    framework(catalog, &args.round)?;
    let mut problems = Vec::new();
    let units: Vec<String> = args
        .units
        .iter()
        .map(|unit| checked_unit("--unit", unit, &mut problems))
        .collect();
    invalid_unless_empty(problems)?;
    let mut problems = Vec::new();
    let round = round_ref(&args.round);
    runtime()?.block_on(async {
        let (mut client, bearer) = verification_client(&args.connection, &verifier()).await?;
        let listed = list_submissions(&mut client, &round, "", &bearer).await?;
        let targets: Vec<&SubmissionSummary> = if args.all {
            listed
                .submissions
                .iter()
                .filter(|s| s.latest_version >= 1 && s.state != "verified")
                .collect()
        } else {
            let mut targets = Vec::new();
            for unit in &units {
                match submission_of(&listed, unit) {
                    Ok(summary) => targets.push(summary),
                    Err(Failure::InvalidInput(lines)) => problems.extend(lines),
                    Err(other) => return Err(other),
                }
            }
            if !problems.is_empty() {
                return Err(Failure::InvalidInput(problems));
            }
            targets
        };
        let bar = progress(targets.len(), &tr!("dtictl-progress-completing"));
        let mut completed = Vec::new();
        let mut failures = Vec::new();
        for summary in targets {
            let unit = summary_unit(summary).to_owned();
            bar.set_prefix(unit.clone());
            let done = complete_one(&mut client, &bearer, summary, args.accept_undecided).await;
            match done {
                Ok(summary) => completed.push(summary),
                Err(denied @ Failure::Denied(_)) => return Err(denied),
                Err(failure) => failures.push(failure),
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        output.emit(
            &Completed {
                submissions: completed,
            },
            |c| {
                if c.submissions.is_empty() {
                    tr!("dtictl-nothing-completed")
                } else {
                    submissions_table(&c.submissions)
                }
            },
        )?;
        combine(failures)
    })
}

async fn complete_one(
    client: &mut Client,
    bearer: &str,
    summary: &SubmissionSummary,
    accept_undecided: bool,
) -> Result<SubmissionSummary, Failure> {
    let unit = summary_unit(summary);
    let mut version = summary.latest_version;
    if summary.state == "submitted" {
        let review = open(client, &summary.submission_id, bearer).await?;
        version = review.summary.map_or(version, |s| s.latest_version);
    }
    let request = with_bearer(
        CompleteSubmissionRequest {
            submission_id: summary.submission_id.clone(),
            version,
            accept_undecided,
        },
        bearer,
    )?;
    call(
        &tr!("dtictl-what-unit", unit = unit),
        client.complete_submission(request),
    )
    .await
}
