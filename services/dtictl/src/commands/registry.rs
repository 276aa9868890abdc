//! `dtictl registry`: the unit registry the services use (the submission service's
//! `RegistryService`). `export` prints or writes the file in force; `import` puts a file in
//! force as the next revision; `unit`, `cohort` and `lineage` are an operator's edits: each
//! reads the revision in force, makes the change, checks the whole registry here (a refusal
//! exits 2 naming the entry) and imports it as the next revision only if no other was stored
//! meanwhile. An edited registry is written in the file's canonical form (comments are not
//! kept; an operator who keeps a commented file edits it and imports it).

use std::path::PathBuf;

use dti_domain::units::{Lineage, LineageChange, RoundCohort, Unit, UnitType};
use dti_domain::{FrameworkId, UnitId, UnitRegistry};
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{
    ExportRegistryRequest, ImportRegistryRequest, ImportRegistryResponse, RegistryDocument,
};

use super::read_input;
use crate::remote::{call, operator, with_bearer, Output, Remote, Service};
use crate::{runtime, tr, Failure};

/// `dtictl registry …`.
#[derive(Debug, clap::Subcommand)]
pub enum RegistryCommand {
    /// Print the unit registry in force (its TOML file), or write it to a file.
    Export {
        /// Write the file here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Put a registry file in force as the next revision (as an operator).
    Import {
        /// The registry file (TOML; `-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Refuse if the registry is no longer at this revision (the one the file was edited from).
        #[arg(long)]
        expected_revision: Option<i64>,
        /// Why the registry changes (kept with the revision).
        #[arg(long, default_value = "")]
        reason: String,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Add a unit, or change the one with this id (as an operator).
    Unit(UnitArgs),
    /// Set the cohort of a year's round of a framework (as an operator).
    Cohort(CohortArgs),
    /// Record that a unit continues as another from a year: merged, renamed or split (as an operator).
    Lineage(LineageArgs),
}

/// What `dtictl registry unit` sets.
#[derive(Debug, clap::Args)]
pub struct UnitArgs {
    /// Stable id of the unit (lower case, digits and hyphens), e.g. phuong-sai-gon.
    #[arg(long = "id")]
    pub unit_id: String,
    /// Vietnamese name.
    #[arg(long)]
    pub name: String,
    /// What kind of body it is: department, district, agency or province.
    #[arg(long)]
    pub kind: String,
    /// First year it exists.
    #[arg(long)]
    pub active_from: Option<u16>,
    /// Last year it exists.
    #[arg(long)]
    pub active_until: Option<u16>,
    /// Why the registry changes (kept with the revision).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// What `dtictl registry cohort` sets.
#[derive(Debug, clap::Args)]
pub struct CohortArgs {
    /// Assessment year
    #[arg(long)]
    pub year: u16,
    /// Framework id, e.g. hcm-2023-district
    #[arg(long)]
    pub framework: String,
    /// Units of the cohort (repeat --unit for each).
    #[arg(long = "unit", required = true)]
    pub units: Vec<String>,
    /// Why the registry changes (kept with the revision).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// What `dtictl registry lineage` records.
#[derive(Debug, clap::Args)]
pub struct LineageArgs {
    /// The earlier unit.
    #[arg(long)]
    pub from: String,
    /// The unit that continues it.
    #[arg(long)]
    pub to: String,
    /// First year of the continuation.
    #[arg(long)]
    pub effective_year: u16,
    /// What happened: merged, renamed or split.
    #[arg(long)]
    pub change: String,
    /// Context, e.g. the decision that made the change.
    #[arg(long)]
    pub note: Option<String>,
    /// Why the registry changes (kept with the revision).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// Runs `dtictl registry …`.
pub fn run(command: &RegistryCommand, output: Output) -> Result<(), Failure> {
    match command {
        RegistryCommand::Export {
            output: file,
            connection,
        } => {
            let document = runtime()?.block_on(export(connection))?;
            match file {
                Some(path) => std::fs::write(path, &document.document_toml).map_err(|error| {
                    Failure::Unexpected(anyhow::anyhow!("writing {}: {error}", path.display()))
                }),
                None if output.json => output.emit(&document, |_| String::new()),
                None => {
                    print!("{}", document.document_toml);
                    Ok(())
                }
            }
        }
        RegistryCommand::Import {
            input,
            expected_revision,
            reason,
            connection,
        } => {
            let text = read_input(input)?;
            // Checked here first, so a broken file is named before anything is sent.
            UnitRegistry::parse(&input.display().to_string(), &text).map_err(invalid)?;
            let imported =
                runtime()?.block_on(import(connection, text, *expected_revision, reason))?;
            output.emit(&imported, describe)
        }
        RegistryCommand::Unit(args) => {
            let unit = Unit {
                id: unit_id(&args.unit_id, "--id")?,
                name: args.name.clone(),
                kind: unit_type(&args.kind)?,
                active_from: args.active_from,
                active_until: args.active_until,
            };
            edit(&args.connection, &args.reason, output, |r| {
                r.with_unit(unit)
            })
        }
        RegistryCommand::Cohort(args) => {
            let framework = FrameworkId::parse(args.framework.clone())
                .map_err(|error| Failure::InvalidInput(vec![format!("--framework: {error}")]))?;
            let units = args
                .units
                .iter()
                .map(|unit| unit_id(unit, "--unit"))
                .collect::<Result<Vec<_>, _>>()?;
            let cohort = RoundCohort {
                year: args.year,
                framework,
                units,
            };
            edit(&args.connection, &args.reason, output, |r| {
                r.with_cohort(cohort)
            })
        }
        RegistryCommand::Lineage(args) => {
            let link = Lineage {
                from: unit_id(&args.from, "--from")?,
                to: unit_id(&args.to, "--to")?,
                effective_year: args.effective_year,
                change: lineage_change(&args.change)?,
                note: args.note.clone(),
            };
            edit(&args.connection, &args.reason, output, |r| {
                r.with_lineage(link)
            })
        }
    }
}

/// Reads the revision in force, applies `change`, and imports the result if no other revision
/// was stored meanwhile.
fn edit(
    connection: &Remote,
    reason: &str,
    output: Output,
    change: impl FnOnce(&UnitRegistry) -> Result<UnitRegistry, dti_domain::UnitRegistryError>,
) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let in_force = export(connection).await?;
        let registry = UnitRegistry::parse(
            &format!("revision {}", in_force.revision),
            &in_force.document_toml,
        )
        .map_err(invalid)?;
        let edited = change(&registry).map_err(invalid)?;
        let imported = import(
            connection,
            edited.to_toml(),
            Some(in_force.revision),
            reason,
        )
        .await?;
        output.emit(&imported, describe)
    })
}

async fn export(connection: &Remote) -> Result<RegistryDocument, Failure> {
    let bearer = connection.bearer(&operator())?;
    let mut client = RegistryServiceClient::new(connection.channel(Service::Submission).await?);
    call(
        &tr!("dtictl-what-registry"),
        client.export_registry(with_bearer(ExportRegistryRequest {}, &bearer)?),
    )
    .await
}

async fn import(
    connection: &Remote,
    document: String,
    expected_revision: Option<i64>,
    reason: &str,
) -> Result<ImportRegistryResponse, Failure> {
    let bearer = connection.bearer(&operator())?;
    let mut client = RegistryServiceClient::new(connection.channel(Service::Submission).await?);
    let request = ImportRegistryRequest {
        document_toml: document,
        expected_revision,
        reason: reason.to_owned(),
    };
    call(
        &tr!("dtictl-what-registry"),
        client.import_registry(with_bearer(request, &bearer)?),
    )
    .await
}

/// One line for people: `unit registry revision 2: 61 unit(s), 3 lineage record(s), 4 cohort(s)`.
fn describe(imported: &ImportRegistryResponse) -> String {
    let revision = imported.revision.to_string();
    let units = imported.units.to_string();
    let lineage = imported.lineage.to_string();
    let cohorts = imported.cohorts.to_string();
    if imported.changed {
        tr!(
            "dtictl-registry-stored",
            revision = revision,
            units = units,
            lineage = lineage,
            cohorts = cohorts
        )
    } else {
        tr!(
            "dtictl-registry-unchanged",
            revision = revision,
            units = units,
            lineage = lineage,
            cohorts = cohorts
        )
    }
}

fn invalid(error: dti_domain::UnitRegistryError) -> Failure {
    Failure::InvalidInput(error.to_string().lines().map(str::to_owned).collect())
}

fn unit_id(raw: &str, flag: &str) -> Result<UnitId, Failure> {
    UnitId::parse(raw.to_owned())
        .map_err(|error| Failure::InvalidInput(vec![format!("{flag} {raw}: {error}")]))
}

fn unit_type(raw: &str) -> Result<UnitType, Failure> {
    match raw {
        "department" => Ok(UnitType::Department),
        "district" => Ok(UnitType::District),
        "agency" => Ok(UnitType::Agency),
        "province" => Ok(UnitType::Province),
        other => Err(Failure::InvalidInput(vec![tr!(
            "dtictl-registry-bad-choice",
            flag = "--kind",
            value = other,
            choices = "department, district, agency, province"
        )])),
    }
}

fn lineage_change(raw: &str) -> Result<LineageChange, Failure> {
    match raw {
        "merged" => Ok(LineageChange::Merged),
        "renamed" => Ok(LineageChange::Renamed),
        "split" => Ok(LineageChange::Split),
        other => Err(Failure::InvalidInput(vec![tr!(
            "dtictl-registry-bad-choice",
            flag = "--change",
            value = other,
            choices = "merged, renamed, split"
        )])),
    }
}
