//! The catalog of known frameworks: the built-in files compiled into every binary, any files
//! an operator adds from a directory, and those an operator stores on the platform while the
//! services run (a new year's set needs no code change and no restart).
//!
//! A framework id names one content for good: the catalog only ever gains frameworks, and
//! [`FrameworkCatalog::add`] refuses a changed framework under a known id (a changed set is a
//! new id). That is what lets a round pin its framework by id and content hash, and lets every
//! reader hold on to a framework it got from the catalog while frameworks are added.

use super::load::{parse_framework_with, FrameworkError, FrameworkProblem};
use super::model::Framework;
use crate::ids::FrameworkId;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

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

/// Whether `id` names a built-in framework (each built-in file is named after its id, which the
/// crate's tests check), without parsing the files.
pub fn is_builtin(id: &str) -> bool {
    BUILTIN_FILES
        .iter()
        .any(|(file, _)| file.strip_suffix(".toml") == Some(id))
}

/// Known frameworks by id: those it was built with, and those added to it since
/// ([`FrameworkCatalog::add`]).
#[derive(Debug, Default)]
pub struct FrameworkCatalog {
    frameworks: BTreeMap<FrameworkId, Arc<Framework>>,
    /// Frameworks added while the catalog is shared. Each lives as long as the process (they
    /// are few and never removed), so a reference to one outlives the lock that found it.
    added: RwLock<BTreeMap<FrameworkId, &'static Arc<Framework>>>,
    /// Content hashes of the frameworks, each computed once when first asked for (an id names
    /// one content for good, so a hash never goes stale).
    hashes: RwLock<BTreeMap<FrameworkId, String>>,
}

impl Clone for FrameworkCatalog {
    fn clone(&self) -> Self {
        Self {
            frameworks: self.frameworks.clone(),
            added: RwLock::new(self.added_read().clone()),
            hashes: RwLock::new(
                self.hashes
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
            ),
        }
    }
}

/// The content hash of a framework: SHA-256 of its canonical JSON form, in hex. Two files that
/// differ only in layout or comments have the same hash.
pub fn content_hash(framework: &Framework) -> String {
    let canonical = serde_json::to_vec(framework).unwrap_or_default();
    hex::encode(Sha256::digest(canonical))
}

/// What [`FrameworkCatalog::add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// The framework is new to the catalog.
    New,
    /// The catalog already holds this framework with the same content.
    AlreadyKnown,
}

impl FrameworkCatalog {
    /// The built-in frameworks. They are checked by this crate's tests, so a failure here is a
    /// build defect, reported as an error rather than a panic.
    pub fn builtin() -> Result<Self, FrameworkError> {
        let mut catalog = Self::default();
        for (file, text) in BUILTIN_FILES {
            let framework = catalog.parse(file, text)?;
            catalog.insert(file, framework)?;
        }
        Ok(catalog)
    }

    /// The built-in frameworks plus every `*.toml` file in `dir`.
    pub fn builtin_and_dir(dir: &Path) -> Result<Self, FrameworkError> {
        let mut catalog = Self::builtin()?;
        catalog.load_dir(dir)?;
        Ok(catalog)
    }

    /// Adds every `*.toml` file of a directory, in file-name order; a file that includes from
    /// another file of the directory is added after it.
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
        // Each pass adds the files whose included frameworks are known by now; a pass that adds
        // nothing reports the first file that still fails.
        while !paths.is_empty() {
            let mut failed = Vec::new();
            let mut first_error = None;
            for path in paths.iter() {
                if let Err(error) = self.load_file(path) {
                    first_error.get_or_insert(error);
                    failed.push(path.clone());
                }
            }
            if let (Some(error), true) = (first_error, failed.len() == paths.len()) {
                return Err(error);
            }
            paths = failed;
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
        let framework = self.parse(&file, &text)?;
        self.insert(&file, framework)
    }

    /// Parses and checks a framework file, taking what it includes from this catalog.
    pub fn parse(&self, file: &str, text: &str) -> Result<Framework, FrameworkError> {
        parse_framework_with(file, text, &|id| self.get(id).cloned())
    }

    /// Parses and [adds](Self::add) framework files given as (id, text), e.g. those stored on the
    /// platform, in any order: one that includes from another of them is added after it. Returns
    /// the problems of those that could not be added.
    pub fn add_all(&self, files: Vec<(String, String)>) -> Vec<FrameworkError> {
        let mut pending = files;
        loop {
            let before = pending.len();
            let mut errors = Vec::new();
            pending.retain(|(id, text)| {
                match self
                    .parse(id, text)
                    .and_then(|framework| self.add(id, framework))
                {
                    Ok(_) => false,
                    Err(error) => {
                        errors.push(error);
                        true
                    }
                }
            });
            if pending.is_empty() || pending.len() == before {
                return errors;
            }
        }
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

    /// Adds `framework` to a catalog that may be shared: a new id is added, the same content
    /// under a known id changes nothing, and changed content under a known id is refused (a
    /// framework id names one content for good; a changed set is added under a new id).
    pub fn add(&self, file: &str, framework: Framework) -> Result<Added, FrameworkError> {
        if let Some(known) = self.hash_of(&framework.id) {
            if known == content_hash(&framework) {
                return Ok(Added::AlreadyKnown);
            }
            return Err(FrameworkError {
                file: file.to_string(),
                problems: vec![FrameworkProblem {
                    code: None,
                    problem: format!(
                        "framework id {} is already defined with other content (hash {}); \
                         a changed framework is added under a new id",
                        framework.id, known
                    ),
                }],
            });
        }
        let mut added = self.added.write().unwrap_or_else(|e| e.into_inner());
        if added.contains_key(&framework.id) {
            // Added by another thread between the look-up and the lock: compare again.
            drop(added);
            return self.add(file, framework);
        }
        let framework: &'static Arc<Framework> = Box::leak(Box::new(Arc::new(framework)));
        added.insert(framework.id.clone(), framework);
        Ok(Added::New)
    }

    fn added_read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<FrameworkId, &'static Arc<Framework>>> {
        self.added.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The framework with this id.
    pub fn get(&self, id: &FrameworkId) -> Option<&Arc<Framework>> {
        self.frameworks
            .get(id)
            .or_else(|| self.added_read().get(id).copied())
    }

    /// The framework with this id given as text.
    pub fn get_str(&self, id: &str) -> Option<&Arc<Framework>> {
        FrameworkId::parse(id).ok().and_then(|id| self.get(&id))
    }

    /// The content hash ([`content_hash`]) of the framework with this id, computed once.
    pub fn hash_of(&self, id: &FrameworkId) -> Option<String> {
        if let Some(hash) = self
            .hashes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Some(hash.clone());
        }
        let hash = content_hash(self.get(id)?);
        self.hashes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), hash.clone());
        Some(hash)
    }

    /// Whether the catalog holds the framework `id` (given as text) with content hash `hash`:
    /// false for an unknown id and for other content under a known one.
    pub fn holds(&self, id: &str, hash: &str) -> bool {
        FrameworkId::parse(id)
            .ok()
            .and_then(|id| self.hash_of(&id))
            .is_some_and(|held| held == hash)
    }

    /// All frameworks, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Framework>> {
        let mut all: BTreeMap<&FrameworkId, &Arc<Framework>> = self.frameworks.iter().collect();
        for framework in self.added_read().values().copied() {
            all.insert(&framework.id, framework);
        }
        all.into_values().collect::<Vec<_>>().into_iter()
    }

    /// Known ids, for messages.
    pub fn ids(&self) -> Vec<String> {
        self.iter()
            .map(|framework| framework.id.to_string())
            .collect()
    }
}
