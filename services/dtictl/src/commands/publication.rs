//! The approver's, publication and objection commands against the verification service's
//! `ApprovalService` and `PublicationService`:
//! - `dtictl approval ranking|approve|return --reason …` (an approver: the verified ranking,
//!   approving it, returning the round for more verification);
//! - `dtictl publish` and `dtictl correction --reason …` (an approver: revision 1 and the
//!   corrections of the provisional result), `dtictl publication show [--revision N]|list`
//!   (any authenticated caller; minted as an approver);
//! - `dtictl objection file` (the objecting unit's own submitter), `objection list` and
//!   `objection answer --uphold|--reject` (a verifier; an approver's `--token` works too);
//! - `dtictl finalize` (an operator: provisional → final once the provisional period has ended
//!   and every objection is answered).
//!
//! Which role each call needs is the service's rule (`services/verification/src/access.rs`);
//! the token minted on a development stack is that role's, and `--token` sends another.

use dti_auth::{Principal, Role};
use dti_domain::FrameworkCatalog;
use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::verification::v1::approval_service_client::ApprovalServiceClient;
use dti_proto::dti::verification::v1::publication_service_client::PublicationServiceClient;
use dti_proto::dti::verification::v1::{
    AnswerObjectionRequest, ApproveRoundRequest, FileObjectionRequest, FinalizeRoundRequest,
    GetPublicationRequest, GetVerifiedRankingRequest, ListObjectionsRequest,
    ListObjectionsResponse, ListPublicationsRequest, ListPublicationsResponse, Objection,
    ObjectionOutcome, Publication, PublishCorrectionRequest, PublishRoundRequest,
    ReturnForVerificationRequest, VerifiedRanking,
};
use tonic::transport::Channel;

use super::client::RoundArgs;
use super::database::runtime;
use super::decisions::MAX_REASON_BYTES;
use super::review::{
    describe_status, framework, round_ref, short, unit_id, unit_name, verifier, RoundOnly,
};
use crate::remote::{call, city, enum_name, table, unit_submitter, when, with_bearer};
use crate::remote::{Output, Remote, Service};
use crate::Failure;

/// `dtictl approval …`.
#[derive(Debug, clap::Subcommand)]
pub enum ApprovalCommand {
    /// The round's ranking on verified values, beside the self-assessed one.
    Ranking(RoundOnly),
    /// Approve the verified ranking (verified → approved).
    Approve(RoundOnly),
    /// Return the round for more verification (verified → under_verification).
    Return(WithReason),
}

/// A round, a reason and how to reach the services.
#[derive(Debug, clap::Args)]
pub struct WithReason {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// Why (required).
    #[arg(long)]
    pub reason: String,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// `dtictl publication …`.
#[derive(Debug, clap::Subcommand)]
pub enum PublicationCommand {
    /// Show a published revision (the latest by default) with its ranks.
    Show {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// Revision, from 1 (0: the latest).
        #[arg(long, default_value_t = 0)]
        revision: u32,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// List every published revision, oldest first.
    List(RoundOnly),
}

/// `dtictl objection …`.
#[derive(Debug, clap::Subcommand)]
pub enum ObjectionCommand {
    /// Object to the provisional result, as the unit.
    File {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// The objecting unit (the caller's own).
        #[arg(long)]
        unit: String,
        /// The indicator objected to (default: the result as a whole).
        #[arg(long)]
        indicator: Option<String>,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// List the round's objections.
    List {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// Only this unit's objections.
        #[arg(long)]
        unit: Option<String>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Answer an objection: uphold or reject it.
    Answer {
        /// Objection id (from `objection list`).
        #[arg(long)]
        id: String,
        /// The answer (required).
        #[arg(long)]
        answer: String,
        /// The objection is upheld (a correction follows).
        #[arg(long, required_unless_present = "reject", conflicts_with = "reject")]
        uphold: bool,
        /// The objection is rejected.
        #[arg(long)]
        reject: bool,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
}

fn approver() -> Principal {
    city(Role::Approver, "dtictl-approver")
}

fn operator() -> Principal {
    city(Role::Operator, "dtictl-operator")
}

/// Text given to `flag` that must say something (1 to 2000 bytes), trimmed.
fn required_text(flag: &str, text: &str, problems: &mut Vec<String>) -> String {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_REASON_BYTES {
        problems.push(format!(
            "{flag}: must be 1 to {MAX_REASON_BYTES} bytes of text"
        ));
    }
    text.to_owned()
}

/// A unit id given to `flag`, checked against the unit registry (a problem added when not).
fn checked_unit(flag: &str, unit: &str, problems: &mut Vec<String>) -> String {
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

fn invalid_unless_empty(problems: Vec<String>) -> Result<(), Failure> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::InvalidInput(problems))
    }
}

async fn publications(
    connection: &Remote,
    principal: &Principal,
) -> Result<(PublicationServiceClient<Channel>, String), Failure> {
    let bearer = connection.bearer(principal)?;
    let channel = connection.channel(Service::Verification).await?;
    Ok((PublicationServiceClient::new(channel), bearer))
}

fn round_name(round: Option<&RoundRef>) -> String {
    round
        .map(|r| format!("{}/{}", r.year, r.framework))
        .unwrap_or_default()
}

fn render_ranking(ranking: &VerifiedRanking) -> String {
    let mut text = format!(
        "round {}: {}\n",
        round_name(ranking.round.as_ref()),
        ranking.state
    );
    text.push_str(&table(
        [
            "rank",
            "unit",
            "name",
            "verified total",
            "self-assessed total",
            "self rank",
            "state",
        ],
        ranking.units.iter().map(|u| {
            [
                u.rank.to_string(),
                u.unit_id.clone(),
                unit_name(&u.unit_id),
                u.total.clone(),
                u.self_total.clone(),
                u.self_rank.to_string(),
                if u.submission_state.is_empty() {
                    "not submitted".to_owned()
                } else {
                    u.submission_state.clone()
                },
            ]
        }),
    ));
    text
}

fn render_publication(publication: &Publication) -> String {
    let mut text = format!(
        "round {}: revision {} ({}), published by {} at {}; {} until {}\ncontent hash {} ({})\n",
        round_name(publication.round.as_ref()),
        publication.revision,
        publication.reason,
        publication.published_by,
        when(publication.published_at.as_ref()),
        publication.round_state,
        when(publication.provisional_until.as_ref()),
        publication.content_hash,
        if publication.hash_verified {
            "the snapshot still hashes to it"
        } else {
            "THE SNAPSHOT NO LONGER HASHES TO IT"
        }
    );
    text.push_str(&table(
        ["rank", "unit", "name", "total"],
        publication.ranks.iter().map(|r| {
            [
                r.rank.to_string(),
                r.unit_id.clone(),
                unit_name(&r.unit_id),
                r.total.clone(),
            ]
        }),
    ));
    text
}

fn render_publications(list: &ListPublicationsResponse) -> String {
    table(
        ["revision", "reason", "published by", "at", "content hash"],
        list.publications.iter().map(|p| {
            [
                p.revision.to_string(),
                short(&p.reason, 48),
                p.published_by.clone(),
                when(p.published_at.as_ref()),
                p.content_hash.clone(),
            ]
        }),
    )
}

fn outcome(objection: &Objection) -> String {
    match ObjectionOutcome::try_from(objection.outcome) {
        Ok(ObjectionOutcome::Unspecified) | Err(_) => "open".to_owned(),
        Ok(outcome) => enum_name(outcome.as_str_name(), "OBJECTION_OUTCOME_"),
    }
}

fn render_objections<'a>(objections: impl IntoIterator<Item = &'a Objection>) -> String {
    table(
        [
            "id",
            "unit",
            "indicator",
            "revision",
            "reason",
            "outcome",
            "answer",
        ],
        objections.into_iter().map(|o| {
            let unit = o.unit.as_ref().map_or("", |u| u.unit_id.as_str());
            [
                o.objection_id.clone(),
                format!("{unit} ({})", unit_name(unit)),
                if o.indicator_code.is_empty() {
                    "(whole result)".to_owned()
                } else {
                    o.indicator_code.clone()
                },
                o.revision.to_string(),
                short(&o.reason, 40),
                outcome(o),
                short(&o.answer, 40),
            ]
        }),
    )
}

/// Runs a `dtictl approval` command (as an approver).
pub fn approval(
    catalog: &FrameworkCatalog,
    command: &ApprovalCommand,
    output: Output,
) -> Result<(), Failure> {
    let (round, connection) = match command {
        ApprovalCommand::Ranking(args) | ApprovalCommand::Approve(args) => {
            (&args.round, &args.connection)
        }
        ApprovalCommand::Return(args) => (&args.round, &args.connection),
    };
    framework(catalog, round)?;
    let mut problems = Vec::new();
    let reason = match command {
        ApprovalCommand::Return(args) => required_text("--reason", &args.reason, &mut problems),
        _ => String::new(),
    };
    invalid_unless_empty(problems)?;
    let round = Some(round_ref(round));
    runtime()?.block_on(async {
        let bearer = connection.bearer(&approver())?;
        let mut client =
            ApprovalServiceClient::new(connection.channel(Service::Verification).await?);
        match command {
            ApprovalCommand::Ranking(_) => {
                let request = with_bearer(GetVerifiedRankingRequest { round }, &bearer)?;
                let ranking =
                    call("verified ranking", client.get_verified_ranking(request)).await?;
                output.emit(&ranking, render_ranking)
            }
            ApprovalCommand::Approve(_) => {
                let request = with_bearer(ApproveRoundRequest { round }, &bearer)?;
                let status = call("approve", client.approve_round(request)).await?;
                output.emit(&status, describe_status)
            }
            ApprovalCommand::Return(_) => {
                let request = with_bearer(ReturnForVerificationRequest { round, reason }, &bearer)?;
                let status = call("return", client.return_for_verification(request)).await?;
                output.emit(&status, describe_status)
            }
        }
    })
}

/// Runs `dtictl publish` (as an approver): revision 1, the start of the provisional period.
pub fn publish(
    catalog: &FrameworkCatalog,
    args: &RoundOnly,
    output: Output,
) -> Result<(), Failure> {
    framework(catalog, &args.round)?;
    runtime()?.block_on(async {
        let (mut client, bearer) = publications(&args.connection, &approver()).await?;
        let request = PublishRoundRequest {
            round: Some(round_ref(&args.round)),
        };
        let published = call(
            "publish",
            client.publish_round(with_bearer(request, &bearer)?),
        )
        .await?;
        output.emit(&published, render_publication)
    })
}

/// Runs `dtictl correction` (as an approver): the next revision of a provisional result.
pub fn correction(
    catalog: &FrameworkCatalog,
    args: &WithReason,
    output: Output,
) -> Result<(), Failure> {
    framework(catalog, &args.round)?;
    let mut problems = Vec::new();
    let reason = required_text("--reason", &args.reason, &mut problems);
    invalid_unless_empty(problems)?;
    runtime()?.block_on(async {
        let (mut client, bearer) = publications(&args.connection, &approver()).await?;
        let request = PublishCorrectionRequest {
            round: Some(round_ref(&args.round)),
            reason,
        };
        let request = with_bearer(request, &bearer)?;
        let corrected = call("correction", client.publish_correction(request)).await?;
        output.emit(&corrected, render_publication)
    })
}

/// Runs `dtictl finalize` (as an operator).
pub fn finalize(
    catalog: &FrameworkCatalog,
    args: &RoundOnly,
    output: Output,
) -> Result<(), Failure> {
    framework(catalog, &args.round)?;
    runtime()?.block_on(async {
        let (mut client, bearer) = publications(&args.connection, &operator()).await?;
        let request = FinalizeRoundRequest {
            round: Some(round_ref(&args.round)),
        };
        let status = call(
            "finalize",
            client.finalize_round(with_bearer(request, &bearer)?),
        )
        .await?;
        output.emit(&status, describe_status)
    })
}

/// Runs a `dtictl publication` command (minted as an approver; any authenticated caller may).
pub fn publication(
    catalog: &FrameworkCatalog,
    command: &PublicationCommand,
    output: Output,
) -> Result<(), Failure> {
    let (round, connection) = match command {
        PublicationCommand::Show {
            round, connection, ..
        } => (round, connection),
        PublicationCommand::List(args) => (&args.round, &args.connection),
    };
    framework(catalog, round)?;
    let round = Some(round_ref(round));
    runtime()?.block_on(async {
        let (mut client, bearer) = publications(connection, &approver()).await?;
        match command {
            PublicationCommand::Show { revision, .. } => {
                let request = GetPublicationRequest {
                    round,
                    revision: *revision,
                };
                let request = with_bearer(request, &bearer)?;
                let shown = call("publication", client.get_publication(request)).await?;
                output.emit(&shown, render_publication)
            }
            PublicationCommand::List(_) => {
                let request = with_bearer(ListPublicationsRequest { round }, &bearer)?;
                let listed = call("publications", client.list_publications(request)).await?;
                output.emit(&listed, render_publications)
            }
        }
    })
}

/// Runs a `dtictl objection` command: filed as the unit, listed and answered as a verifier.
pub fn objection(
    catalog: &FrameworkCatalog,
    command: &ObjectionCommand,
    output: Output,
) -> Result<(), Failure> {
    let mut problems = Vec::new();
    match command {
        ObjectionCommand::File {
            round,
            unit,
            indicator,
            reason,
            connection,
        } => {
            let framework = framework(catalog, round)?;
            let unit = checked_unit("--unit", unit, &mut problems);
            if let Some(code) = indicator {
                let scored = framework
                    .indicator_by_str(code)
                    .is_some_and(|i| i.rule.is_some() && i.parent.is_none());
                if !scored {
                    problems.push(format!(
                        "--indicator: {code:?} is not a scored indicator of framework {}",
                        framework.id
                    ));
                }
            }
            let reason = required_text("--reason", reason, &mut problems);
            invalid_unless_empty(problems)?;
            let request = FileObjectionRequest {
                round: Some(round_ref(round)),
                unit: Some(UnitRef {
                    unit_id: unit.clone(),
                }),
                indicator_code: indicator.clone().unwrap_or_default(),
                reason,
            };
            runtime()?.block_on(async {
                let (mut client, bearer) = publications(connection, &unit_submitter(&unit)).await?;
                let filed = call(
                    &format!("objection of unit {unit}"),
                    client.file_objection(with_bearer(request, &bearer)?),
                )
                .await?;
                output.emit(&filed, |o| render_objections([o]))
            })
        }
        ObjectionCommand::List {
            round,
            unit,
            connection,
        } => {
            framework(catalog, round)?;
            let unit = unit
                .as_deref()
                .map(|unit| checked_unit("--unit", unit, &mut problems))
                .unwrap_or_default();
            invalid_unless_empty(problems)?;
            let request = ListObjectionsRequest {
                round: Some(round_ref(round)),
                unit_id: unit,
            };
            runtime()?.block_on(async {
                let (mut client, bearer) = publications(connection, &verifier()).await?;
                let listed = call(
                    "objections",
                    client.list_objections(with_bearer(request, &bearer)?),
                )
                .await?;
                output.emit(&listed, |l: &ListObjectionsResponse| {
                    if l.objections.is_empty() {
                        "no objection".to_owned()
                    } else {
                        render_objections(&l.objections)
                    }
                })
            })
        }
        ObjectionCommand::Answer {
            id,
            answer,
            uphold,
            connection,
            ..
        } => {
            if id.trim().is_empty() {
                problems.push("--id: names no objection".to_owned());
            }
            let answer = required_text("--answer", answer, &mut problems);
            invalid_unless_empty(problems)?;
            let request = AnswerObjectionRequest {
                objection_id: id.trim().to_owned(),
                outcome: if *uphold {
                    ObjectionOutcome::Upheld as i32
                } else {
                    ObjectionOutcome::Rejected as i32
                },
                answer,
            };
            runtime()?.block_on(async {
                let (mut client, bearer) = publications(connection, &verifier()).await?;
                let answered = call(
                    &format!("objection {id}"),
                    client.answer_objection(with_bearer(request, &bearer)?),
                )
                .await?;
                output.emit(&answered, |o| render_objections([o]))
            })
        }
    }
}
