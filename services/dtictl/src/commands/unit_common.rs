//! What the unit commands (`draft`, `scorecard`, `what-if`, `position`, `evidence`) share:
//! which unit and round a command is about ([`UnitRound`], checked into a [`Target`]), the
//! Vietnamese names of units, groups and indicators ([`Names`]), how values are shown, and a
//! progress bar on stderr ([`progress`]).

use std::sync::Arc;

use dti_domain::framework::{Framework, Indicator};
use dti_domain::{FrameworkCatalog, UnitId, UnitRegistry};
use dti_proto::dti::common::v1::{IndicatorValue, RoundRef, UnitRef};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{tr, Failure};

/// Which unit, in which round.
#[derive(Debug, Clone, clap::Args)]
pub struct UnitRound {
    /// Unit id, e.g. quan-1.
    #[arg(long)]
    pub unit: String,
    /// Assessment year.
    #[arg(long)]
    pub year: u32,
    /// Framework id, e.g. hcm-2023-district; by default the framework of the unit registry's
    /// round of that year that assesses the unit.
    #[arg(long)]
    pub framework: Option<String>,
}

/// A [`UnitRound`] checked against the catalog and the unit registry.
#[derive(Debug, Clone)]
pub struct Target {
    /// The round, as the services name it.
    pub round: RoundRef,
    /// The unit.
    pub unit: UnitId,
    /// Names of units, groups and indicators of the round's framework.
    pub names: Names,
}

impl Target {
    /// The unit as the services name it.
    pub fn unit_ref(&self) -> UnitRef {
        UnitRef {
            unit_id: self.unit.to_string(),
        }
    }

    /// The round's framework.
    pub fn framework(&self) -> &Framework {
        &self.names.framework
    }

    /// `quan-1 (Quận 1), round 2023/hcm-2023-district`.
    pub fn describe(&self) -> String {
        tr!(
            "dtictl-unit-round",
            unit = self.names.unit_label(self.unit.as_str()),
            round = format!("{}/{}", self.round.year, self.round.framework)
        )
    }
}

impl UnitRound {
    /// Checks the unit id and finds the round's framework; every problem at once (exit 2).
    pub fn resolve(&self, catalog: &FrameworkCatalog) -> Result<Target, Failure> {
        let registry = registry()?;
        let mut problems = Vec::new();
        let unit = UnitId::parse(self.unit.as_str())
            .map_err(|error| problems.push(format!("--unit: {error}")))
            .ok();
        let framework = match (&self.framework, &unit) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(unit)) => {
                let found = u16::try_from(self.year)
                    .map(|year| registry.frameworks_assessing(catalog, unit, year))
                    .unwrap_or_default();
                if let [framework] = found.as_slice() {
                    Some(framework.to_string())
                } else {
                    problems.push(tr!(
                        "dtictl-no-round-for-unit",
                        year = self.year,
                        unit = unit.to_string()
                    ));
                    None
                }
            }
            (None, None) => None,
        };
        let framework = framework.and_then(|id| {
            known_framework(catalog, &id)
                .map_err(|problem| problems.push(problem))
                .ok()
        });
        match (unit, framework) {
            (Some(unit), Some(framework)) if problems.is_empty() => Ok(Target {
                round: RoundRef {
                    year: self.year,
                    framework: framework.id.to_string(),
                },
                unit,
                names: Names {
                    registry: Arc::new(registry),
                    framework,
                },
            }),
            _ => Err(Failure::InvalidInput(problems)),
        }
    }
}

/// The catalog's framework `id`, or a line naming `--framework` and the known ids.
pub fn known_framework(catalog: &FrameworkCatalog, id: &str) -> Result<Arc<Framework>, String> {
    catalog
        .get_str(id)
        .cloned()
        .ok_or_else(|| unknown_framework(catalog, id))
}

/// The catalog's framework `id` given as `--framework`; an unknown one is invalid input.
pub fn framework_named<'a>(
    catalog: &'a FrameworkCatalog,
    id: &str,
) -> Result<&'a Arc<Framework>, Failure> {
    catalog
        .get_str(id)
        .ok_or_else(|| Failure::InvalidInput(vec![unknown_framework(catalog, id)]))
}

/// The line naming `--framework`'s unknown `id` and the known ids.
fn unknown_framework(catalog: &FrameworkCatalog, id: &str) -> String {
    tr!(
        "dtictl-unknown-framework",
        framework = id,
        known = catalog.ids().join(", ")
    )
}

/// The unit registry in force ([`crate::registry_in_force`]).
pub fn registry() -> Result<UnitRegistry, Failure> {
    Ok(crate::registry_in_force::unit_registry().clone())
}

/// Characters of an indicator's name shown in a table column (the full names are long).
pub const NAME_WIDTH: usize = 60;

/// The Vietnamese names of a round's units, groups and indicators.
#[derive(Debug, Clone)]
pub struct Names {
    /// The unit registry.
    pub registry: Arc<UnitRegistry>,
    /// The round's framework.
    pub framework: Arc<Framework>,
}

impl Names {
    /// Names from the registry in force for `framework`.
    pub fn of(framework: Arc<Framework>) -> Result<Self, Failure> {
        Ok(Self {
            registry: Arc::new(registry()?),
            framework,
        })
    }

    /// A unit's name (empty when the registry does not know it).
    pub fn unit(&self, id: &str) -> String {
        UnitId::parse(id)
            .ok()
            .and_then(|id| self.registry.unit(&id).map(|unit| unit.name.clone()))
            .unwrap_or_default()
    }

    /// `quan-1 (Quận 1)`, or the bare id when the name is not known.
    pub fn unit_label(&self, id: &str) -> String {
        match self.unit(id) {
            name if name.is_empty() => id.to_owned(),
            name => format!("{id} ({name})"),
        }
    }

    /// An indicator's name (empty when the framework does not have it).
    pub fn indicator(&self, code: &str) -> String {
        self.framework
            .indicator_by_str(code)
            .map(|indicator| indicator.name.clone())
            .unwrap_or_default()
    }

    /// An indicator's name cut to [`NAME_WIDTH`] characters, for a table column.
    pub fn indicator_in_table(&self, code: &str) -> String {
        let name = self.indicator(code);
        if name.chars().count() <= NAME_WIDTH {
            return name;
        }
        let mut cut: String = name.chars().take(NAME_WIDTH - 1).collect();
        cut.push('…');
        cut
    }

    /// A group's name (empty when the framework does not have it).
    pub fn group(&self, code: &str) -> String {
        self.framework
            .groups
            .iter()
            .find(|group| group.code.as_str() == code)
            .map(|group| group.name.clone())
            .unwrap_or_default()
    }
}

/// A progress bar on stderr over `len` steps (bytes when `bytes`); indicatif hides it when
/// stderr is not a terminal.
pub fn progress(len: u64, what: &str, bytes: bool) -> ProgressBar {
    let template = if bytes {
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})"
    } else {
        "{msg} [{bar:30}] {pos}/{len}"
    };
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// An indicator's variables for people, in the framework's order: `a=33, b=57`.
pub fn describe_values(framework: &Framework, value: &IndicatorValue) -> String {
    let order = framework
        .indicator_by_str(&value.indicator_code)
        .map_or_else(Vec::new, |i| {
            i.variables
                .iter()
                .map(|v| v.name.to_string())
                .collect::<Vec<_>>()
        });
    let mut names: Vec<&String> = value.variables.keys().collect();
    names.sort_by_key(|name| {
        (
            order.iter().position(|o| o == *name).unwrap_or(usize::MAX),
            (*name).clone(),
        )
    });
    names
        .into_iter()
        .map(|name| {
            let shown = dti_proto::convert::variable_to_json(&value.variables[name])
                .map_or_else(|problem| format!("({problem})"), |json| json.to_string());
            format!("{name}={shown}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The framework's scored (top-level, ruled) indicator `code`, the ones a unit reports.
pub fn scored_indicator<'f>(framework: &'f Framework, code: &str) -> Option<&'f Indicator> {
    framework
        .indicator_by_str(code)
        .filter(|indicator| indicator.parent.is_none() && indicator.rule.is_some())
}

/// An indicator's place in the framework's order.
pub fn sort_key(framework: &Framework, code: &str) -> Vec<u64> {
    framework
        .indicator_by_str(code)
        .map_or_else(|| vec![u64::MAX], |indicator| indicator.code.sort_key())
}
