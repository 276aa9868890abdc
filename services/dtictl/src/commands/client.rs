//! Commands that call the platform's services over gRPC: `dtictl round open|close|show` and
//! `dtictl submit` (a cohort file's units submit their values, as each unit would).
//!
//! Credentials and endpoints are [`Remote`]'s: one token per unit for `submit`, an operator's
//! for `round`.

use std::path::PathBuf;
use std::time::Duration;

use dti_domain::values::UnitValues;
use dti_domain::FrameworkCatalog;
use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{
    CloseRoundRequest, GetRoundRequest, NotApplicable, OpenRoundRequest, Round,
    SubmitAssessmentRequest, SubmitResponse,
};
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

use super::load_cohort;
pub use super::round_common::RoundArgs;
use crate::remote::{
    enum_name, operator, refused, unit_submitter, when, with_bearer, Output, Remote, Service,
};
use crate::runtime;
use crate::{tr, Failure};

/// `dtictl round …`.
#[derive(Debug, clap::Subcommand)]
pub enum RoundCommand {
    /// Open a round for submissions until a deadline.
    Open {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// Submissions are accepted for this many hours from now.
        #[arg(long, default_value_t = 24 * 14)]
        deadline_in_hours: u64,
        /// Units of the cohort (default: the unit registry's cohort of the round, or every unit of the framework's kind active that year).
        #[arg(long = "unit")]
        units: Vec<String>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Close a round.
    Close {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Show a round's state, deadline and cohort.
    Show {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Show how far a round has come: submitted, verified, published units.
    Progress(super::progress::ProgressArgs),
    /// Reopen a round for one unit until a deadline, with a reason.
    Reopen(super::progress::ReopenArgs),
}

/// What `dtictl submit` sends.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// Cohort file in the scoring contract's format; each unit submits its values.
    #[arg(long)]
    pub input: PathBuf,
    /// Assessment year of the round.
    #[arg(long)]
    pub year: u32,
    /// Submit only these units (default: every unit of the file).
    #[arg(long = "unit")]
    pub units: Vec<String>,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// One line for people: `round 2023/hcm-2023-district: open, deadline …, 22 unit(s)`.
fn describe_round(round: &Round) -> String {
    let state = dti_proto::dti::submission::v1::RoundState::try_from(round.state)
        .map(|state| crate::text::state(&enum_name(state.as_str_name(), "ROUND_STATE_")))
        .unwrap_or_else(|_| round.state.to_string());
    let name = round
        .round
        .as_ref()
        .map(|r| format!("{}/{}", r.year, r.framework))
        .unwrap_or_default();
    tr!(
        "dtictl-round-line",
        name = name,
        state = state,
        deadline = when(round.deadline.as_ref()),
        units = round.unit_ids.len()
    )
}

/// Runs a `dtictl round` command.
pub fn round(command: &RoundCommand, output: Output) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let (connection, round) = match command {
            RoundCommand::Open {
                connection, round, ..
            }
            | RoundCommand::Close { connection, round }
            | RoundCommand::Show { connection, round } => (connection, round),
            RoundCommand::Progress(args) => return super::progress::progress(args, output).await,
            RoundCommand::Reopen(args) => return super::progress::reopen(args, output).await,
        };
        let bearer = connection.bearer(&operator())?;
        let mut client =
            RoundOperatorServiceClient::new(connection.channel(Service::Submission).await?);
        let response = match command {
            RoundCommand::Open {
                deadline_in_hours,
                units,
                ..
            } => {
                let deadline = chrono::Utc::now() + Duration::from_secs(deadline_in_hours * 3600);
                let request = OpenRoundRequest {
                    round: Some(round.proto()),
                    deadline: Some(dti_proto::convert::timestamp(deadline)),
                    unit_ids: units.clone(),
                };
                client.open_round(with_bearer(request, &bearer)?).await
            }
            RoundCommand::Close { .. } => {
                let request = CloseRoundRequest {
                    round: Some(round.proto()),
                };
                client.close_round(with_bearer(request, &bearer)?).await
            }
            RoundCommand::Show { .. } => {
                let request = GetRoundRequest {
                    round: Some(round.proto()),
                };
                client.get_round(with_bearer(request, &bearer)?).await
            }
            RoundCommand::Progress(_) | RoundCommand::Reopen(_) => unreachable!("answered above"),
        };
        let round = response
            .map_err(|status| refused(&tr!("dtictl-what-round"), status))?
            .into_inner();
        output.emit(&round, describe_round)
    })
}

/// A request id that is the same every time the same unit values are submitted, so running
/// `dtictl submit` twice on one file creates no second version.
fn request_id(unit: &UnitValues) -> String {
    let text = serde_json::to_string(unit).unwrap_or_default();
    let digest = Sha256::digest(text.as_bytes());
    format!("dtictl-{}", hex::encode(&digest[..12]))
}

/// Runs `dtictl submit`: every (chosen) unit of the file sends its whole self-assessment in one
/// call (`SubmitAssessment`): the draft becomes exactly the file's values and marks, submitted.
pub fn submit(catalog: &FrameworkCatalog, args: &SubmitArgs) -> Result<(), Failure> {
    let cohort = load_cohort(catalog, &args.input)?;
    let units: Vec<&UnitValues> = cohort
        .units
        .iter()
        .filter(|u| args.units.is_empty() || args.units.iter().any(|id| id == u.unit.as_str()))
        .collect();
    if units.is_empty() {
        return Err(Failure::InvalidInput(vec![tr!("dtictl-submit-no-unit")]));
    }
    let round = RoundRef {
        year: args.year,
        framework: cohort.framework.id.to_string(),
    };
    submit_units(&args.connection, &round, &units)
}

/// Submits each of `units` as that unit's submitter, in order, printing the versions.
pub(crate) fn submit_units(
    connection: &Remote,
    round: &RoundRef,
    units: &[&UnitValues],
) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let mut client =
            SubmissionServiceClient::new(connection.channel(Service::Submission).await?);
        for unit in units {
            submit_as_unit(&mut client, connection, round, unit).await?;
        }
        Ok(())
    })
}

/// Submits one unit's values as that unit's submitter and prints the version it became.
async fn submit_as_unit(
    client: &mut SubmissionServiceClient<Channel>,
    connection: &Remote,
    round: &RoundRef,
    unit: &UnitValues,
) -> Result<(), Failure> {
    let bearer = connection.bearer(&unit_submitter(unit.unit.as_str()))?;
    let submitted = submit_unit(client, round, unit, &bearer).await?;
    for warning in &submitted.warnings {
        eprintln!(
            "{}",
            crate::text::warning_line(&warning.field, &warning.description)
        );
    }
    let version = submitted.version;
    println!(
        "{}",
        tr!(
            "dtictl-submitted-version",
            unit = unit.unit.as_str(),
            version = version
        )
    );
    Ok(())
}

/// Sends one unit's whole self-assessment (`SubmitAssessment`): values, not-applicable marks
/// and general information; the answer names the version it became and the warnings.
pub(crate) async fn submit_unit(
    client: &mut SubmissionServiceClient<Channel>,
    round: &RoundRef,
    unit: &UnitValues,
    bearer: &str,
) -> Result<SubmitResponse, Failure> {
    let request = SubmitAssessmentRequest {
        round: Some(round.clone()),
        unit: Some(UnitRef {
            unit_id: unit.unit.to_string(),
        }),
        values: unit
            .values
            .iter()
            .map(|(code, values)| dti_proto::convert::indicator_to_proto(code.as_str(), values))
            .collect(),
        not_applicable: unit
            .not_applicable
            .iter()
            .map(|code| NotApplicable {
                indicator_code: code.to_string(),
                reason: "declared not applicable in the submitted file".into(),
            })
            .collect(),
        client_request_id: request_id(unit),
        general_info: dti_proto::convert::general_info_map_to_proto(&unit.general_info),
    };
    Ok(client
        .submit_assessment(with_bearer(request, bearer)?)
        .await
        .map_err(|status| refused(&tr!("dtictl-what-unit", unit = unit.unit.as_str()), status))?
        .into_inner())
}
