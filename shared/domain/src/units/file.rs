//! The registry file: parsing it, the checks every registry passes (however it was made),
//! writing it back in the same format, and the edits an operator makes to it (a unit added or
//! changed, a round's cohort set, a lineage record added), each checked like a whole file.

use super::{Lineage, RoundCohort, Unit, UnitRegistry};
use crate::ids::UnitId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The schema this build reads and writes.
const SCHEMA: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    schema: u32,
    #[serde(default)]
    units: Vec<Unit>,
    #[serde(default)]
    lineage: Vec<Lineage>,
    #[serde(default)]
    cohorts: Vec<RoundCohort>,
}

/// A registry that cannot be used: every problem, each naming its entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unit registry {file} is invalid:\n  {}", problems.join("\n  "))]
pub struct UnitRegistryError {
    /// The file (or source) that failed.
    pub file: String,
    /// Every problem found.
    pub problems: Vec<String>,
}

impl UnitRegistry {
    /// Parses and checks a registry file.
    pub fn parse(file: &str, text: &str) -> Result<Self, UnitRegistryError> {
        let raw: RawRegistry = toml::from_str(text).map_err(|e| UnitRegistryError {
            file: file.to_string(),
            problems: vec![format!(
                "not a valid registry file: {}",
                e.to_string().trim_end()
            )],
        })?;
        let mut problems = Vec::new();
        if raw.schema != SCHEMA {
            problems.push(format!(
                "schema {} is not supported (this build reads schema {SCHEMA})",
                raw.schema
            ));
        }
        Self::checked(file, raw.units, raw.lineage, raw.cohorts, problems)
    }

    /// The registry as a file [`Self::parse`] reads back to an equal registry: units in id
    /// order, then lineage and cohorts in their order. Equal registries give equal files.
    pub fn to_toml(&self) -> String {
        let raw = RawRegistry {
            schema: SCHEMA,
            units: self.units.values().cloned().collect(),
            lineage: self.lineage.clone(),
            cohorts: self.cohorts.clone(),
        };
        toml::to_string(&raw).expect("a registry always serialises")
    }

    /// This registry with `unit` added, or replacing the unit of the same id; checked again
    /// as a whole (a unit whose new years leave a cohort it is listed in is refused).
    pub fn with_unit(&self, unit: Unit) -> Result<Self, UnitRegistryError> {
        let mut units: Vec<Unit> = self.units.values().cloned().collect();
        match units.iter_mut().find(|u| u.id == unit.id) {
            Some(existing) => *existing = unit,
            None => units.push(unit),
        }
        Self::checked(
            "the edited registry",
            units,
            self.lineage.clone(),
            self.cohorts.clone(),
            Vec::new(),
        )
    }

    /// This registry with `cohort` as its round's cohort (added, or replacing the one listed
    /// for the round), checked again as a whole.
    pub fn with_cohort(&self, cohort: RoundCohort) -> Result<Self, UnitRegistryError> {
        let mut cohorts = self.cohorts.clone();
        match cohorts.iter_mut().find(|c| c.round() == cohort.round()) {
            Some(existing) => *existing = cohort,
            None => cohorts.push(cohort),
        }
        Self::checked(
            "the edited registry",
            self.units.values().cloned().collect(),
            self.lineage.clone(),
            cohorts,
            Vec::new(),
        )
    }

    /// This registry with one more lineage record, checked again as a whole.
    pub fn with_lineage(&self, link: Lineage) -> Result<Self, UnitRegistryError> {
        let mut lineage = self.lineage.clone();
        lineage.push(link);
        Self::checked(
            "the edited registry",
            self.units.values().cloned().collect(),
            lineage,
            self.cohorts.clone(),
            Vec::new(),
        )
    }

    /// Checks the parts of a registry: ids used once; lineage between known units, never of a
    /// unit to itself, never in a cycle, and continuing into a unit that exists in the year the
    /// change takes effect; each cohort defined once, of known units active in its year, each
    /// listed once. Every problem is named, after `problems` already found.
    fn checked(
        file: &str,
        raw_units: Vec<Unit>,
        lineage: Vec<Lineage>,
        cohorts: Vec<RoundCohort>,
        mut problems: Vec<String>,
    ) -> Result<Self, UnitRegistryError> {
        let mut units = BTreeMap::new();
        for unit in raw_units {
            if units.contains_key(&unit.id) {
                problems.push(format!("unit {}: id is used twice", unit.id));
            }
            if let (Some(from), Some(until)) = (unit.active_from, unit.active_until) {
                if until < from {
                    problems.push(format!(
                        "unit {}: active_until {until} is before active_from {from}",
                        unit.id
                    ));
                }
            }
            units.insert(unit.id.clone(), unit);
        }
        check_lineage(&units, &lineage, &mut problems);
        let mut rounds = BTreeSet::new();
        for cohort in &cohorts {
            if !rounds.insert(cohort.round()) {
                problems.push(format!("cohort {}: defined twice", cohort.round()));
            }
            let mut members = BTreeSet::new();
            for id in &cohort.units {
                match units.get(id) {
                    None => problems.push(format!(
                        "cohort {}: unit {id} is not defined",
                        cohort.round()
                    )),
                    Some(unit) if !unit.is_active_in(cohort.year) => problems.push(format!(
                        "cohort {}: unit {id} does not exist in {}",
                        cohort.round(),
                        cohort.year
                    )),
                    Some(_) => {}
                }
                if !members.insert(id) {
                    problems.push(format!(
                        "cohort {}: unit {id} is listed twice",
                        cohort.round()
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(UnitRegistryError {
                file: file.to_string(),
                problems,
            });
        }
        Ok(Self {
            units,
            lineage,
            cohorts,
        })
    }
}

/// The lineage checks of [`UnitRegistry::checked`].
fn check_lineage(units: &BTreeMap<UnitId, Unit>, lineage: &[Lineage], problems: &mut Vec<String>) {
    for link in lineage {
        let name = format!("lineage {} → {}", link.from, link.to);
        for id in [&link.from, &link.to] {
            if !units.contains_key(id) {
                problems.push(format!("{name}: unit {id} is not defined"));
            }
        }
        if link.from == link.to {
            problems.push(format!("{name}: a unit cannot continue itself"));
        }
        if let Some(to) = units.get(&link.to) {
            if !to.is_active_in(link.effective_year) {
                problems.push(format!(
                    "{name}: unit {} does not exist in {}, the year the change takes effect",
                    link.to, link.effective_year
                ));
            }
        }
    }
    // A cycle: following `from → to` from a unit leads back to it.
    let next = |id: &UnitId| -> Vec<&UnitId> {
        lineage
            .iter()
            .filter(|l| &l.from == id && l.from != l.to)
            .map(|l| &l.to)
            .collect()
    };
    let mut on_cycle = BTreeSet::new();
    for start in lineage.iter().map(|l| &l.from) {
        let mut seen = BTreeSet::new();
        let mut frontier = next(start);
        while let Some(current) = frontier.pop() {
            if current == start {
                on_cycle.insert(start.to_string());
                break;
            }
            if seen.insert(current) {
                frontier.extend(next(current));
            }
        }
    }
    if !on_cycle.is_empty() {
        problems.push(format!(
            "lineage: units {} form a cycle (a unit would continue itself)",
            on_cycle.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
}
