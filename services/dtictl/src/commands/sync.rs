//! `dtictl sync report --year Y`: the national-sync reconciliation report, read from the
//! platform database. Per item of the national set: its owners and their parts, the local
//! value, the last value pushed to the national DTI system, and whether it was accepted or
//! rejected and why. The report itself is `dti_national_sync::report`.

use dti_national_sync::report::{report_from_database, ReportError};

use crate::commands::database::{runtime, DatabaseArgs};
use crate::commands::print_json;
use crate::Failure;

/// `dtictl sync …`.
#[derive(Debug, clap::Subcommand)]
pub enum SyncCommand {
    /// Per item: owner, local value, last pushed value, accepted or rejected and why.
    Report(ReportArgs),
}

/// Output of `dtictl sync report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One line per item for people, with each owner's part of multi-owner items.
    Table,
    /// The report as JSON.
    Json,
}

/// What `dtictl sync report` reads.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Year of the national index, e.g. 2024.
    #[arg(long)]
    pub year: u32,
    /// Framework id of the national set.
    #[arg(long, default_value = "mic-2022-province")]
    pub framework: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// How to reach the database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs `dtictl sync …`.
pub fn run(command: &SyncCommand) -> Result<(), Failure> {
    let SyncCommand::Report(args) = command;
    let report = runtime()?
        .block_on(report_from_database(
            &args.database.database_url,
            args.year,
            &args.framework,
        ))
        .map_err(|error| match error {
            ReportError::InvalidInput(message) => Failure::InvalidInput(vec![message]),
            ReportError::Unexpected(message) => Failure::Unexpected(anyhow::anyhow!(message)),
        })?;
    match args.format {
        ReportFormat::Table => {
            print!("{}", report.render_table());
            Ok(())
        }
        ReportFormat::Json => print_json(&report.to_json()),
    }
}
