//! The submission service's own settings (`[service]` / `DTI_SUBMISSION_SERVICE__*`).

use dti_config::{settings_at_least_one, ConfigError, FrameworkDir, Validate};
use serde::Deserialize;

/// Settings of the submission service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Extra framework files (`*.toml`) added to the built-in ones.
    pub framework_dir: FrameworkDir,
    /// Seconds between checks that close open rounds whose deadline has passed.
    pub deadline_check_interval_secs: u64,
    /// Most indicators one `SetValues` request may carry.
    pub max_values_per_request: usize,
    /// The unit registry file stored as revision 1 at the first start, when the database holds
    /// no registry yet (default: the city's registry shipped with the platform). Later starts
    /// ignore it: operators change the registry with `dtictl registry`.
    pub registry_seed_file: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework_dir: FrameworkDir::default(),
            deadline_check_interval_secs: 60,
            max_values_per_request: 500,
            registry_seed_file: None,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.framework_dir.validate()?;
        settings_at_least_one!(self, deadline_check_interval_secs, max_values_per_request);
        Ok(())
    }
}
