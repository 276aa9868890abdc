//! The checked in-memory model of a framework. Instances are only built by [`super::load`],
//! which guarantees the invariants documented on each type.

use crate::exact::Exact;
use crate::ids::{FrameworkId, GroupCode, IndicatorCode, UnitId, VariableName};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Which kind of unit a framework assesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Sở/Ban/Ngành (Phụ lục I).
    Department,
    /// Quận/Huyện and Thủ Đức City (Phụ lục II).
    District,
    /// The city as a province of the national index (Phụ lục III).
    Province,
}

impl UnitKind {
    /// The name a framework file gives it: `department`, `district` or `province`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Department => "department",
            Self::District => "district",
            Self::Province => "province",
        }
    }
}

/// A framework: one versioned indicator set.
#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    /// Stable id, e.g. `hcm-2023-district`.
    pub id: FrameworkId,
    /// The year the set was issued for.
    pub year: u16,
    /// The kind of unit it assesses.
    pub unit_kind: UnitKind,
    /// Vietnamese title of the set.
    pub title: String,
    /// The document that defines it.
    pub source: String,
    /// False for sets that are collected and synced but never scored here (Appendix III).
    pub scored: bool,
    /// Sum of the group points (checked).
    pub total_points: Exact,
    /// What the source's header prints when it differs from the sum.
    pub declared_total_points: Option<Exact>,
    /// How the source's inconsistencies are read.
    pub notes: Vec<String>,
    /// Unscored fields every unit reports (THÔNG TIN CHUNG).
    pub general_info: Vec<GeneralInfoField>,
    /// Groups in source order.
    pub groups: Vec<Group>,
    /// Indicators in source order, sub-indicators after their parent.
    pub indicators: Vec<Indicator>,
    #[serde(skip)]
    pub(crate) index: HashMap<IndicatorCode, usize>,
}

impl Framework {
    /// The indicator with this code.
    pub fn indicator(&self, code: &IndicatorCode) -> Option<&Indicator> {
        self.index.get(code).map(|&i| &self.indicators[i])
    }

    /// The indicator with this code given as text.
    pub fn indicator_by_str(&self, code: &str) -> Option<&Indicator> {
        IndicatorCode::parse(code)
            .ok()
            .and_then(|code| self.indicator(&code))
    }

    /// Indicators that count toward their group (not sub-indicators).
    pub fn top_level_indicators(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().filter(|i| i.parent.is_none())
    }

    /// Indicators whose score depends on the whole cohort (min-max rules).
    pub fn cohort_dependent_indicators(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators
            .iter()
            .filter(|i| i.rule.as_ref().is_some_and(Rule::is_cohort_dependent))
    }

    /// The general-information field with this key.
    pub fn general_info_field(&self, key: &str) -> Option<&GeneralInfoField> {
        self.general_info.iter().find(|f| f.key == key)
    }

    /// Whether every group is taken from another framework (`[[includes]]`): an additional
    /// assessment of some units (the Hà Nội rule), not their kind's main one.
    pub fn is_additional(&self) -> bool {
        !self.groups.is_empty() && self.groups.iter().all(|g| g.included_from.is_some())
    }

    /// Whether results on `other` compare with results on this framework, as a unit's previous
    /// year: the same kind of unit, both scored or both collected, and both main assessments
    /// or both additional ones ([`Self::is_additional`]).
    pub fn comparable_with(&self, other: &Framework) -> bool {
        self.unit_kind == other.unit_kind
            && self.scored == other.scored
            && self.is_additional() == other.is_additional()
    }
}

/// A group (chỉ số chính).
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Code, e.g. `6`.
    pub code: GroupCode,
    /// Vietnamese name as in the source.
    pub name: String,
    /// Maximum points; equals the sum of its top-level indicators.
    pub points: Exact,
    /// Indicator count printed in the source's summary table.
    pub declared_indicator_count: Option<u32>,
    /// For a group taken from another framework (`[[includes]]`): that framework. Its
    /// indicators keep that framework's codes, rules and points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included_from: Option<FrameworkId>,
}

/// An indicator (chỉ số thành phần).
#[derive(Debug, Clone, Serialize)]
pub struct Indicator {
    /// Code, e.g. `6.13`.
    pub code: IndicatorCode,
    /// The group it counts toward.
    pub group: GroupCode,
    /// Vietnamese name as in the source.
    pub name: String,
    /// Maximum points.
    pub points: Exact,
    /// The source's "how it is determined and scored" text.
    pub method: String,
    /// How an ambiguity of the source is read.
    pub note: Option<String>,
    /// The scoring rule (scored frameworks only).
    pub rule: Option<Rule>,
    /// Variables the unit reports for it; every one is used by the rule.
    pub variables: Vec<Variable>,
    /// For sub-indicators (e.g. 5.12.1): the parent indicator.
    pub parent: Option<IndicatorCode>,
    /// Appendix III: departments that supply the value.
    pub owners: Vec<UnitId>,
    /// Appendix III: the source's wording of the owners.
    pub owner_text: Option<String>,
    /// Appendix III: bodies outside the city named in the wording.
    pub collaborators: Vec<String>,
    /// Appendix III: how several owners' parts combine.
    pub combine: Option<Combine>,
}

impl Indicator {
    /// The declared variable with this name.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name.as_str() == name)
    }
}

/// A variable of an indicator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variable {
    /// The decision's letter or the contract's name.
    pub name: VariableName,
    /// Its type.
    #[serde(flatten)]
    pub ty: VariableType,
    /// What it counts, in Vietnamese.
    pub meaning: String,
}

/// The type of a variable's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VariableType {
    /// A non-negative whole number.
    Count,
    /// True or false.
    Bool,
    /// One of a closed list of values.
    Choice {
        /// Allowed values.
        choices: Vec<String>,
    },
    /// A list of `{reports, resolved}` pairs.
    Activities,
    /// A non-negative whole number of đồng.
    Money,
    /// A non-negative exact decimal.
    Decimal,
    /// Free text.
    Text,
}

impl VariableType {
    /// Short name used in messages.
    pub fn name(&self) -> &'static str {
        match self {
            VariableType::Count => "count",
            VariableType::Bool => "bool",
            VariableType::Choice { .. } => "choice",
            VariableType::Activities => "activities",
            VariableType::Money => "money",
            VariableType::Decimal => "decimal",
            VariableType::Text => "text",
        }
    }
}

/// A sum of variables over a sum of variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fraction {
    /// Variables summed above the line.
    pub numerator: Vec<VariableName>,
    /// Variables summed below the line.
    pub denominator: Vec<VariableName>,
}

/// A fraction compared with a threshold (`target`, `all_or_nothing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdFraction {
    /// Variables summed above the line.
    pub numerator: Vec<VariableName>,
    /// Variables summed below the line.
    pub denominator: Vec<VariableName>,
    /// The threshold t.
    pub threshold: Exact,
}

/// A band of a `tiers_3_3` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The ratio the band starts at.
    pub above: Exact,
    /// Whether a ratio exactly at `above` reaches the band.
    pub inclusive: bool,
    /// Points of the band.
    pub points: Exact,
}

/// Parameters of a `tiers_3_3` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// Variables summed above the line.
    pub numerator: Vec<VariableName>,
    /// Variables summed below the line.
    pub denominator: Vec<VariableName>,
    /// Tiers, highest first.
    pub tiers: Vec<Tier>,
}

/// Parameters of a `split_halves` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitParts {
    /// The parts, each worth an equal share of the points.
    pub parts: Vec<Fraction>,
}

/// A rule reading one variable (`boolean`, `minmax_count`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneVariable {
    /// The variable.
    pub variable: VariableName,
}

/// Parameters of a levels rule (`head_role`, `frequency`, `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// The choice variable.
    pub variable: VariableName,
    /// Share of the points per choice.
    pub levels: BTreeMap<String, Exact>,
}

/// A band of a `portal_posts` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostsBand {
    /// Lowest post count of the band.
    pub at_least: u64,
    /// Share of the points.
    pub share: Exact,
}

/// Parameters of a `portal_posts` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalPosts {
    /// Has a digital-transformation section (bool).
    pub section: VariableName,
    /// Posts in the year (count).
    pub count: VariableName,
    /// Bands, highest first.
    pub bands: Vec<PostsBand>,
}

/// A flag of a `portal_tech` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagShare {
    /// The bool variable.
    pub variable: VariableName,
    /// Share of the points it earns when true.
    pub share: Exact,
}

/// Parameters of a `portal_tech` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalTech {
    /// The flags.
    pub flags: Vec<FlagShare>,
}

/// Parameters of a `growth` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Growth {
    /// This year's count.
    pub current: VariableName,
    /// Last year's count.
    pub previous: VariableName,
    /// Growth target t.
    pub threshold: Exact,
}

/// Parameters of an `activities` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activities {
    /// The activities variable.
    pub variable: VariableName,
    /// resolved/reports needed for an activity to count.
    pub min_resolved_share: Exact,
    /// Points per counted activity (the total is capped at the indicator's points).
    pub points_each: Exact,
}

/// Which contract kind a levels rule is (the three share one shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelKind {
    /// Who heads the steering committee.
    HeadRole,
    /// How often local radio broadcasts.
    Frequency,
    /// Deployment status.
    Status,
}

/// A scoring rule: one of the contract's rule kinds with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// clamp(num/den) × P.
    Ratio(Fraction),
    /// num/den ≥ t → P; else clamp(num/den / t) × P.
    Target(ThresholdFraction),
    /// num/den ≥ t → P; else 0.
    AllOrNothing(ThresholdFraction),
    /// Points of the first tier reached, else 0.
    Tiers(Tiers),
    /// Σ clamp(partᵢ) × P / parts.
    SplitHalves(SplitParts),
    /// true → P.
    Boolean(OneVariable),
    /// Share of the chosen level × P.
    Levels(LevelKind, Levels),
    /// No section → 0; else share of the first band reached × P.
    PortalPosts(PortalPosts),
    /// Σ share × P over the flags that are true.
    PortalTech(PortalTech),
    /// g = current/previous − 1; g ≥ t → P; else clamp(g / t) × P.
    Growth(Growth),
    /// Min-max over the cohort of clamp(num/den).
    MinmaxRatio(Fraction),
    /// Min-max over the cohort of a count.
    MinmaxCount(OneVariable),
    /// points_each per effective activity, at most P.
    Activities(Activities),
}

/// Every rule kind name the engine knows, as written in framework files.
pub const RULE_KINDS: &[&str] = &[
    "ratio",
    "target",
    "all_or_nothing",
    "tiers_3_3",
    "split_halves",
    "boolean",
    "head_role",
    "frequency",
    "status",
    "portal_posts",
    "portal_tech",
    "growth",
    "minmax_ratio",
    "minmax_count",
    "activities",
];

impl Rule {
    /// The kind's name as written in framework files and shown in explanations.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Rule::Ratio(_) => "ratio",
            Rule::Target(_) => "target",
            Rule::AllOrNothing(_) => "all_or_nothing",
            Rule::Tiers(_) => "tiers_3_3",
            Rule::SplitHalves(_) => "split_halves",
            Rule::Boolean(_) => "boolean",
            Rule::Levels(LevelKind::HeadRole, _) => "head_role",
            Rule::Levels(LevelKind::Frequency, _) => "frequency",
            Rule::Levels(LevelKind::Status, _) => "status",
            Rule::PortalPosts(_) => "portal_posts",
            Rule::PortalTech(_) => "portal_tech",
            Rule::Growth(_) => "growth",
            Rule::MinmaxRatio(_) => "minmax_ratio",
            Rule::MinmaxCount(_) => "minmax_count",
            Rule::Activities(_) => "activities",
        }
    }

    /// Builds a rule from its kind name and a deserializer of its parameters.
    pub fn from_kind<'de, D: serde::Deserializer<'de>>(
        kind: &str,
        params: D,
    ) -> Result<Option<Rule>, D::Error> {
        let rule = match kind {
            "ratio" => Rule::Ratio(Deserialize::deserialize(params)?),
            "target" => Rule::Target(Deserialize::deserialize(params)?),
            "all_or_nothing" => Rule::AllOrNothing(Deserialize::deserialize(params)?),
            "tiers_3_3" => Rule::Tiers(Deserialize::deserialize(params)?),
            "split_halves" => Rule::SplitHalves(Deserialize::deserialize(params)?),
            "boolean" => Rule::Boolean(Deserialize::deserialize(params)?),
            "head_role" => Rule::Levels(LevelKind::HeadRole, Deserialize::deserialize(params)?),
            "frequency" => Rule::Levels(LevelKind::Frequency, Deserialize::deserialize(params)?),
            "status" => Rule::Levels(LevelKind::Status, Deserialize::deserialize(params)?),
            "portal_posts" => Rule::PortalPosts(Deserialize::deserialize(params)?),
            "portal_tech" => Rule::PortalTech(Deserialize::deserialize(params)?),
            "growth" => Rule::Growth(Deserialize::deserialize(params)?),
            "minmax_ratio" => Rule::MinmaxRatio(Deserialize::deserialize(params)?),
            "minmax_count" => Rule::MinmaxCount(Deserialize::deserialize(params)?),
            "activities" => Rule::Activities(Deserialize::deserialize(params)?),
            _ => return Ok(None),
        };
        Ok(Some(rule))
    }

    /// True for rules whose score depends on other units of the cohort.
    pub fn is_cohort_dependent(&self) -> bool {
        matches!(self, Rule::MinmaxRatio(_) | Rule::MinmaxCount(_))
    }

    /// Every (numerator, denominator) pair the rule divides by, for zero-denominator checks.
    pub fn fractions(&self) -> Vec<(&[VariableName], &[VariableName])> {
        match self {
            Rule::Ratio(f) | Rule::MinmaxRatio(f) => {
                vec![(f.numerator.as_slice(), f.denominator.as_slice())]
            }
            Rule::Target(f) | Rule::AllOrNothing(f) => {
                vec![(f.numerator.as_slice(), f.denominator.as_slice())]
            }
            Rule::Tiers(t) => vec![(t.numerator.as_slice(), t.denominator.as_slice())],
            Rule::SplitHalves(s) => s
                .parts
                .iter()
                .map(|p| (p.numerator.as_slice(), p.denominator.as_slice()))
                .collect(),
            Rule::Growth(g) => vec![(
                std::slice::from_ref(&g.current),
                std::slice::from_ref(&g.previous),
            )],
            _ => Vec::new(),
        }
    }

    /// Every variable the rule reads, with the type it needs.
    pub fn referenced_variables(&self) -> Vec<(&VariableName, RequiredType)> {
        match self {
            Rule::Boolean(v) => vec![(&v.variable, RequiredType::Bool)],
            Rule::Levels(_, l) => vec![(&l.variable, RequiredType::Choice)],
            Rule::PortalPosts(p) => vec![
                (&p.section, RequiredType::Bool),
                (&p.count, RequiredType::Count),
            ],
            Rule::PortalTech(t) => t
                .flags
                .iter()
                .map(|f| (&f.variable, RequiredType::Bool))
                .collect(),
            Rule::MinmaxCount(v) => vec![(&v.variable, RequiredType::Count)],
            Rule::Activities(a) => vec![(&a.variable, RequiredType::Activities)],
            _ => self
                .fractions()
                .into_iter()
                .flat_map(|(n, d)| n.iter().chain(d))
                .map(|v| (v, RequiredType::Count))
                .collect(),
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T: Serialize> {
            kind: &'static str,
            #[serde(flatten)]
            params: &'a T,
        }
        let kind = self.kind_name();
        match self {
            Rule::Ratio(p) | Rule::MinmaxRatio(p) => {
                Tagged { kind, params: p }.serialize(serializer)
            }
            Rule::Target(p) | Rule::AllOrNothing(p) => {
                Tagged { kind, params: p }.serialize(serializer)
            }
            Rule::Tiers(p) => Tagged { kind, params: p }.serialize(serializer),
            Rule::SplitHalves(p) => Tagged { kind, params: p }.serialize(serializer),
            Rule::Boolean(p) | Rule::MinmaxCount(p) => {
                Tagged { kind, params: p }.serialize(serializer)
            }
            Rule::Levels(_, p) => Tagged { kind, params: p }.serialize(serializer),
            Rule::PortalPosts(p) => Tagged { kind, params: p }.serialize(serializer),
            Rule::PortalTech(p) => Tagged { kind, params: p }.serialize(serializer),
            Rule::Growth(p) => Tagged { kind, params: p }.serialize(serializer),
            Rule::Activities(p) => Tagged { kind, params: p }.serialize(serializer),
        }
    }
}

/// The variable type a rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredType {
    /// `count`.
    Count,
    /// `bool`.
    Bool,
    /// `choice`.
    Choice,
    /// `activities`.
    Activities,
}

impl RequiredType {
    /// Whether a declared type satisfies the need.
    pub fn accepts(self, ty: &VariableType) -> bool {
        matches!(
            (self, ty),
            (RequiredType::Count, VariableType::Count)
                | (RequiredType::Bool, VariableType::Bool)
                | (RequiredType::Choice, VariableType::Choice { .. })
                | (RequiredType::Activities, VariableType::Activities)
        )
    }

    /// Short name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            RequiredType::Count => "count",
            RequiredType::Bool => "bool",
            RequiredType::Choice => "choice",
            RequiredType::Activities => "activities",
        }
    }
}

/// How several owners' parts of an Appendix III indicator become one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// One owner: its value is the value.
    Single,
    /// The parts are added (money, counts each owner keeps for its own remit).
    Sum,
    /// True when any owner reports true.
    Any,
}

/// Type of a general-information field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneralInfoType {
    /// Free text.
    Text,
    /// A non-negative whole number.
    Count,
    /// A non-negative whole number of đồng.
    Money,
    /// A contact person: name, unit, position, phone, email.
    Contact,
}

/// An unscored general-information field (THÔNG TIN CHUNG).
#[derive(Debug, Clone, Serialize)]
pub struct GeneralInfoField {
    /// Code as printed in the source.
    pub code: String,
    /// Stable snake_case key used in submissions.
    pub key: String,
    /// Vietnamese name as printed.
    pub name: String,
    /// Its type.
    pub ty: GeneralInfoType,
    /// Indicator variables that restate it, as (indicator, variable).
    pub restated_by: Vec<(IndicatorCode, VariableName)>,
    /// Appendix III: departments that supply it.
    pub owners: Vec<UnitId>,
    /// How an ambiguity is read.
    pub note: Option<String>,
}
