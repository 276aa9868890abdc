//! `dtictl export ranking|scorecard|side-by-side|publication|national-form`: the services' answers
//! as .xlsx reports for the city's report, with headings in the chosen language (Vietnamese by
//! default), one sheet per group where it applies and scores as numbers with two decimals. The
//! answers are read with the same calls as `dtictl ranking show`, `dtictl scorecard`, `dtictl
//! verify show`, `dtictl publication show`, `dtictl owner completeness` and `dtictl sync plan`;
//! `dti-forms` writes the workbook.
//!
//! This module holds the command line and the header lines and group sheets every report
//! shares; `scores` writes the ranking and scorecard reports, `verification` the side-by-side
//! and publication reports, `national` the national form.

mod national;
mod scores;
mod verification;

use std::path::PathBuf;

use dti_domain::framework::Framework;
use dti_domain::FrameworkCatalog;
use dti_forms::export::{write_report, ReportCell, ReportSheet};
use dti_i18n::{Arg, Catalog};
use dti_proto::dti::scoring::v1::Basis;

use super::client::RoundArgs;
use super::results::{RankingShowArgs, ScorecardArgs};
use crate::remote::Remote;
use crate::{tr, Failure};
use national::national_form_report;
use scores::{ranking_report, scorecard_report};
use verification::{publication_report, side_by_side_report};

/// `dtictl export …`.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// A round's ranking (by total, or by one group with --group).
    Ranking {
        /// The ranking to read.
        #[command(flatten)]
        ranking: RankingShowArgs,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// A unit's self-assessed and verified values and scores side by side, one sheet per
    /// group, with the verifiers' decisions (as a verifier).
    SideBySide {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// The unit, e.g. quan-1.
        #[arg(long)]
        unit: String,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// A published revision: its ranks, then one sheet per group with each unit's group and
    /// indicator scores (from the revision's frozen snapshot).
    Publication {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// The revision (default: the latest).
        #[arg(long, default_value_t = 0)]
        revision: u32,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// The Appendix III national form of a year: each item's national value, its owners and
    /// where it stands (general information first, then one sheet per group).
    NationalForm {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// A unit's scorecard: a summary of the groups, then one sheet per group with each
    /// indicator's score and explanation.
    Scorecard {
        /// The scorecard to read.
        #[command(flatten)]
        scorecard: ScorecardArgs,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
}

/// The report's file (its language is the global `--lang`).
#[derive(Debug, clap::Args)]
pub struct ExportFile {
    /// The .xlsx file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

/// Runs a `dtictl export` command.
pub fn run(catalog: &FrameworkCatalog, command: &ExportCommand) -> Result<(), Failure> {
    let (report, file) = match command {
        ExportCommand::Ranking { ranking, file } => {
            (ranking_report(catalog, ranking, crate::text::lang())?, file)
        }
        ExportCommand::SideBySide {
            round,
            unit,
            connection,
            file,
        } => (
            side_by_side_report(catalog, round, unit, connection, crate::text::lang())?,
            file,
        ),
        ExportCommand::Publication {
            round,
            revision,
            connection,
            file,
        } => (
            publication_report(catalog, round, *revision, connection, crate::text::lang())?,
            file,
        ),
        ExportCommand::NationalForm {
            year,
            connection,
            file,
        } => (
            national_form_report(catalog, *year, connection, crate::text::lang())?,
            file,
        ),
        ExportCommand::Scorecard { scorecard, file } => (
            scorecard_report(catalog, scorecard, crate::text::lang())?,
            file,
        ),
    };
    let bytes = write_report(&report).map_err(|e| Failure::Unexpected(e.into()))?;
    std::fs::write(&file.output, bytes).map_err(|e| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-cannot-write",
            path = file.output.display().to_string(),
            error = e.to_string()
        )])
    })?;
    println!(
        "{}",
        tr!(
            "dtictl-export-written",
            path = file.output.display().to_string(),
            sheets = report.sheets.len()
        )
    );
    Ok(())
}

/// The lines above every report's table: title, framework, basis.
/// One group's sheet: the report's header lines plus the group's own, and its table.
pub(super) fn group_sheet(
    text: &Catalog,
    header: &[String],
    group: &dti_domain::framework::Group,
    columns: Vec<(String, f64)>,
    rows: Vec<Vec<ReportCell>>,
) -> ReportSheet {
    let name = text.format("export-group", &[("code", Arg::from(group.code.as_str()))]);
    let mut header = header.to_vec();
    header.push(format!("{name}: {}", group.name));
    ReportSheet {
        name,
        header,
        columns,
        rows,
    }
}

pub(super) fn header(
    catalog: &Catalog,
    title: String,
    framework: &Framework,
    basis: i32,
) -> Vec<String> {
    let basis = if basis == Basis::Verified as i32 {
        catalog.text("export-basis-verified")
    } else {
        catalog.text("export-basis-self")
    };
    vec![
        title,
        catalog.format(
            "form-framework",
            &[
                ("title", Arg::from(&framework.title)),
                ("source", Arg::from(framework.id.as_str())),
            ],
        ),
        catalog.format("export-basis", &[("basis", Arg::from(basis))]),
    ]
}
