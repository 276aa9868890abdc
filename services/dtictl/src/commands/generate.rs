//! `dtictl generate`: a deterministic sample cohort for demos and benchmarks, built from the
//! framework's own data (and, with `--registry-cohort`, the real units of a round).

use crate::print_json;
use crate::{tr, Failure};
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::units::UnitRegistry;
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef};

/// What to generate.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Framework id, e.g. hcm-2023-district.
    #[arg(long)]
    pub framework: String,
    /// Number of units (ignored with --registry-cohort).
    #[arg(long, default_value_t = 22)]
    pub units: usize,
    /// Seed; the same seed gives the same cohort.
    #[arg(long, default_value_t = 2023)]
    pub seed: u64,
    /// Use the registry's cohort of this year for the framework, or every unit of its kind active that year (real unit ids).
    #[arg(long)]
    pub registry_cohort: Option<u16>,
    /// Percent of indicators left without values.
    #[arg(long, default_value_t = 4)]
    pub missing_percent: u64,
    /// Percent of indicators declared not applicable.
    #[arg(long, default_value_t = 3)]
    pub not_applicable_percent: u64,
}

/// Prints a generated cohort document.
pub fn run(catalog: &FrameworkCatalog, args: &GenerateArgs) -> Result<(), Failure> {
    let framework = super::unit_common::framework_named(catalog, &args.framework)?;
    if !framework.scored {
        return Err(Failure::InvalidInput(vec![tr!(
            "dtictl-generate-unscored",
            framework = framework.id.to_string()
        )]));
    }
    let mut options = SampleOptions {
        units: args.units,
        seed: args.seed,
        missing_percent: args.missing_percent.min(100),
        not_applicable_percent: args.not_applicable_percent.min(100),
        ..SampleOptions::default()
    };
    if let Some(year) = args.registry_cohort {
        let registry = UnitRegistry::builtin().map_err(|e| Failure::Unexpected(e.into()))?;
        let round = RoundRef {
            year,
            framework: FrameworkId::clone(&framework.id),
        };
        let cohort = registry.cohort_or_active(&round, framework.unit_kind);
        if cohort.units.is_empty() {
            return Err(Failure::InvalidInput(vec![tr!(
                "dtictl-generate-no-cohort",
                round = round.to_string()
            )]));
        }
        options.unit_ids = cohort.units.iter().map(ToString::to_string).collect();
        options.units = options.unit_ids.len();
    }
    print_json(&sample_cohort(framework, &options))
}
