//! The reference data services start from: the framework catalogue (built-in frameworks plus
//! those of the `framework_dir` setting). The unit registry is the database's
//! ([`crate::registry`]).

use dti_config::FrameworkDir;
use dti_domain::FrameworkCatalog;

use crate::StartError;

/// The built-in frameworks, plus the framework files of `dir` when it is set.
pub fn framework_catalog(dir: &FrameworkDir) -> Result<FrameworkCatalog, StartError> {
    let catalog = match dir.path() {
        Some(dir) => FrameworkCatalog::builtin_and_dir(dir)?,
        None => FrameworkCatalog::builtin()?,
    };
    Ok(catalog)
}
