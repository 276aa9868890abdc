//! The approver's and publication commands against the verification service's
//! `ApprovalService` and `PublicationService`:
//! - `dtictl approval ranking|approve|return --reason …` (an approver: the verified ranking,
//!   approving it, returning the round for more verification);
//! - `dtictl publish` and `dtictl correction --reason …` (an approver: revision 1 and the
//!   corrections of the provisional result), `dtictl publication show [--revision N]|list`
//!   (any authenticated caller; minted as an approver);
//! - `dtictl finalize` (an operator: provisional → final once the provisional period has ended
//!   and every objection is answered).
//!
//! The units' objections (`dtictl objection …`) are [`super::objection`]'s, over the same
//! service. Which role each call needs is the service's rule
//! (`services/verification/src/access.rs`); the token minted on a development stack is that
//! role's, and `--token` sends another.

use std::future::Future;

use dti_auth::Principal;
use dti_domain::FrameworkCatalog;
use dti_proto::dti::common::v1::RoundRef;
use dti_proto::dti::verification::v1::approval_service_client::ApprovalServiceClient;
use dti_proto::dti::verification::v1::publication_service_client::PublicationServiceClient;
use dti_proto::dti::verification::v1::{
    ApproveRoundRequest, FinalizeRoundRequest, GetPublicationRequest, GetVerifiedRankingRequest,
    ListPublicationsRequest, ListPublicationsResponse, Publication, PublishCorrectionRequest,
    PublishRoundRequest, ReturnForVerificationRequest, VerifiedRanking,
};
use tonic::transport::Channel;

use super::review::RoundOnly;
use super::round_common::RoundArgs;
use super::round_common::{
    describe_status, framework, invalid_unless_empty, required_text, round_ref, short, unit_name,
};
use crate::remote::{approver, call, operator, table, when, Output, Remote, Service};
use crate::{tr, Failure};

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

/// A client of the verification service's `PublicationService`.
pub(super) type Publications = PublicationServiceClient<Channel>;

/// A client of the verification service's `ApprovalService`.
type Approvals = ApprovalServiceClient<Channel>;

/// One call of the `ApprovalService` as an approver ([`Remote::exchange`]).
fn approvals<R, T, Fut>(
    connection: &Remote,
    request: R,
    send: impl FnOnce(Approvals, tonic::Request<R>) -> Fut,
) -> Result<T, Failure>
where
    Fut: Future<Output = Result<T, Failure>>,
{
    let new = ApprovalServiceClient::new;
    connection.exchange(Service::Verification, &approver(), new, request, send)
}

/// One call of the `PublicationService` as `principal` ([`Remote::exchange`]).
pub(super) fn publications<R, T, Fut>(
    connection: &Remote,
    principal: &Principal,
    request: R,
    send: impl FnOnce(Publications, tonic::Request<R>) -> Fut,
) -> Result<T, Failure>
where
    Fut: Future<Output = Result<T, Failure>>,
{
    let new = PublicationServiceClient::new;
    connection.exchange(Service::Verification, principal, new, request, send)
}

fn round_name(round: Option<&RoundRef>) -> String {
    round
        .map(|r| format!("{}/{}", r.year, r.framework))
        .unwrap_or_default()
}

fn render_ranking(ranking: &VerifiedRanking) -> String {
    let mut text = tr!(
        "dtictl-round-state",
        round = round_name(ranking.round.as_ref()),
        state = crate::text::state(&ranking.state)
    );
    text.push('\n');
    text.push_str(&table(
        [
            tr!("dtictl-col-rank"),
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-verified-total"),
            tr!("dtictl-col-self-total"),
            tr!("dtictl-col-self-rank"),
            tr!("dtictl-col-state"),
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
                    tr!("dtictl-not-submitted")
                } else {
                    crate::text::state(&u.submission_state)
                },
            ]
        }),
    ));
    text
}

fn render_publication(publication: &Publication) -> String {
    let mut text = tr!(
        "dtictl-publication-head",
        round = round_name(publication.round.as_ref()),
        revision = publication.revision,
        reason = &publication.reason,
        by = &publication.published_by,
        at = when(publication.published_at.as_ref()),
        state = crate::text::state(&publication.round_state),
        until = when(publication.provisional_until.as_ref())
    );
    text.push('\n');
    text.push_str(&if publication.hash_verified {
        tr!("dtictl-hash-verified", hash = &publication.content_hash)
    } else {
        tr!("dtictl-hash-broken", hash = &publication.content_hash)
    });
    text.push('\n');
    text.push_str(&table(
        [
            tr!("dtictl-col-rank"),
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-total"),
        ],
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
        [
            tr!("dtictl-col-revision"),
            tr!("dtictl-col-reason"),
            tr!("dtictl-col-published-by"),
            tr!("dtictl-col-at"),
            tr!("dtictl-col-content-hash"),
        ],
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

/// Runs a `dtictl approval` command (as an approver).
pub fn approval(
    catalog: &FrameworkCatalog,
    command: &ApprovalCommand,
    output: Output,
) -> Result<(), Failure> {
    let (args, step) = match command {
        ApprovalCommand::Ranking(args) => (args, Step::Ranking),
        ApprovalCommand::Approve(args) => (args, Step::Approve),
        ApprovalCommand::Return(args) => {
            let step = Step::Return(&args.reason);
            return round_step(catalog, &args.round, &args.connection, step, output);
        }
    };
    round_step(catalog, &args.round, &args.connection, step, output)
}

/// Runs a `dtictl publication` command (minted as an approver; any authenticated caller may).
pub fn publication(
    catalog: &FrameworkCatalog,
    command: &PublicationCommand,
    output: Output,
) -> Result<(), Failure> {
    let (round, connection, step) = match command {
        PublicationCommand::Show {
            round,
            revision,
            connection,
        } => (round, connection, Step::Show(*revision)),
        PublicationCommand::List(args) => (&args.round, &args.connection, Step::List),
    };
    round_step(catalog, round, connection, step, output)
}

/// A step of the approval and publication of a round that names only the round (and a reason
/// or a revision). `dtictl publish`, `correction` and `finalize` are one step each.
pub enum Step<'a> {
    /// The verified ranking (an approver).
    Ranking,
    /// Verified → approved (an approver).
    Approve,
    /// Back to verification, with the reason (an approver).
    Return(&'a str),
    /// Revision 1 (an approver).
    Publish,
    /// The next revision, with its reason (an approver).
    Correction(&'a str),
    /// Provisional → final (an operator).
    Finalize,
    /// A published revision, 0 for the latest (minted as an approver).
    Show(u32),
    /// Every published revision (minted as an approver).
    List,
}

/// Runs `step` on the round of `round`: the framework checked first, then a reason; each call
/// made as the step's principal and its answer printed.
pub fn round_step(
    catalog: &FrameworkCatalog,
    round: &RoundArgs,
    connection: &Remote,
    step: Step<'_>,
    output: Output,
) -> Result<(), Failure> {
    framework(catalog, round)?;
    let mut problems = Vec::new();
    let reason = match step {
        Step::Return(reason) | Step::Correction(reason) => {
            required_text("--reason", reason, &mut problems)
        }
        _ => String::new(),
    };
    invalid_unless_empty(problems)?;
    let round = Some(round_ref(round));
    match step {
        Step::Ranking => {
            let send = |mut c: Approvals, r| async move {
                call(
                    &tr!("dtictl-what-verified-ranking"),
                    c.get_verified_ranking(r),
                )
                .await
            };
            let ranking = approvals(connection, GetVerifiedRankingRequest { round }, send)?;
            output.emit(&ranking, render_ranking)
        }
        Step::Approve => {
            let send = |mut c: Approvals, r| async move {
                call(&tr!("dtictl-what-approve"), c.approve_round(r)).await
            };
            output.emit(
                &approvals(connection, ApproveRoundRequest { round }, send)?,
                describe_status,
            )
        }
        Step::Return(_) => {
            let send = |mut c: Approvals, r| async move {
                call(&tr!("dtictl-what-return"), c.return_for_verification(r)).await
            };
            let request = ReturnForVerificationRequest { round, reason };
            output.emit(&approvals(connection, request, send)?, describe_status)
        }
        Step::Publish => {
            let send = |mut c: Publications, r| async move {
                call(&tr!("dtictl-what-publish"), c.publish_round(r)).await
            };
            let published =
                publications(connection, &approver(), PublishRoundRequest { round }, send)?;
            output.emit(&published, render_publication)
        }
        Step::Correction(_) => {
            let send = |mut c: Publications, r| async move {
                call(&tr!("dtictl-what-correction"), c.publish_correction(r)).await
            };
            let request = PublishCorrectionRequest { round, reason };
            output.emit(
                &publications(connection, &approver(), request, send)?,
                render_publication,
            )
        }
        Step::Finalize => {
            let send = |mut c: Publications, r| async move {
                call(&tr!("dtictl-what-finalize"), c.finalize_round(r)).await
            };
            let status = publications(
                connection,
                &operator(),
                FinalizeRoundRequest { round },
                send,
            )?;
            output.emit(&status, describe_status)
        }
        Step::Show(revision) => {
            let send = |mut c: Publications, r| async move {
                call(&tr!("dtictl-what-publication"), c.get_publication(r)).await
            };
            let request = GetPublicationRequest { round, revision };
            output.emit(
                &publications(connection, &approver(), request, send)?,
                render_publication,
            )
        }
        Step::List => {
            let send = |mut c: Publications, r| async move {
                call(&tr!("dtictl-what-publications"), c.list_publications(r)).await
            };
            let listed = publications(
                connection,
                &approver(),
                ListPublicationsRequest { round },
                send,
            )?;
            output.emit(&listed, render_publications)
        }
    }
}
