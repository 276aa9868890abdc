//! Loading a framework file: TOML → raw records → checked [`Framework`].
//!
//! Every problem found is collected (not just the first) and reported with the file name and
//! the code of the group, indicator or field it concerns, so an operator fixing a new year's
//! file sees the whole list at once. A file may take groups or indicators from frameworks
//! already known ([`includes`]); [`parse_framework_with`] is given the way to look them up.

use super::model::*;
use crate::exact::Exact;
use crate::ids::{FrameworkId, GroupCode, IndicatorCode, UnitId, VariableName};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

mod includes;
mod rules;
use includes::{include, RawInclude};
use rules::check_rule;

/// The file format version this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One problem in a framework file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkProblem {
    /// The group/indicator/field code it concerns, if any.
    pub code: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for FrameworkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

/// A framework file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FrameworkError {
    /// The file (or source name) that failed.
    pub file: String,
    /// Every problem found.
    pub problems: Vec<FrameworkProblem>,
}

impl fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "framework file {} is invalid:", self.file)?;
        for problem in &self.problems {
            write!(f, "\n  {}: {problem}", self.file)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    schema: u32,
    id: String,
    year: u16,
    unit_kind: UnitKind,
    title: String,
    source: String,
    #[serde(default = "default_true")]
    scored: bool,
    total_points: Exact,
    declared_total_points: Option<Exact>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    general_info: Vec<RawGeneralInfo>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    includes: Vec<RawInclude>,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeneralInfo {
    code: String,
    key: String,
    name: String,
    #[serde(rename = "type")]
    ty: GeneralInfoType,
    #[serde(default)]
    restated_by: Vec<String>,
    #[serde(default)]
    owners: Vec<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    code: String,
    name: String,
    points: Exact,
    declared_indicator_count: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    code: String,
    group: Option<String>,
    name: String,
    points: Exact,
    #[serde(default)]
    method: String,
    note: Option<String>,
    rule: Option<toml::Table>,
    #[serde(default)]
    variables: Vec<toml::Table>,
    parent: Option<String>,
    #[serde(default)]
    owners: Vec<String>,
    owner_text: Option<String>,
    #[serde(default)]
    collaborators: Vec<String>,
    combine: Option<Combine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    name: VariableName,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    choices: Vec<String>,
    meaning: String,
}

/// Collects problems while a file is checked.
struct Problems(Vec<FrameworkProblem>);

impl Problems {
    fn at(&mut self, code: impl fmt::Display, problem: impl Into<String>) {
        self.0.push(FrameworkProblem {
            code: Some(code.to_string()),
            problem: problem.into(),
        });
    }

    fn file(&mut self, problem: impl Into<String>) {
        self.0.push(FrameworkProblem {
            code: None,
            problem: problem.into(),
        });
    }
}

/// Parses and checks a framework from TOML text; `file` names the source in errors. A file
/// that includes from another framework is refused here, as naming an unknown framework: use
/// [`parse_framework_with`] (or [`super::FrameworkCatalog::parse`]) for those.
pub fn parse_framework(file: &str, text: &str) -> Result<Framework, FrameworkError> {
    parse_framework_with(file, text, &|_| None)
}

/// Looks up a framework a file includes from, by id.
pub type FrameworkLookup<'a> = dyn Fn(&FrameworkId) -> Option<Arc<Framework>> + 'a;

/// Parses and checks a framework from TOML text, taking the groups and indicators it includes
/// from the frameworks `known` finds; `file` names the source in errors.
pub fn parse_framework_with(
    file: &str,
    text: &str,
    known: &FrameworkLookup<'_>,
) -> Result<Framework, FrameworkError> {
    let fail = |problems: Vec<FrameworkProblem>| FrameworkError {
        file: file.to_string(),
        problems,
    };
    let raw: RawFramework = toml::from_str(text).map_err(|e| {
        fail(vec![FrameworkProblem {
            code: None,
            problem: format!("not a valid framework file: {}", e.to_string().trim_end()),
        }])
    })?;
    let mut problems = Problems(Vec::new());
    let framework = check(raw, known, &mut problems);
    match framework {
        Some(framework) if problems.0.is_empty() => Ok(framework),
        _ => Err(fail(problems.0)),
    }
}

fn check(
    raw: RawFramework,
    known: &FrameworkLookup<'_>,
    problems: &mut Problems,
) -> Option<Framework> {
    if raw.schema != SCHEMA_VERSION {
        problems.file(format!(
            "schema {} is not supported (this build reads schema {SCHEMA_VERSION})",
            raw.schema
        ));
    }
    let id = FrameworkId::parse(&raw.id)
        .map_err(|e| problems.file(e.to_string()))
        .ok();
    let groups = check_groups(&raw.groups, !raw.includes.is_empty(), problems);
    let indicators = check_indicators(&raw, &groups, problems);
    let (groups, indicators) = include(&raw, id.as_ref(), groups, indicators, known, problems);
    check_points(&raw, &groups, &indicators, problems);
    let general_info = check_general_info(&raw.general_info, &indicators, problems);
    let index = indicators
        .iter()
        .enumerate()
        .map(|(i, ind)| (ind.code.clone(), i))
        .collect();
    Some(Framework {
        id: id?,
        year: raw.year,
        unit_kind: raw.unit_kind,
        title: raw.title,
        source: raw.source,
        scored: raw.scored,
        total_points: raw.total_points,
        declared_total_points: raw.declared_total_points,
        notes: raw.notes,
        general_info,
        groups,
        indicators,
        index,
    })
}

fn check_groups(raw: &[RawGroup], includes: bool, problems: &mut Problems) -> Vec<Group> {
    let mut seen = BTreeSet::new();
    let mut groups = Vec::new();
    for g in raw {
        let Ok(code) = GroupCode::parse(&g.code) else {
            problems.at(&g.code, "group code must be a number such as 6");
            continue;
        };
        if !seen.insert(code.clone()) {
            problems.at(&code, "group code is used twice");
            continue;
        }
        if g.points < Exact::zero() {
            problems.at(&code, "group points must not be negative");
        }
        groups.push(Group {
            code,
            name: g.name.clone(),
            points: g.points.clone(),
            declared_indicator_count: g.declared_indicator_count,
            included_from: None,
        });
    }
    if groups.is_empty() && !includes {
        problems.file("the framework has no groups");
    }
    groups
}

fn check_indicators(
    raw: &RawFramework,
    groups: &[Group],
    problems: &mut Problems,
) -> Vec<Indicator> {
    let mut seen = BTreeSet::new();
    let mut indicators = Vec::new();
    for r in &raw.indicators {
        let Ok(code) = IndicatorCode::parse(&r.code) else {
            problems.at(
                &r.code,
                "indicator code must be dot-separated numbers such as 6.13",
            );
            continue;
        };
        if !seen.insert(code.clone()) {
            problems.at(&code, "indicator code is used twice");
            continue;
        }
        if let Some(indicator) = check_indicator(raw.scored, &code, r, groups, problems) {
            indicators.push(indicator);
        }
    }
    check_parents(&indicators, problems);
    indicators
}

fn check_indicator(
    scored: bool,
    code: &IndicatorCode,
    r: &RawIndicator,
    groups: &[Group],
    problems: &mut Problems,
) -> Option<Indicator> {
    let group_text = r
        .group
        .clone()
        .unwrap_or_else(|| code.group_prefix().to_string());
    let group = GroupCode::parse(&group_text).ok();
    match &group {
        Some(g) if groups.iter().any(|known| &known.code == g) => {
            if code.group_prefix() != g.as_str() {
                problems.at(code, format!("code does not start with its group {g}"));
            }
        }
        _ => problems.at(code, format!("group {group_text} is not defined")),
    }
    if r.points < Exact::zero() {
        problems.at(code, "points must not be negative");
    }
    let variables = check_variables(code, &r.variables, problems);
    let rule = match (&r.rule, scored) {
        (Some(table), true) => check_rule(code, table, &r.points, &variables, problems),
        (None, true) => {
            problems.at(
                code,
                "a scored framework needs a [indicators.rule] for every indicator",
            );
            None
        }
        (Some(_), false) => {
            problems.at(code, "an unscored framework must not define rules");
            None
        }
        (None, false) => None,
    };
    let owners = parse_owners(code, &r.owners, problems);
    if !scored && owners.is_empty() {
        problems.at(
            code,
            "an indicator of a collected framework needs at least one owner",
        );
    }
    let combine = match (r.combine, owners.len()) {
        (None, 0 | 1) => owners.first().map(|_| Combine::Single),
        (None, _) => {
            problems.at(code, "several owners need `combine` (sum or any)");
            None
        }
        (Some(Combine::Single), n) if n > 1 => {
            problems.at(code, "`combine = \"single\"` needs exactly one owner");
            None
        }
        (Some(c), _) => Some(c),
    };
    let parent = match &r.parent {
        Some(p) => match IndicatorCode::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.at(code, e.to_string());
                None
            }
        },
        None => None,
    };
    Some(Indicator {
        code: code.clone(),
        group: group?,
        name: r.name.clone(),
        points: r.points.clone(),
        method: r.method.clone(),
        note: r.note.clone(),
        rule,
        variables,
        parent,
        owners,
        owner_text: r.owner_text.clone(),
        collaborators: r.collaborators.clone(),
        combine,
    })
}

fn parse_owners(code: impl fmt::Display, raw: &[String], problems: &mut Problems) -> Vec<UnitId> {
    let mut owners = Vec::new();
    for owner in raw {
        match UnitId::parse(owner.as_str()) {
            Ok(id) if owners.contains(&id) => {
                problems.at(&code, format!("owner {id} is listed twice"))
            }
            Ok(id) => owners.push(id),
            Err(e) => problems.at(&code, e.to_string()),
        }
    }
    owners
}

fn check_variables(
    code: &IndicatorCode,
    raw: &[toml::Table],
    problems: &mut Problems,
) -> Vec<Variable> {
    let mut variables: Vec<Variable> = Vec::new();
    for table in raw {
        let parsed: Result<RawVariable, _> = toml::Value::Table(table.clone()).try_into();
        let v = match parsed {
            Ok(v) => v,
            Err(e) => {
                problems.at(
                    code,
                    format!("variable is malformed: {}", e.to_string().trim_end()),
                );
                continue;
            }
        };
        if variables.iter().any(|known| known.name == v.name) {
            problems.at(code, format!("variable {} is declared twice", v.name));
            continue;
        }
        let ty = match (v.ty.as_str(), v.choices.is_empty()) {
            ("count", true) => VariableType::Count,
            ("bool", true) => VariableType::Bool,
            ("activities", true) => VariableType::Activities,
            ("money", true) => VariableType::Money,
            ("decimal", true) => VariableType::Decimal,
            ("text", true) => VariableType::Text,
            ("choice", false) => VariableType::Choice { choices: v.choices },
            ("choice", true) => {
                problems.at(
                    code,
                    format!("variable {}: a choice needs `choices`", v.name),
                );
                continue;
            }
            (known, false)
                if ["count", "bool", "activities", "money", "decimal", "text"].contains(&known) =>
            {
                problems.at(
                    code,
                    format!("variable {}: only a choice has `choices`", v.name),
                );
                continue;
            }
            (other, _) => {
                problems.at(
                    code,
                    format!(
                        "variable {}: type {other:?} is not known (count, bool, choice, activities, money, decimal, text)",
                        v.name
                    ),
                );
                continue;
            }
        };
        variables.push(Variable {
            name: v.name,
            ty,
            meaning: v.meaning,
        });
    }
    variables
}

fn check_parents(indicators: &[Indicator], problems: &mut Problems) {
    for child in indicators {
        let Some(parent_code) = &child.parent else {
            continue;
        };
        match indicators.iter().find(|i| &i.code == parent_code) {
            None => problems.at(&child.code, format!("parent {parent_code} is not defined")),
            Some(parent) if parent.parent.is_some() => problems.at(
                &child.code,
                format!("parent {parent_code} is itself a sub-indicator"),
            ),
            Some(parent) if parent.group != child.group => problems.at(
                &child.code,
                format!("parent {parent_code} is in another group"),
            ),
            Some(_) => {}
        }
    }
}

fn check_points(
    raw: &RawFramework,
    groups: &[Group],
    indicators: &[Indicator],
    problems: &mut Problems,
) {
    let sum = |items: &mut dyn Iterator<Item = &Exact>| {
        items.fold(Exact::zero(), |acc, p| Exact(acc.0 + &p.0))
    };
    let group_total = sum(&mut groups.iter().map(|g| &g.points));
    if group_total != raw.total_points {
        problems.file(format!(
            "total_points is {} but the groups add up to {group_total}",
            raw.total_points
        ));
    }
    for group in groups {
        let members: Vec<&Indicator> = indicators
            .iter()
            .filter(|i| i.group == group.code && i.parent.is_none())
            .collect();
        let total = sum(&mut members.iter().map(|i| &i.points));
        if total != group.points {
            problems.at(
                &group.code,
                format!(
                    "group points are {} but its indicators add up to {total}",
                    group.points
                ),
            );
        }
        if let Some(declared) = group.declared_indicator_count {
            if usize::try_from(declared).ok() != Some(members.len()) {
                problems.at(
                    &group.code,
                    format!(
                        "the source declares {declared} indicators but the file has {}",
                        members.len()
                    ),
                );
            }
        }
    }
    let mut children: BTreeMap<&IndicatorCode, Vec<&Indicator>> = BTreeMap::new();
    for child in indicators {
        if let Some(parent) = &child.parent {
            children.entry(parent).or_default().push(child);
        }
    }
    for (parent, subs) in children {
        let Some(parent) = indicators.iter().find(|i| &i.code == parent) else {
            continue;
        };
        let total = sum(&mut subs.iter().map(|i| &i.points));
        if total != parent.points {
            problems.at(
                &parent.code,
                format!(
                    "points are {} but its sub-indicators add up to {total}",
                    parent.points
                ),
            );
        }
    }
}

fn check_general_info(
    raw: &[RawGeneralInfo],
    indicators: &[Indicator],
    problems: &mut Problems,
) -> Vec<GeneralInfoField> {
    let mut seen_codes = BTreeSet::new();
    let mut seen_keys = HashMap::new();
    let mut fields = Vec::new();
    for f in raw {
        let label = format!("general information {}", f.code);
        if !seen_codes.insert(f.code.clone()) {
            problems.at(&label, "code is used twice");
        }
        if seen_keys.insert(f.key.clone(), ()).is_some() {
            problems.at(&label, format!("key {} is used twice", f.key));
        }
        if VariableName::parse(f.key.as_str()).is_err() {
            problems.at(&label, format!("key {:?} must be snake_case", f.key));
        }
        let mut restated_by = Vec::new();
        for reference in &f.restated_by {
            match resolve_restatement(reference, indicators) {
                Ok(pair) => restated_by.push(pair),
                Err(problem) => problems.at(&label, problem),
            }
        }
        fields.push(GeneralInfoField {
            code: f.code.clone(),
            key: f.key.clone(),
            name: f.name.clone(),
            ty: f.ty,
            restated_by,
            owners: parse_owners(&label, &f.owners, problems),
            note: f.note.clone(),
        });
    }
    fields
}

fn resolve_restatement(
    reference: &str,
    indicators: &[Indicator],
) -> Result<(IndicatorCode, VariableName), String> {
    let bad = || {
        format!("restated_by {reference:?} must look like \"4.1:e\" and name a declared variable")
    };
    let (code, variable) = reference.split_once(':').ok_or_else(bad)?;
    let code = IndicatorCode::parse(code).map_err(|_| bad())?;
    let variable = VariableName::parse(variable).map_err(|_| bad())?;
    let indicator = indicators.iter().find(|i| i.code == code).ok_or_else(bad)?;
    indicator.variable(variable.as_str()).ok_or_else(bad)?;
    Ok((code, variable))
}
