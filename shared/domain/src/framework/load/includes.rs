//! `[[includes]]`: groups and indicators a framework takes from another framework already known
//! — the Hà Nội rule of assessing some departments also on the district set's digital-economy
//! index. The included items are copied as they are (codes, names, points, rules, variables,
//! sub-indicators), so they are scored by that framework's rules; their min-max ranges, like
//! every other indicator's, are taken over the cohort of the round that scores the including
//! framework. An included group is marked with the framework it comes from.
//!
//! A whole group keeps its points and declared indicator count. Single indicators come with
//! their group's code and name; that group's points are then the sum of the indicators taken.

use super::{FrameworkLookup, Problems, RawFramework};
use crate::exact::Exact;
use crate::framework::model::{Framework, Group, Indicator};
use crate::ids::{FrameworkId, GroupCode, IndicatorCode};
use serde::Deserialize;
use std::collections::BTreeSet;

/// One `[[includes]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInclude {
    /// The framework to take from.
    framework: String,
    /// Whole groups, by code.
    #[serde(default)]
    groups: Vec<String>,
    /// Single top-level indicators (with their sub-indicators), by code.
    #[serde(default)]
    indicators: Vec<String>,
}

/// The file's own groups and indicators followed by those it includes, entry by entry, each
/// in the order of the framework it comes from.
pub(super) fn include(
    raw: &RawFramework,
    own_id: Option<&FrameworkId>,
    mut groups: Vec<Group>,
    mut indicators: Vec<Indicator>,
    known: &FrameworkLookup<'_>,
    problems: &mut Problems,
) -> (Vec<Group>, Vec<Indicator>) {
    for entry in &raw.includes {
        let label = format!("includes {}", entry.framework);
        let Some(source) = source_framework(entry, own_id, raw.scored, known, &label, problems)
        else {
            continue;
        };
        let Some(wanted) = wanted_indicators(entry, &source, &label, problems) else {
            continue;
        };
        for group in &source.groups {
            let members: Vec<&Indicator> = source
                .top_level_indicators()
                .filter(|i| i.group == group.code && wanted.contains(&i.code))
                .collect();
            if members.is_empty() {
                continue;
            }
            if groups.iter().any(|known| known.code == group.code) {
                problems.at(
                    &label,
                    format!(
                        "group {} of {} has the code of a group this framework already has",
                        group.code, source.id
                    ),
                );
                continue;
            }
            let whole = members.len()
                == source
                    .top_level_indicators()
                    .filter(|i| i.group == group.code)
                    .count();
            let points = members
                .iter()
                .fold(Exact::zero(), |acc, i| Exact(acc.0 + &i.points.0));
            groups.push(Group {
                code: group.code.clone(),
                name: group.name.clone(),
                points,
                declared_indicator_count: if whole {
                    group.declared_indicator_count
                } else {
                    None
                },
                included_from: Some(source.id.clone()),
            });
            let taken = source.indicators.iter().filter(|i| {
                i.group == group.code
                    && (wanted.contains(&i.code)
                        || i.parent.as_ref().is_some_and(|p| wanted.contains(p)))
            });
            for indicator in taken {
                if indicators.iter().any(|known| known.code == indicator.code) {
                    problems.at(
                        &indicator.code,
                        format!(
                            "indicator code is used twice (also included from {})",
                            source.id
                        ),
                    );
                    continue;
                }
                indicators.push(indicator.clone());
            }
        }
    }
    (groups, indicators)
}

/// The framework an entry names, if it may be included from.
fn source_framework(
    entry: &RawInclude,
    own_id: Option<&FrameworkId>,
    scored: bool,
    known: &FrameworkLookup<'_>,
    label: &str,
    problems: &mut Problems,
) -> Option<std::sync::Arc<Framework>> {
    let id = match FrameworkId::parse(&entry.framework) {
        Ok(id) => id,
        Err(error) => {
            problems.at(label, error.to_string());
            return None;
        }
    };
    if Some(&id) == own_id {
        problems.at(label, "a framework cannot include from itself");
        return None;
    }
    let Some(source) = known(&id) else {
        problems.at(
            label,
            format!("framework {id} is not known here; store or load it before the framework that includes from it"),
        );
        return None;
    };
    if source.scored != scored {
        problems.at(
            label,
            "a scored framework includes only from a scored one, a collected one only from a collected one",
        );
        return None;
    }
    if entry.groups.is_empty() && entry.indicators.is_empty() {
        problems.at(label, "names no group and no indicator to include");
        return None;
    }
    Some(source)
}

/// The top-level indicators of `source` an entry takes: every one of its whole groups, and its
/// single indicators. Each code must exist, be top-level and be named once.
fn wanted_indicators(
    entry: &RawInclude,
    source: &Framework,
    label: &str,
    problems: &mut Problems,
) -> Option<BTreeSet<IndicatorCode>> {
    let before = problems.0.len();
    let mut wanted = BTreeSet::new();
    let mut whole_groups = BTreeSet::new();
    for code in &entry.groups {
        match GroupCode::parse(code) {
            Ok(group) if source.groups.iter().any(|g| g.code == group) => {
                if !whole_groups.insert(group.clone()) {
                    problems.at(label, format!("group {group} is named twice"));
                }
                wanted.extend(
                    source
                        .top_level_indicators()
                        .filter(|i| i.group == group)
                        .map(|i| i.code.clone()),
                );
            }
            _ => problems.at(
                label,
                format!("group {code} is not a group of {}", source.id),
            ),
        }
    }
    for code in &entry.indicators {
        let indicator = IndicatorCode::parse(code)
            .ok()
            .and_then(|code| source.indicator(&code));
        match indicator {
            None => problems.at(
                label,
                format!("indicator {code} is not an indicator of {}", source.id),
            ),
            Some(indicator) if indicator.parent.is_some() => problems.at(
                label,
                format!(
                    "indicator {code} is a sub-indicator; include its parent {}",
                    indicator
                        .parent
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
            ),
            Some(indicator) if whole_groups.contains(&indicator.group) => problems.at(
                label,
                format!(
                    "indicator {code} is already included with its group {}",
                    indicator.group
                ),
            ),
            Some(indicator) => {
                if !wanted.insert(indicator.code.clone()) {
                    problems.at(label, format!("indicator {code} is named twice"));
                }
            }
        }
    }
    (problems.0.len() == before).then_some(wanted)
}
