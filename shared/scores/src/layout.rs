//! A framework as the score tables see it: its groups in order, and the top-level indicators
//! whose score depends on the cohort (min-max rules).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use dti_domain::framework::{Framework, Indicator};
use dti_domain::ids::{FrameworkId, GroupCode, IndicatorCode};
use dti_domain::FrameworkCatalog;

/// The groups and min-max indicators of one framework, computed once.
#[derive(Debug, Clone)]
pub struct FrameworkLayout {
    framework: Arc<Framework>,
    group_index: HashMap<GroupCode, usize>,
    /// Positions in `framework.indicators` of the top-level min-max indicators, and the index
    /// of each one's group.
    cohort_dependent: Vec<(usize, usize)>,
}

/// The layouts of the scored frameworks of a catalogue, each made when first asked for: what a
/// service that scores or ranks keeps for the life of the process. A framework an operator adds
/// to the catalogue while the service runs gets its layout on its first use.
#[derive(Debug)]
pub struct ScoredLayouts {
    catalog: Arc<FrameworkCatalog>,
    made: RwLock<HashMap<FrameworkId, Arc<FrameworkLayout>>>,
}

/// Why a framework has no layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLayout {
    /// The catalogue does not know the framework (yet: one just added may still be loading).
    Unknown,
    /// The framework is collected, not scored.
    NotScored,
}

impl ScoredLayouts {
    /// The layouts of `catalog`'s scored frameworks.
    pub fn new(catalog: Arc<FrameworkCatalog>) -> Self {
        Self {
            catalog,
            made: RwLock::new(HashMap::new()),
        }
    }

    /// The catalogue the layouts are made from.
    pub fn catalog(&self) -> &Arc<FrameworkCatalog> {
        &self.catalog
    }

    /// The layout of scored framework `id`.
    pub fn get(&self, id: &FrameworkId) -> Result<Arc<FrameworkLayout>, NoLayout> {
        if let Some(layout) = self.made.read().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(Arc::clone(layout));
        }
        let framework = self.catalog.get(id).ok_or(NoLayout::Unknown)?;
        if !framework.scored {
            return Err(NoLayout::NotScored);
        }
        let layout = Arc::new(FrameworkLayout::new(Arc::clone(framework)));
        let mut made = self.made.write().unwrap_or_else(|e| e.into_inner());
        Ok(Arc::clone(made.entry(id.clone()).or_insert(layout)))
    }

    /// The layouts of every scored framework the catalogue knows now.
    pub fn all(&self) -> Vec<Arc<FrameworkLayout>> {
        self.catalog
            .iter()
            .filter_map(|framework| self.get(&framework.id).ok())
            .collect()
    }
}

impl FrameworkLayout {
    /// The layout of `framework`.
    pub fn new(framework: Arc<Framework>) -> Self {
        let group_index: HashMap<GroupCode, usize> = framework
            .groups
            .iter()
            .enumerate()
            .map(|(i, group)| (group.code.clone(), i))
            .collect();
        let cohort_dependent = framework
            .indicators
            .iter()
            .enumerate()
            .filter(|(_, indicator)| indicator.parent.is_none() && is_cohort_dependent(indicator))
            .filter_map(|(i, indicator)| group_index.get(&indicator.group).map(|&g| (i, g)))
            .collect();
        Self {
            framework,
            group_index,
            cohort_dependent,
        }
    }

    /// The framework.
    pub fn framework(&self) -> &Arc<Framework> {
        &self.framework
    }

    /// Number of groups.
    pub fn group_count(&self) -> usize {
        self.framework.groups.len()
    }

    /// Group codes in framework order.
    pub fn group_codes(&self) -> impl Iterator<Item = &GroupCode> {
        self.framework.groups.iter().map(|group| &group.code)
    }

    /// Position of a group in framework order.
    pub fn group_index(&self, code: &GroupCode) -> Option<usize> {
        self.group_index.get(code).copied()
    }

    /// Position of a group given as text.
    pub fn group_index_str(&self, code: &str) -> Option<usize> {
        self.framework
            .groups
            .iter()
            .position(|group| group.code.as_str() == code)
    }

    /// The top-level min-max indicators with their group's position, in framework order.
    pub fn cohort_indicators(&self) -> impl ExactSizeIterator<Item = (&Indicator, usize)> + '_ {
        self.cohort_dependent
            .iter()
            .map(|&(i, group)| (&self.framework.indicators[i], group))
    }

    /// Whether an indicator's score depends on the cohort.
    pub fn is_cohort_dependent(&self, code: &IndicatorCode) -> bool {
        self.cohort_indicators()
            .any(|(indicator, _)| &indicator.code == code)
    }
}

fn is_cohort_dependent(indicator: &Indicator) -> bool {
    indicator
        .rule
        .as_ref()
        .is_some_and(|rule| rule.is_cohort_dependent())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;

    #[test]
    fn finds_the_min_max_indicators_of_both_frameworks() {
        let catalog = FrameworkCatalog::builtin().unwrap();
        let codes = |id: &str| -> Vec<String> {
            let layout = FrameworkLayout::new(catalog.get_str(id).unwrap().clone());
            layout
                .cohort_indicators()
                .map(|(indicator, group)| format!("{}@{group}", indicator.code))
                .collect()
        };
        assert_eq!(codes("hcm-2023-department"), ["4.1@3", "5.1@4"]);
        assert_eq!(codes("hcm-2023-district"), ["5.1@4"]);
    }
}
