//! The submission service's own settings (`[service]` / `DTI_SUBMISSION_SERVICE__*`).

use std::path::PathBuf;

use dti_config::{ConfigError, Validate};
use serde::Deserialize;

/// Settings of the submission service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Extra framework files (`*.toml`) added to the built-in ones.
    pub framework_dir: Option<PathBuf>,
    /// Seconds between checks that close open rounds whose deadline has passed.
    pub deadline_check_interval_secs: u64,
    /// Most indicators one `SetValues` request may carry.
    pub max_values_per_request: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework_dir: None,
            deadline_check_interval_secs: 60,
            max_values_per_request: 500,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(dir) = &self.framework_dir {
            if !dir.is_dir() {
                return Err(ConfigError::invalid(
                    "service.framework_dir",
                    format!("{} is not a directory", dir.display()),
                ));
            }
        }
        if self.deadline_check_interval_secs == 0 {
            return Err(ConfigError::invalid(
                "service.deadline_check_interval_secs",
                "must be at least 1",
            ));
        }
        if self.max_values_per_request == 0 {
            return Err(ConfigError::invalid(
                "service.max_values_per_request",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
