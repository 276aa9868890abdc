//! `dtictl form template|import`: the self-assessment as an .xlsx form. The template is
//! generated from the framework by `dti-forms` (general information first, one sheet per
//! indicator group); a filled form is read back with the domain's validation and printed as
//! the contract's cohort JSON (what `dtictl submit` reads) or submitted through the submission
//! service. This module only wires the commands; the forms themselves are `dti-forms`'.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dti_domain::values::UnitValues;
use dti_domain::{FrameworkCatalog, UnitId};
use dti_forms::{import_form, write_form, FilledValues, FormSpec, ImportOptions};
use dti_proto::dti::common::v1::RoundRef;

use super::unit_common::registry;
use super::{decode_cohort_in_parallel, load_cohort};
use crate::remote::Remote;
use crate::{tr, Failure};

/// `dtictl form …`.
#[derive(Debug, clap::Subcommand)]
pub enum FormCommand {
    /// Write an empty self-assessment form (.xlsx) for a framework, a year and a unit.
    Template(TemplateArgs),
    /// Read a filled form: print the cohort JSON, or submit it with --submit. Every problem
    /// names the sheet, the cell, the indicator and the variable (exit 2, nothing submitted).
    Import(ImportArgs),
}

/// What `dtictl form template` writes.
#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    /// Framework id, e.g. hcm-2023-district.
    #[arg(long)]
    pub framework: String,
    /// The unit the form is for (its id is then filled in); otherwise the unit writes it.
    #[arg(long)]
    pub unit: Option<String>,
    /// Assessment year of the round (default: the framework's year).
    #[arg(long)]
    pub year: Option<u16>,
    /// The .xlsx file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Fill the form with the unit's values from this cohort file (e.g. last round's, or a
    /// form made for a unit from what it submitted); needs --unit.
    #[arg(long, requires = "unit")]
    pub fill: Option<PathBuf>,
}

/// What `dtictl form import` reads.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The filled .xlsx form.
    pub file: PathBuf,
    /// Refuse a form that is not for this framework.
    #[arg(long)]
    pub framework: Option<String>,
    /// Refuse a form that is not for this year.
    #[arg(long)]
    pub year: Option<u16>,
    /// Submit the values (as the form's unit) instead of printing them.
    #[arg(long)]
    pub submit: bool,
    /// How to reach the services (with --submit).
    #[command(flatten)]
    pub connection: Remote,
}

/// Runs a `dtictl form` command.
pub fn run(catalog: &FrameworkCatalog, command: &FormCommand) -> Result<(), Failure> {
    match command {
        FormCommand::Template(args) => template(catalog, args),
        FormCommand::Import(args) => import(catalog, args),
    }
}

fn template(catalog: &FrameworkCatalog, args: &TemplateArgs) -> Result<(), Failure> {
    let framework = super::unit_common::framework_named(catalog, &args.framework)?;
    let year = args.year.unwrap_or(framework.year);
    let unit = match &args.unit {
        None => None,
        Some(id) => {
            let registry = registry()?;
            let id = UnitId::parse(id.as_str())
                .map_err(|e| Failure::InvalidInput(vec![format!("--unit: {e}")]))?;
            let unit = registry
                .member(&id, framework.unit_kind, year)
                .map_err(|e| Failure::InvalidInput(vec![format!("--unit: {e}")]))?;
            Some((id, unit.name.clone()))
        }
    };
    let spec = FormSpec {
        framework,
        year,
        unit,
        lang: crate::text::lang(),
    };
    let filled = match &args.fill {
        None => None,
        Some(path) => {
            let cohort = load_cohort(catalog, path)?;
            if cohort.framework.id != framework.id {
                return Err(Failure::InvalidInput(vec![tr!(
                    "dtictl-form-fill-other-framework",
                    file = cohort.framework.id.to_string(),
                    form = framework.id.to_string()
                )]));
            }
            let wanted = spec.unit.as_ref().map(|(id, _)| id);
            let values = cohort
                .units
                .into_iter()
                .find(|unit| Some(&unit.unit) == wanted)
                .ok_or_else(|| {
                    Failure::InvalidInput(vec![tr!(
                        "dtictl-form-fill-no-unit",
                        unit = args.unit.as_deref().unwrap_or_default()
                    )])
                })?;
            Some(FilledValues {
                values,
                evidence: BTreeMap::new(),
            })
        }
    };
    let bytes = write_form(&spec, filled.as_ref()).map_err(|e| Failure::Unexpected(e.into()))?;
    std::fs::write(&args.output, bytes).map_err(|e| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-cannot-write",
            path = args.output.display().to_string(),
            error = e.to_string()
        )])
    })?;
    let written = match &spec.unit {
        Some((id, _)) => tr!(
            "dtictl-form-written-unit",
            path = args.output.display().to_string(),
            framework = framework.id.to_string(),
            year = year,
            unit = id.to_string()
        ),
        None => tr!(
            "dtictl-form-written",
            path = args.output.display().to_string(),
            framework = framework.id.to_string(),
            year = year
        ),
    };
    println!("{written}");
    Ok(())
}

fn import(catalog: &FrameworkCatalog, args: &ImportArgs) -> Result<(), Failure> {
    let bytes = std::fs::read(&args.file).map_err(|e| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-cannot-read",
            path = args.file.display().to_string(),
            error = e.to_string()
        )])
    })?;
    let registry = registry()?;
    let options = ImportOptions {
        catalog,
        registry: &registry,
        framework: args.framework.as_deref(),
        year: args.year,
        lang: crate::text::lang(),
    };
    let form = import_form(&bytes, &options).map_err(|problems| {
        Failure::InvalidInput(problems.iter().map(ToString::to_string).collect())
    })?;
    for warning in &form.warnings {
        eprintln!("{}", tr!("dtictl-warning", warning = warning.to_string()));
    }
    for (indicator, reference) in &form.evidence {
        eprintln!(
            "{}",
            tr!(
                "dtictl-form-evidence",
                indicator = indicator.to_string(),
                reference = reference.to_string()
            )
        );
    }
    if !args.submit {
        return crate::print_json(&form.cohort);
    }
    let decoded = decode_cohort_in_parallel(&form.cohort.to_string(), catalog);
    let cohort = decoded.value.ok_or_else(|| {
        Failure::InvalidInput(decoded.issues.iter().map(ToString::to_string).collect())
    })?;
    let round = RoundRef {
        year: u32::from(form.meta.year),
        framework: cohort.framework.id.to_string(),
    };
    let units: Vec<&UnitValues> = cohort.units.iter().collect();
    super::client::submit_units(&args.connection, &round, &units)
}
