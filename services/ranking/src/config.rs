//! The ranking service's own settings (`[service]` / `DTI_RANKING_SERVICE__*`).

use dti_config::{settings_at_least_one, ConfigError, FrameworkDir, Validate};
use dti_scores::UnitVisibility;
use serde::Deserialize;

/// Settings of the ranking service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Extra framework files (`*.toml`) added to the built-in ones.
    pub framework_dir: FrameworkDir,
    /// When unit submitters may read rankings: `live` or `after_publication`.
    pub unit_visibility: UnitVisibility,
    /// Seconds between two passes of the reconciler, which brings every cohort's sorted sets up
    /// to the score tables (it also runs at start, and rebuilds flushed sets).
    pub reconcile_interval_secs: u64,
    /// Milliseconds between two checks of Redis; while it is unavailable rankings are answered
    /// from PostgreSQL, and the first check that reaches it again rebuilds the sorted sets.
    pub redis_check_interval_ms: u64,
    /// Units per page when a request asks for none.
    pub default_page_size: u32,
    /// Most units per page.
    pub max_page_size: u32,
    /// Deliveries of one event before JetStream gives up on it.
    pub max_deliver: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework_dir: FrameworkDir::default(),
            unit_visibility: UnitVisibility::Live,
            reconcile_interval_secs: 15,
            redis_check_interval_ms: 250,
            default_page_size: 50,
            max_page_size: 1000,
            max_deliver: 20,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.framework_dir.validate()?;
        settings_at_least_one!(
            self,
            reconcile_interval_secs,
            redis_check_interval_ms,
            max_page_size,
            max_deliver
        );
        if !(1..=self.max_page_size).contains(&self.default_page_size) {
            return Err(ConfigError::invalid(
                "service.default_page_size",
                format!(
                    "must be between 1 and max_page_size ({})",
                    self.max_page_size
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_must_fit_together() {
        assert!(Settings::default().validate().is_ok());
        let too_big = Settings {
            default_page_size: 2000,
            ..Settings::default()
        };
        let error = too_big.validate().unwrap_err().to_string();
        assert!(error.contains("service.default_page_size"), "{error}");
    }
}
