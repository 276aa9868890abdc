//! The unit registry: every department, district (and Thủ Đức City), agency and the city
//! itself, with stable ids; the cohort of each round (year + framework); and lineage, so a
//! unit merged into or renamed to another in a later year can be followed across years.
//!
//! The registry is data in the format of `shared/domain/units/hcm.toml` ([`file`]: parsing,
//! the checks every registry passes, writing it back and an operator's edits). The services
//! read it from PostgreSQL, where operators keep it (`docs/registry.md`); the file compiled in
//! here is only the seed of a first start and the registry of the offline tools.
//!
//! It also answers whether a unit may be assessed in a round ([`UnitRegistry::member`]): the
//! unit is known, is of the kind the round's framework assesses, and exists in the round's
//! year. Operators' cohorts and the registry's own are checked with it. A round of a year the
//! registry lists no cohort for takes every such unit ([`UnitRegistry::cohort_or_active`]).

use crate::framework::{FrameworkCatalog, UnitKind};
use crate::ids::{FrameworkId, RoundRef, UnitId};
use dti_i18n::Message;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

mod file;
pub use file::UnitRegistryError;

/// The built-in registry file.
pub const BUILTIN_FILE: (&str, &str) = ("hcm.toml", include_str!("../units/hcm.toml"));

/// What kind of body a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    /// A Sở/Ban/Ngành of the city, assessed with Phụ lục I.
    Department,
    /// A district or Thủ Đức City, assessed with Phụ lục II.
    District,
    /// A central-agency branch that supplies data but is not assessed.
    Agency,
    /// The city as a province of the national index.
    Province,
}

impl UnitType {
    /// The kind with its article, as messages name it ("a department").
    pub fn described(self) -> &'static str {
        match self {
            UnitType::Department => "a department",
            UnitType::District => "a district",
            UnitType::Agency => "a central-agency branch",
            UnitType::Province => "a province",
        }
    }

    /// Whether units of this type are the ones a framework for `kind` assesses.
    pub fn is(self, kind: UnitKind) -> bool {
        matches!(
            (self, kind),
            (UnitType::Department, UnitKind::Department)
                | (UnitType::District, UnitKind::District)
                | (UnitType::Province, UnitKind::Province)
        )
    }
}

/// The units a framework assesses, as messages name them ("districts").
fn assessed(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Department => "departments",
        UnitKind::District => "districts",
        UnitKind::Province => "provinces",
    }
}

/// A unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    /// Stable id.
    pub id: UnitId,
    /// Vietnamese name.
    pub name: String,
    /// What kind of body it is.
    pub kind: UnitType,
    /// First year it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_from: Option<u16>,
    /// Last year it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<u16>,
}

impl Unit {
    /// Whether the unit exists in a year.
    pub fn is_active_in(&self, year: u16) -> bool {
        self.active_from.is_none_or(|from| year >= from)
            && self.active_until.is_none_or(|until| year <= until)
    }
}

/// Why a unit cannot be assessed in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAMember {
    /// The registry does not know the id.
    Unknown(UnitId),
    /// The unit is of another kind than the round's framework assesses.
    OtherKind {
        /// The unit.
        unit: UnitId,
        /// What it is.
        kind: UnitType,
        /// What the round assesses.
        assessed: UnitKind,
    },
    /// The unit does not exist in the round's year.
    NotActive {
        /// The unit.
        unit: UnitId,
        /// The round's year.
        year: u16,
        /// First year it exists.
        active_from: Option<u16>,
        /// Last year it exists.
        active_until: Option<u16>,
    },
}

impl NotAMember {
    /// Why the unit cannot be in the round's cohort, from the catalogues: in the language it is
    /// shown in (`Display` is English, for logs).
    pub fn message(&self) -> Message {
        match self {
            NotAMember::Unknown(unit) => {
                Message::new("round-unit-unknown").arg("unit", unit.to_string())
            }
            NotAMember::OtherKind {
                unit,
                kind,
                assessed,
            } => Message::new("round-unit-other-kind")
                .arg("unit", unit.to_string())
                .arg("kind", Message::new(unit_type_key(*kind)))
                .arg("assessed", Message::new(assessed_key(*assessed))),
            NotAMember::NotActive {
                unit,
                year,
                active_from,
                active_until,
            } => {
                let message = match (active_from, active_until) {
                    (Some(from), Some(until)) => Message::new("round-unit-active-between")
                        .arg("from", from.to_string())
                        .arg("until", until.to_string()),
                    (Some(from), None) => {
                        Message::new("round-unit-active-from").arg("from", from.to_string())
                    }
                    (None, Some(until)) => {
                        Message::new("round-unit-active-until").arg("until", until.to_string())
                    }
                    (None, None) => Message::new("round-unit-not-active"),
                };
                message
                    .arg("unit", unit.to_string())
                    .arg("year", year.to_string())
            }
        }
    }
}

/// What a unit is, as the cohort refusals name it ("a department").
fn unit_type_key(kind: UnitType) -> &'static str {
    match kind {
        UnitType::Department => "round-unit-is-department",
        UnitType::District => "round-unit-is-district",
        UnitType::Agency => "round-unit-is-agency",
        UnitType::Province => "round-unit-is-province",
    }
}

/// The units a round's framework assesses, as the cohort refusals name them ("districts").
fn assessed_key(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Department => "round-for-departments",
        UnitKind::District => "round-for-districts",
        UnitKind::Province => "round-for-provinces",
    }
}

impl fmt::Display for NotAMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAMember::Unknown(unit) => {
                write!(f, "unknown unit {unit}: it is not in the unit registry")
            }
            NotAMember::OtherKind {
                unit,
                kind,
                assessed: round,
            } => write!(
                f,
                "unit {unit} is {}, the round is for {}",
                kind.described(),
                assessed(*round)
            ),
            NotAMember::NotActive {
                unit,
                year,
                active_from,
                active_until,
            } => {
                write!(f, "unit {unit} is not active in {year}")?;
                match (active_from, active_until) {
                    (Some(from), Some(until)) => {
                        write!(f, " (active from {from} until {until})")
                    }
                    (Some(from), None) => write!(f, " (active from {from})"),
                    (None, Some(until)) => write!(f, " (active until {until})"),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for NotAMember {}

/// How a unit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageChange {
    /// Merged into another unit.
    Merged,
    /// Renamed (a new id continues it).
    Renamed,
    /// Split; one of its successors.
    Split,
}

/// One lineage record: `from` continues as `to` from `effective_year`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    /// The earlier unit.
    pub from: UnitId,
    /// The later unit.
    pub to: UnitId,
    /// First year of the later unit's continuation.
    pub effective_year: u16,
    /// What happened.
    pub change: LineageChange,
    /// Context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The units assessed together in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundCohort {
    /// Assessment year.
    pub year: u16,
    /// Framework of the round.
    pub framework: FrameworkId,
    /// Member units.
    pub units: Vec<UnitId>,
}

impl RoundCohort {
    /// The round this cohort belongs to.
    pub fn round(&self) -> RoundRef {
        RoundRef {
            year: self.year,
            framework: self.framework.clone(),
        }
    }
}

/// All known units, lineage and cohorts.
#[derive(Debug, Clone, Default)]
pub struct UnitRegistry {
    units: BTreeMap<UnitId, Unit>,
    lineage: Vec<Lineage>,
    cohorts: Vec<RoundCohort>,
}

impl UnitRegistry {
    /// The built-in registry.
    pub fn builtin() -> Result<Self, UnitRegistryError> {
        Self::parse(BUILTIN_FILE.0, BUILTIN_FILE.1)
    }

    /// Checks that every cohort's framework exists and assesses the members' kind of unit,
    /// and that every owner named by a framework is a known unit.
    pub fn check_against(&self, catalog: &FrameworkCatalog) -> Vec<String> {
        let mut problems = Vec::new();
        for cohort in &self.cohorts {
            let Some(framework) = catalog.get(&cohort.framework) else {
                problems.push(format!("cohort {}: framework is not known", cohort.round()));
                continue;
            };
            for id in &cohort.units {
                if let Err(refusal) = self.member(id, framework.unit_kind, cohort.year) {
                    problems.push(format!("cohort {}: {refusal}", cohort.round()));
                }
            }
        }
        for framework in catalog.iter() {
            let owners = framework
                .indicators
                .iter()
                .flat_map(|i| i.owners.iter().map(move |o| (i.code.to_string(), o)))
                .chain(framework.general_info.iter().flat_map(|f| {
                    f.owners
                        .iter()
                        .map(move |o| (format!("general information {}", f.code), o))
                }));
            for (code, owner) in owners {
                if !self.units.contains_key(owner) {
                    problems.push(format!(
                        "framework {} {code}: owner {owner} is not a known unit",
                        framework.id
                    ));
                }
            }
        }
        problems
    }

    /// The unit with this id.
    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.get(id)
    }

    /// The unit `id` as a member of a round in `year` whose framework assesses `kind` units,
    /// or why it cannot be one: it is unknown, of another kind, or not active in `year`.
    pub fn member(&self, id: &UnitId, kind: UnitKind, year: u16) -> Result<&Unit, NotAMember> {
        let unit = self
            .units
            .get(id)
            .ok_or_else(|| NotAMember::Unknown(id.clone()))?;
        if !unit.kind.is(kind) {
            return Err(NotAMember::OtherKind {
                unit: id.clone(),
                kind: unit.kind,
                assessed: kind,
            });
        }
        if !unit.is_active_in(year) {
            return Err(NotAMember::NotActive {
                unit: id.clone(),
                year,
                active_from: unit.active_from,
                active_until: unit.active_until,
            });
        }
        Ok(unit)
    }

    /// All units by id.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// The cohort the registry lists for a round, if it lists one.
    pub fn cohort(&self, round: &RoundRef) -> Option<&RoundCohort> {
        self.cohorts.iter().find(|c| &c.round() == round)
    }

    /// The cohort a round is opened with when the operator names no units: the one the
    /// registry lists for it, or else every unit that a framework assessing `kind` units may
    /// assess in the round's year ([`Self::member`]), in id order. A year therefore needs a
    /// cohort of its own only where it differs from "every active unit of the kind"; the
    /// answer is empty when no unit qualifies.
    pub fn cohort_or_active(&self, round: &RoundRef, kind: UnitKind) -> Cow<'_, RoundCohort> {
        match self.cohort(round) {
            Some(listed) => Cow::Borrowed(listed),
            None => Cow::Owned(RoundCohort {
                year: round.year,
                framework: round.framework.clone(),
                units: self
                    .units
                    .values()
                    .filter(|unit| unit.kind.is(kind) && unit.is_active_in(round.year))
                    .map(|unit| unit.id.clone())
                    .collect(),
            }),
        }
    }

    /// The frameworks of `catalog` whose round in `year` would hold `unit`: the ones whose
    /// listed cohort of that year names it, or — where the registry lists no cohort of that
    /// year for a framework — the ones that assess its kind while it is active.
    pub fn frameworks_assessing<'c>(
        &self,
        catalog: &'c FrameworkCatalog,
        unit: &UnitId,
        year: u16,
    ) -> Vec<&'c FrameworkId> {
        catalog
            .iter()
            .filter(|framework| {
                let round = RoundRef {
                    year,
                    framework: framework.id.clone(),
                };
                match self.cohort(&round) {
                    Some(listed) => listed.units.contains(unit),
                    None => self.member(unit, framework.unit_kind, year).is_ok(),
                }
            })
            .map(|framework| &framework.id)
            .collect()
    }

    /// All cohorts.
    pub fn cohorts(&self) -> &[RoundCohort] {
        &self.cohorts
    }

    /// Lineage records.
    pub fn lineage(&self) -> &[Lineage] {
        &self.lineage
    }

    /// The unit that continues `id` in `year`, following merges and renames; `id` itself when
    /// nothing changed. Used to compare a unit with its predecessor's earlier ranking.
    pub fn successor_in(&self, id: &UnitId, year: u16) -> UnitId {
        let mut current = id.clone();
        for _ in 0..self.lineage.len() {
            let next = self.lineage.iter().find(|l| {
                l.from == current && l.effective_year <= year && l.change != LineageChange::Split
            });
            match next {
                Some(link) => current = link.to.clone(),
                None => break,
            }
        }
        current
    }

    /// The units that `id` continues (its predecessors merged or renamed into it).
    pub fn predecessors(&self, id: &UnitId) -> Vec<&UnitId> {
        self.lineage
            .iter()
            .filter(|l| &l.to == id)
            .map(|l| &l.from)
            .collect()
    }
}
