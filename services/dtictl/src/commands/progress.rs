//! The operator's view and lever on a round's progress: `dtictl round progress` (how many units
//! of the cohort have submitted, wait for verification or a clarification, are verified and
//! published — from the submission service's `GetRound`, the verification service's
//! `ListSubmissions` and, once published, the latest `GetPublication`), and `dtictl round
//! reopen` (`ReopenForUnit`: one unit may submit after the deadline, with a reason). Both act
//! as an operator; they are `dtictl round` subcommands dispatched from
//! [`super::client::round`].

use std::collections::BTreeMap;
use std::time::Duration;

use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::{
    GetRoundRequest, ReopenForUnitRequest, Round, RoundState, UnitReopening,
};
use dti_proto::dti::verification::v1::publication_service_client::PublicationServiceClient;
use dti_proto::dti::verification::v1::{
    GetPublicationRequest, ListSubmissionsResponse, Publication,
};
use serde::Serialize;

use super::round_common::RoundArgs;
use super::round_common::MAX_REASON_BYTES;
use super::round_common::{
    list_submissions, round_ref, summary_unit, unit_id, unit_name, verification_client,
};
use crate::remote::{call, enum_name, operator, table, when, with_bearer, Output, Remote, Service};
use crate::{tr, Failure};

/// What `dtictl round progress` reads.
#[derive(Debug, clap::Args)]
pub struct ProgressArgs {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// What `dtictl round reopen` sends.
#[derive(Debug, clap::Args)]
pub struct ReopenArgs {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// The unit the round is reopened for.
    #[arg(long)]
    pub unit: String,
    /// The unit may submit for this many hours from now.
    #[arg(long)]
    pub deadline_in_hours: u64,
    /// Why the round is reopened for the unit (required).
    #[arg(long)]
    pub reason: String,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// How far a round has come: counts over its cohort, and what they are computed from.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundProgress {
    /// The round as the submission service has it (state, deadline, cohort).
    pub round: Round,
    /// Units in the cohort.
    pub cohort: usize,
    /// Units with a submitted version.
    pub submitted: usize,
    /// Units with no submitted version.
    pub not_submitted: usize,
    /// Submitted, waiting for a verifier to open them.
    pub awaiting_verification: usize,
    /// Sent back to their unit with questions.
    pub clarification_requested: usize,
    /// Being verified.
    pub under_verification: usize,
    /// Verified.
    pub verified: usize,
    /// Units ranked in the latest published revision.
    pub published: usize,
    /// The round's submissions as the verification service lists them.
    pub submissions: ListSubmissionsResponse,
    /// The latest published revision (its snapshot left out), once published.
    pub publication: Option<Publication>,
}

fn round_state(round: &Round) -> String {
    RoundState::try_from(round.state)
        .map(|state| crate::text::state(&enum_name(state.as_str_name(), "ROUND_STATE_")))
        .unwrap_or_else(|_| round.state.to_string())
}

/// Runs `dtictl round progress` (inside `dtictl round`'s runtime).
pub async fn progress(args: &ProgressArgs, output: Output) -> Result<(), Failure> {
    let operator = operator();
    let round_ref: RoundRef = round_ref(&args.round);
    let bearer = args.connection.bearer(&operator)?;
    let mut rounds =
        RoundOperatorServiceClient::new(args.connection.channel(Service::Submission).await?);
    let request = GetRoundRequest {
        round: Some(round_ref.clone()),
    };
    let round = call(
        &tr!("dtictl-what-round"),
        rounds.get_round(with_bearer(request, &bearer)?),
    )
    .await?;
    let (mut verification, bearer) = verification_client(&args.connection, &operator).await?;
    let submissions = list_submissions(&mut verification, &round_ref, "", &bearer).await?;
    let published_states = [RoundState::Provisional as i32, RoundState::Final as i32];
    let publication = if published_states.contains(&round.state) {
        let mut client =
            PublicationServiceClient::new(args.connection.channel(Service::Verification).await?);
        let request = GetPublicationRequest {
            round: Some(round_ref.clone()),
            revision: 0,
        };
        let mut latest = call(
            &tr!("dtictl-what-publication"),
            client.get_publication(with_bearer(request, &bearer)?),
        )
        .await?;
        latest.snapshot_json.clear();
        Some(latest)
    } else {
        None
    };
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for summary in submissions
        .submissions
        .iter()
        .filter(|s| s.latest_version >= 1)
    {
        *by_state.entry(summary.state.as_str()).or_default() += 1;
    }
    let count = |state: &str| by_state.get(state).copied().unwrap_or(0);
    let submitted: usize = by_state.values().sum();
    let progress = RoundProgress {
        cohort: round.unit_ids.len(),
        submitted,
        not_submitted: round.unit_ids.len().saturating_sub(submitted),
        awaiting_verification: count("submitted"),
        clarification_requested: count("clarification_requested"),
        under_verification: count("under_verification"),
        verified: count("verified"),
        published: publication.as_ref().map_or(0, |p| p.ranks.len()),
        round,
        submissions,
        publication,
    };
    output.emit(&progress, render)
}

fn render(progress: &RoundProgress) -> String {
    let name = progress
        .round
        .round
        .as_ref()
        .map(|r| format!("{}/{}", r.year, r.framework))
        .unwrap_or_default();
    let mut text = tr!(
        "dtictl-progress-round",
        name = name,
        state = round_state(&progress.round),
        deadline = when(progress.round.deadline.as_ref())
    );
    text.push('\n');
    text.push_str(&table(
        [
            tr!("dtictl-col-cohort"),
            tr!("dtictl-col-submitted"),
            tr!("dtictl-col-not-submitted"),
            tr!("dtictl-col-awaiting-verification"),
            tr!("dtictl-col-clarification-requested"),
            tr!("dtictl-col-under-verification"),
            tr!("dtictl-col-verified"),
            tr!("dtictl-col-published"),
        ],
        [[
            progress.cohort.to_string(),
            progress.submitted.to_string(),
            progress.not_submitted.to_string(),
            progress.awaiting_verification.to_string(),
            progress.clarification_requested.to_string(),
            progress.under_verification.to_string(),
            progress.verified.to_string(),
            progress.published.to_string(),
        ]],
    ));
    text.push('\n');
    if let Some(publication) = &progress.publication {
        text.push_str(&tr!(
            "dtictl-progress-published",
            revision = publication.revision,
            reason = &publication.reason,
            state = crate::text::state(&publication.round_state),
            until = when(publication.provisional_until.as_ref())
        ));
        text.push('\n');
    }
    let ranks: BTreeMap<&str, u32> = progress
        .publication
        .iter()
        .flat_map(|p| p.ranks.iter().map(|r| (r.unit_id.as_str(), r.rank)))
        .collect();
    text.push_str(&table(
        [
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-state"),
            tr!("dtictl-col-version"),
            tr!("dtictl-col-decided"),
            tr!("dtictl-col-published-rank"),
        ],
        progress.round.unit_ids.iter().map(|unit| {
            let summary = progress
                .submissions
                .submissions
                .iter()
                .find(|s| summary_unit(s) == unit)
                .filter(|s| s.latest_version >= 1);
            [
                unit.clone(),
                unit_name(unit),
                summary.map_or(tr!("dtictl-not-submitted"), |s| {
                    crate::text::state(&s.state)
                }),
                summary.map_or("-".to_owned(), |s| s.latest_version.to_string()),
                summary.map_or("-".to_owned(), |s| {
                    format!("{}/{}", s.decided, s.indicators)
                }),
                ranks
                    .get(unit.as_str())
                    .map_or("-".to_owned(), u32::to_string),
            ]
        }),
    ));
    text
}

/// Runs `dtictl round reopen` (inside `dtictl round`'s runtime).
pub async fn reopen(args: &ReopenArgs, output: Output) -> Result<(), Failure> {
    let mut problems = Vec::new();
    let unit = match unit_id("--unit", &args.unit) {
        Ok(unit) => unit,
        Err(Failure::InvalidInput(lines)) => {
            problems.extend(lines);
            args.unit.clone()
        }
        Err(other) => return Err(other),
    };
    if args.deadline_in_hours == 0 || args.deadline_in_hours > 24 * 366 {
        problems.push(tr!("dtictl-deadline-hours"));
    }
    let reason = args.reason.trim();
    if reason.is_empty() || reason.len() > MAX_REASON_BYTES {
        problems.push(tr!("dtictl-reopen-reason", max = MAX_REASON_BYTES));
    }
    if !problems.is_empty() {
        return Err(Failure::InvalidInput(problems));
    }
    let deadline = chrono::Utc::now() + Duration::from_secs(args.deadline_in_hours * 3600);
    let request = ReopenForUnitRequest {
        round: Some(round_ref(&args.round)),
        unit: Some(UnitRef {
            unit_id: unit.clone(),
        }),
        deadline: Some(dti_proto::convert::timestamp(deadline)),
        reason: reason.to_owned(),
    };
    let operator = operator();
    let bearer = args.connection.bearer(&operator)?;
    let mut client =
        RoundOperatorServiceClient::new(args.connection.channel(Service::Submission).await?);
    let reopened = call(
        &tr!("dtictl-what-reopen", unit = &unit),
        client.reopen_for_unit(with_bearer(request, &bearer)?),
    )
    .await?;
    output.emit(&reopened, |r: &UnitReopening| {
        let unit = r.unit.as_ref().map_or("", |u| u.unit_id.as_str());
        tr!(
            "dtictl-reopened",
            round = format!("{}/{}", args.round.year, args.round.framework),
            unit = unit,
            name = unit_name(unit),
            until = when(r.deadline.as_ref()),
            reason = &r.reason
        )
    })
}
