//! The verifier's commands, `dtictl verify …`, against the verification service's
//! `VerificationService`: start a round's verification, list and show submissions (reported and
//! verified values side by side), record decisions from a file ([`super::decisions`]) or accept
//! a whole round at once, ask a unit for clarification, complete submissions and the round.
//!
//! Every call is made as a verifier (a minted `verifier` token, or `--token`). Commands over
//! many units show a progress bar on stderr (hidden when stderr is not a terminal); a refusal
//! for one unit does not stop the others, and the command then fails with every refused unit
//! listed. What these commands share with the approver's, publication, progress and export
//! commands is in [`super::round_common`].

use dti_domain::FrameworkCatalog;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::verification::v1::{
    ChangeKind, CompleteRoundVerificationRequest, GetSideBySideRequest, SideBySide,
    StartRoundVerificationRequest, SubmissionReview,
};
use serde::Serialize;

use super::round_common::{
    decision_name, describe_status, framework, list_submissions, render_value, round_ref, short,
    submission_of, submissions_table, unit_id, unit_name, verification_client, RoundArgs,
};
use super::verify_steps as steps;
use crate::remote::{call, enum_name, table, verifier, Output, Remote};
use crate::runtime;
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
