//! The national set as this service routes it: every item of the framework data
//! (`mic-2022-province`: indicators and general-information fields) with its owner departments,
//! how their parts combine and what a value looks like. Built once at start from
//! `dti_domain::FrameworkCatalog` and the unit registry, and checked there, so a framework file
//! this service cannot route stops the service instead of failing later.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use dti_domain::framework::{
    Combine, Framework, GeneralInfoType, Indicator, UnitKind, VariableType,
};
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitId, UnitRegistry};
use dti_i18n::{Arg, Message};

/// Earliest and latest year the database can hold.
const YEAR_RANGE: std::ops::RangeInclusive<u32> = 2000..=2100;

/// Whether an item is an indicator or a general-information field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// An indicator (chỉ số thành phần).
    Indicator,
    /// A general-information field (THÔNG TIN CHUNG).
    GeneralInfo,
}

impl ItemKind {
    /// The kind as stored and sent: `indicator` or `general_info`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Indicator => "indicator",
            ItemKind::GeneralInfo => "general_info",
        }
    }

    /// The item of this kind with `code` as a person reads it (`indicator 6.22`, `general
    /// information population`), in the language it is shown in.
    pub fn named(self, code: impl Into<Arg>) -> Message {
        let key = match self {
            ItemKind::Indicator => "sync-item-indicator",
            ItemKind::GeneralInfo => "sync-item-general-info",
        };
        Message::new(key).arg("code", code)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ItemKind::Indicator => "indicator",
            ItemKind::GeneralInfo => "general information",
        })
    }
}

impl FromStr for ItemKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "indicator" => Ok(ItemKind::Indicator),
            "general_info" => Ok(ItemKind::GeneralInfo),
            other => Err(format!("unknown item kind {other:?}")),
        }
    }
}

/// Names one item: its kind and its code (indicator code or general-information key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    /// Indicator or general-information field.
    pub kind: ItemKind,
    /// Indicator code (`6.22`) or general-information key (`population`).
    pub code: String,
}

impl ItemKey {
    /// An indicator's key.
    pub fn indicator(code: impl Into<String>) -> Self {
        Self {
            kind: ItemKind::Indicator,
            code: code.into(),
        }
    }

    /// A general-information field's key.
    pub fn general_info(key: impl Into<String>) -> Self {
        Self {
            kind: ItemKind::GeneralInfo,
            code: key.into(),
        }
    }

    /// The item as a person reads it, in the language it is shown in (`Display` is the
    /// English one, for logs and audit subjects).
    pub fn message(&self) -> Message {
        self.kind.named(self.code.as_str())
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.code)
    }
}

/// What a value of an item looks like.
#[derive(Debug, Clone)]
pub enum ItemShape {
    /// An indicator's variables (index into `Framework::indicators`).
    Indicator(usize),
    /// A general-information field of this variable type.
    GeneralInfo(VariableType),
}

/// One routed item.
#[derive(Debug, Clone)]
pub struct NationalItem {
    /// Its key.
    pub key: ItemKey,
    /// Its name as printed.
    pub name: String,
    /// Owner departments, in framework order.
    pub owners: Vec<UnitId>,
    /// How the owners' parts combine.
    pub combine: Combine,
    /// What a value looks like.
    pub shape: ItemShape,
}

impl NationalItem {
    /// Whether `department` owns a part of the item.
    pub fn is_owned_by(&self, department: &UnitId) -> bool {
        self.owners.contains(department)
    }
}

/// The combine rule as written in framework data and payloads.
pub fn combine_name(combine: Combine) -> &'static str {
    match combine {
        Combine::Single => "single",
        Combine::Sum => "sum",
        Combine::Any => "any",
    }
}

/// Why the framework data cannot be routed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The framework catalog or unit registry failed to load.
    #[error("loading {what}: {message}")]
    Load {
        /// Catalog or registry.
        what: &'static str,
        /// The loader's message.
        message: String,
    },
    /// The configured framework is not in the catalog.
    #[error("framework {0:?} is not known")]
    UnknownFramework(String),
    /// The framework data does not fit national sync.
    #[error("framework {framework}: {problem}")]
    Unroutable {
        /// Framework id.
        framework: String,
        /// What is wrong.
        problem: String,
    },
}

/// The routed national set.
#[derive(Debug, Clone)]
pub struct NationalSet {
    framework: Arc<Framework>,
    registry: Arc<UnitRegistry>,
    items: Vec<NationalItem>,
    index: HashMap<ItemKey, usize>,
}

impl NationalSet {
    /// Routes framework `framework_id` of the built-in catalog with the seed unit registry
    /// (the configuration's check and the tests; the service uses [`Self::with_registry`]).
    pub fn builtin(framework_id: &str) -> Result<Self, SetupError> {
        let registry = UnitRegistry::builtin().map_err(|e| SetupError::Load {
            what: "the unit registry",
            message: e.to_string(),
        })?;
        Self::with_registry(framework_id, Arc::new(registry))
    }

    /// Routes framework `framework_id` of the built-in catalog with `registry` (the one in
    /// force in the database when the service starts).
    pub fn with_registry(
        framework_id: &str,
        registry: Arc<UnitRegistry>,
    ) -> Result<Self, SetupError> {
        let catalog = FrameworkCatalog::builtin().map_err(|e| SetupError::Load {
            what: "the framework catalog",
            message: e.to_string(),
        })?;
        let framework = catalog
            .get_str(framework_id)
            .cloned()
            .ok_or_else(|| SetupError::UnknownFramework(framework_id.to_owned()))?;
        Self::new(framework, registry)
    }

    /// Routes `framework`, checking that every item has owners known to `registry` and a
    /// combine rule that fits its value.
    pub fn new(framework: Arc<Framework>, registry: Arc<UnitRegistry>) -> Result<Self, SetupError> {
        let unroutable = |problem: String| SetupError::Unroutable {
            framework: framework.id.to_string(),
            problem,
        };
        if framework.unit_kind != UnitKind::Province || framework.scored {
            return Err(unroutable(
                "is not a collected provincial set (unit_kind province, scored = false)".into(),
            ));
        }
        let mut items = Vec::new();
        for field in &framework.general_info {
            let ty = match field.ty {
                GeneralInfoType::Count => VariableType::Count,
                GeneralInfoType::Money => VariableType::Money,
                GeneralInfoType::Text => VariableType::Text,
                GeneralInfoType::Contact => {
                    return Err(unroutable(format!(
                        "general information {}: contact fields are not collected for the national system",
                        field.key
                    )))
                }
            };
            if field.owners.len() != 1 {
                return Err(unroutable(format!(
                    "general information {}: needs exactly one owner (the data has no combine rule for fields), has {}",
                    field.key,
                    field.owners.len()
                )));
            }
            items.push(NationalItem {
                key: ItemKey::general_info(&field.key),
                name: field.name.clone(),
                owners: field.owners.clone(),
                combine: Combine::Single,
                shape: ItemShape::GeneralInfo(ty),
            });
        }
        for (position, indicator) in framework.indicators.iter().enumerate() {
            let combine = check_indicator(indicator).map_err(|problem| {
                unroutable(format!("indicator {}: {problem}", indicator.code))
            })?;
            items.push(NationalItem {
                key: ItemKey::indicator(indicator.code.as_str()),
                name: indicator.name.clone(),
                owners: indicator.owners.clone(),
                combine,
                shape: ItemShape::Indicator(position),
            });
        }
        for item in &items {
            for owner in &item.owners {
                if registry.unit(owner).is_none() {
                    return Err(unroutable(format!(
                        "{}: owner {owner} is not in the unit registry",
                        item.key
                    )));
                }
            }
        }
        let index = items
            .iter()
            .enumerate()
            .map(|(position, item)| (item.key.clone(), position))
            .collect();
        Ok(Self {
            framework,
            registry,
            items,
            index,
        })
    }

    /// The framework.
    pub fn framework(&self) -> &Framework {
        &self.framework
    }

    /// The framework id.
    pub fn framework_id(&self) -> &FrameworkId {
        &self.framework.id
    }

    /// Every item: general information first, then indicators, in framework order.
    pub fn items(&self) -> &[NationalItem] {
        &self.items
    }

    /// The item with this key.
    pub fn item(&self, key: &ItemKey) -> Option<&NationalItem> {
        self.index.get(key).map(|&position| &self.items[position])
    }

    /// The framework's indicator behind an indicator item.
    pub fn indicator(&self, item: &NationalItem) -> Option<&Indicator> {
        match item.shape {
            ItemShape::Indicator(position) => self.framework.indicators.get(position),
            ItemShape::GeneralInfo(_) => None,
        }
    }

    /// Every department that owns at least one item, in unit-registry order.
    pub fn owners(&self) -> Vec<&UnitId> {
        self.registry
            .units()
            .map(|unit| &unit.id)
            .filter(|id| self.items.iter().any(|item| item.is_owned_by(id)))
            .collect()
    }

    /// A department's name from the unit registry.
    pub fn department_name(&self, department: &UnitId) -> Option<&str> {
        self.registry
            .unit(department)
            .map(|unit| unit.name.as_str())
    }

    /// Whether `department` owns at least one item.
    pub fn is_owner(&self, department: &UnitId) -> bool {
        self.items.iter().any(|item| item.is_owned_by(department))
    }

    /// The audit "round" of a year: the national index has no rounds, so entries are filed
    /// under (year, framework).
    pub fn audit_round(&self, year: NationalYear) -> RoundRef {
        RoundRef {
            year: year.as_u16(),
            framework: self.framework.id.clone(),
        }
    }

    /// Checks a requested year: within what the database holds and not before the set applies.
    /// The problem is a message, shown in the language of the request.
    pub fn year(&self, year: u32) -> Result<NationalYear, Message> {
        let first = u32::from(self.framework.year);
        // The catalogue's text names the bounds of YEAR_RANGE (2000 and 2100).
        let out_of_range = || Message::new("request-bad-year").arg("year", year.to_string());
        if !YEAR_RANGE.contains(&year) {
            return Err(out_of_range());
        }
        if year < first {
            return Err(Message::new("sync-year-before-set")
                .arg("framework", self.framework.id.to_string())
                .arg("first", first.to_string())
                .arg("year", year.to_string()));
        }
        u16::try_from(year)
            .map(NationalYear)
            .map_err(|_| out_of_range())
    }
}

/// The combine rule of an indicator, checked against its owners and variables.
fn check_indicator(indicator: &Indicator) -> Result<Combine, String> {
    if indicator.owners.is_empty() {
        return Err("has no owner".into());
    }
    if indicator.variables.is_empty() {
        return Err("has no value fields".into());
    }
    let combine = match (indicator.combine, indicator.owners.len()) {
        (Some(combine), _) => combine,
        (None, 1) => Combine::Single,
        (None, owners) => return Err(format!("has {owners} owners but no combine rule")),
    };
    let fits = |accepted: &[&str]| {
        indicator
            .variables
            .iter()
            .all(|variable| accepted.contains(&variable.ty.name()))
    };
    match combine {
        Combine::Single if indicator.owners.len() != 1 => Err(format!(
            "combine = \"single\" with {} owners",
            indicator.owners.len()
        )),
        Combine::Sum if !fits(&["count", "money"]) => {
            Err("combine = \"sum\" needs count or money value fields".into())
        }
        Combine::Any if !fits(&["bool"]) => {
            Err("combine = \"any\" needs yes/no value fields".into())
        }
        _ => Ok(combine),
    }
}

/// A checked year of the national index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NationalYear(u16);

impl NationalYear {
    /// A year for unit tests, unchecked.
    #[cfg(test)]
    pub(crate) fn for_tests(year: u16) -> Self {
        Self(year)
    }

    /// The year.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// The year as stored (SMALLINT).
    pub fn stored(self) -> i16 {
        // Checked to be at most 2100 when constructed.
        i16::try_from(self.0).expect("a checked year fits in SMALLINT")
    }
}

impl fmt::Display for NationalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> NationalSet {
        NationalSet::builtin("mic-2022-province").expect("the built-in set routes")
    }

    #[test]
    fn routes_every_indicator_and_general_information_field() {
        let set = set();
        let indicators = set
            .items()
            .iter()
            .filter(|i| i.key.kind == ItemKind::Indicator)
            .count();
        assert_eq!(indicators, 104, "98 indicators and 6 sub-indicators");
        assert_eq!(set.items().len(), 104 + 17);
        let sum = set.item(&ItemKey::indicator("6.22")).expect("6.22");
        assert_eq!(sum.combine, Combine::Sum);
        assert_eq!(sum.owners.len(), 3);
        let any = set.item(&ItemKey::indicator("2.6")).expect("2.6");
        assert_eq!(any.combine, Combine::Any);
        let population = set
            .item(&ItemKey::general_info("population"))
            .expect("population");
        assert_eq!(population.owners[0].as_str(), "cuc-thong-ke");
    }

    #[test]
    fn scored_frameworks_are_not_routed() {
        let error = NationalSet::builtin("hcm-2023-district").unwrap_err();
        assert!(error.to_string().contains("not a collected provincial set"));
        assert!(matches!(
            NationalSet::builtin("nope-2000-x"),
            Err(SetupError::UnknownFramework(_))
        ));
    }

    #[test]
    fn years_before_the_set_or_outside_the_database_are_refused() {
        let set = set();
        assert!(set
            .year(2021)
            .unwrap_err()
            .to_string()
            .contains("applies from 2022"));
        assert!(set.year(2101).is_err());
        assert_eq!(set.year(2024).map(NationalYear::as_u16), Ok(2024));
    }

    #[test]
    fn owners_come_in_registry_order_and_have_names() {
        let set = set();
        let owners = set.owners();
        assert!(owners.iter().any(|o| o.as_str() == "so-tttt"));
        assert!(owners.iter().all(|o| set.department_name(o).is_some()));
        assert!(!set.is_owner(&UnitId::parse("quan-1").unwrap()));
    }
}
