//! What changed between two submitted versions of a unit, indicator by indicator: the view a
//! verifier needs when a unit answers a clarification request with a new version.

use std::collections::{BTreeMap, BTreeSet};

use dti_domain::IndicatorCode;

use crate::model::Reported;

/// How an indicator changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Reported now, not before.
    Added,
    /// Reported before, not now.
    Removed,
    /// Reported in both, differently.
    Changed,
}

/// One indicator that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The indicator.
    pub code: IndicatorCode,
    /// How.
    pub kind: ChangeKind,
    /// Before (none when added).
    pub previous: Option<Reported>,
    /// After (none when removed).
    pub current: Option<Reported>,
}

/// Every indicator whose entry differs between `previous` and `current`, in numeric code
/// order.
pub fn diff(
    previous: &BTreeMap<IndicatorCode, Reported>,
    current: &BTreeMap<IndicatorCode, Reported>,
) -> Vec<Change> {
    let mut codes: Vec<&IndicatorCode> = previous
        .keys()
        .chain(current.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    codes.sort_by_key(|code| code.sort_key());
    codes
        .into_iter()
        .filter_map(|code| {
            let (before, after) = (previous.get(code), current.get(code));
            let kind = match (before, after) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(b), Some(a)) if a != b => ChangeKind::Changed,
                _ => return None,
            };
            Some(Change {
                code: code.clone(),
                kind,
                previous: before.cloned(),
                current: after.cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::values::IndicatorValues;
    use dti_domain::{VariableName, VariableValue};

    fn count(name: &str, n: u64) -> Reported {
        Reported::Values(IndicatorValues::from_pairs([(
            VariableName::parse(name).expect("name"),
            VariableValue::Count(n),
        )]))
    }

    fn code(c: &str) -> IndicatorCode {
        IndicatorCode::parse(c).expect("code")
    }

    #[test]
    fn reports_added_removed_and_changed_indicators_in_numeric_order() {
        let previous = BTreeMap::from([
            (code("6.10"), count("a", 1)),
            (code("6.2"), count("a", 1)),
            (code("1.2"), count("a", 7)),
            (code("7.3"), Reported::NotApplicable("none".into())),
        ]);
        let current = BTreeMap::from([
            (code("6.10"), count("a", 1)),
            (code("1.2"), count("a", 9)),
            (code("7.3"), count("a", 2)),
            (code("2.1"), count("yes", 1)),
        ]);
        let changes = diff(&previous, &current);
        let summary: Vec<(&str, ChangeKind)> =
            changes.iter().map(|c| (c.code.as_str(), c.kind)).collect();
        assert_eq!(
            summary,
            [
                ("1.2", ChangeKind::Changed),
                ("2.1", ChangeKind::Added),
                ("6.2", ChangeKind::Removed),
                ("7.3", ChangeKind::Changed),
            ]
        );
        assert_eq!(changes[0].previous, Some(count("a", 7)));
        assert_eq!(changes[0].current, Some(count("a", 9)));
        assert!(diff(&current, &current).is_empty());
    }
}
