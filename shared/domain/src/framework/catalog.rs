//! The catalog of known frameworks: the built-in files compiled into every binary, plus any
//! files an operator adds from a directory (a new year's set needs no code change).

use super::load::{parse_framework, FrameworkError, FrameworkProblem};
use super::model::Framework;
use crate::ids::FrameworkId;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The built-in framework files, as (file name, contents).
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "hcm-2023-department.toml",
        include_str!("../../frameworks/hcm-2023-department.toml"),
    ),
    (
        "hcm-2023-district.toml",
        include_str!("../../frameworks/hcm-2023-district.toml"),
    ),
    (
        "mic-2022-province.toml",
        include_str!("../../frameworks/mic-2022-province.toml"),
    ),
];

/// Known frameworks by id.
#[derive(Debug, Clone, Default)]
pub struct FrameworkCatalog {
    frameworks: BTreeMap<FrameworkId, Arc<Framework>>,
}

impl FrameworkCatalog {
    /// The built-in frameworks. They are checked by this crate's tests, so a failure here is a
    /// build defect, reported as an error rather than a panic.
    pub fn builtin() -> Result<Self, FrameworkError> {
        let mut catalog = Self::default();
        for (file, text) in BUILTIN_FILES {
            catalog.insert(file, parse_framework(file, text)?)?;
        }
        Ok(catalog)
    }

    /// The built-in frameworks plus every `*.toml` file in `dir`.
    pub fn builtin_and_dir(dir: &Path) -> Result<Self, FrameworkError> {
        let mut catalog = Self::builtin()?;
        catalog.load_dir(dir)?;
        Ok(catalog)
    }

    /// Adds every `*.toml` file of a directory, in file-name order.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), FrameworkError> {
        let io_error = |e: std::io::Error| FrameworkError {
            file: dir.display().to_string(),
            problems: vec![FrameworkProblem {
                code: None,
                problem: format!("cannot read the framework directory: {e}"),
            }],
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io_error)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            self.load_file(&path)?;
        }
        Ok(())
    }

    /// Adds one framework file.
    pub fn load_file(&mut self, path: &Path) -> Result<Arc<Framework>, FrameworkError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FrameworkError {
            file: file.clone(),
            problems: vec![FrameworkProblem {
                code: None,
                problem: format!("cannot read the file: {e}"),
            }],
        })?;
        self.insert(&file, parse_framework(&file, &text)?)
    }

    /// Adds a parsed framework; an id that is already known is refused.
    pub fn insert(
        &mut self,
        file: &str,
        framework: Framework,
    ) -> Result<Arc<Framework>, FrameworkError> {
        if self.frameworks.contains_key(&framework.id) {
            return Err(FrameworkError {
                file: file.to_string(),
                problems: vec![FrameworkProblem {
                    code: None,
                    problem: format!(
                        "framework id {} is already defined by another file",
                        framework.id
                    ),
                }],
            });
        }
        let framework = Arc::new(framework);
        self.frameworks
            .insert(framework.id.clone(), framework.clone());
        Ok(framework)
    }

    /// The framework with this id.
    pub fn get(&self, id: &FrameworkId) -> Option<&Arc<Framework>> {
        self.frameworks.get(id)
    }

    /// The framework with this id given as text.
    pub fn get_str(&self, id: &str) -> Option<&Arc<Framework>> {
        FrameworkId::parse(id)
            .ok()
            .and_then(|id| self.frameworks.get(&id))
    }

    /// All frameworks, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Framework>> {
        self.frameworks.values()
    }

    /// Known ids, for messages.
    pub fn ids(&self) -> Vec<String> {
        self.frameworks.keys().map(ToString::to_string).collect()
    }
}
