//! The units' objections to a provisional result, against the verification service's
//! `PublicationService`: `dtictl objection file` (the objecting unit's own submitter),
//! `objection list` and `objection answer --uphold|--reject` (a verifier; an approver's
//! `--token` works too). Which role each call needs is the service's rule
//! (`services/verification/src/access.rs`).

use dti_domain::FrameworkCatalog;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::verification::v1::{
    AnswerObjectionRequest, FileObjectionRequest, ListObjectionsRequest, ListObjectionsResponse,
    Objection, ObjectionOutcome,
};

use super::publication::{publications, Publications};
use super::round_common::RoundArgs;
use super::round_common::{
    check_scored, checked_unit, framework, invalid_unless_empty, required_text, round_ref, short,
    unit_name,
};
use crate::remote::{call, enum_name, table, unit_submitter, verifier, Output, Remote};
use crate::{tr, Failure};

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
                check_scored(framework, code, &mut problems);
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
            let what = tr!("dtictl-what-objection-of", unit = &unit);
            let send = |mut client: Publications, request| async move {
                call(&what, client.file_objection(request)).await
            };
            let render = |o: &Objection| render_objections([o]);
            output.emit(
                &publications(connection, &unit_submitter(&unit), request, send)?,
                render,
            )
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
            let send = |mut client: Publications, request| async move {
                call(
                    &tr!("dtictl-what-objections"),
                    client.list_objections(request),
                )
                .await
            };
            let render = |l: &ListObjectionsResponse| {
                if l.objections.is_empty() {
                    tr!("dtictl-no-objection")
                } else {
                    render_objections(&l.objections)
                }
            };
            output.emit(
                &publications(connection, &verifier(), request, send)?,
                render,
            )
        }
        ObjectionCommand::Answer {
            id,
            answer,
            uphold,
            connection,
            ..
        } => {
            if id.trim().is_empty() {
                problems.push(tr!("dtictl-objection-id"));
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
            let what = tr!("dtictl-what-objection", id = id);
            let send = |mut client: Publications, request| async move {
                call(&what, client.answer_objection(request)).await
            };
            let render = |o: &Objection| render_objections([o]);
            output.emit(
                &publications(connection, &verifier(), request, send)?,
                render,
            )
        }
    }
}

fn render_objections<'a>(objections: impl IntoIterator<Item = &'a Objection>) -> String {
    table(
        [
            tr!("dtictl-col-id"),
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-indicator"),
            tr!("dtictl-col-revision"),
            tr!("dtictl-col-reason"),
            tr!("dtictl-col-outcome"),
            tr!("dtictl-col-answer"),
        ],
        objections.into_iter().map(|o| {
            let unit = o.unit.as_ref().map_or("", |u| u.unit_id.as_str());
            [
                o.objection_id.clone(),
                format!("{unit} ({})", unit_name(unit)),
                if o.indicator_code.is_empty() {
                    tr!("dtictl-whole-result")
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

fn outcome(objection: &Objection) -> String {
    match ObjectionOutcome::try_from(objection.outcome) {
        Ok(ObjectionOutcome::Unspecified) | Err(_) => crate::text::state("open"),
        Ok(outcome) => crate::text::state(&enum_name(outcome.as_str_name(), "OBJECTION_OUTCOME_")),
    }
}
