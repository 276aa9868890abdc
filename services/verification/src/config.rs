//! The verification service's own settings (`[service]` / `DTI_VERIFICATION_SERVICE__*`).

use dti_config::{settings_at_least_one, ConfigError, FrameworkDir, Validate};
use serde::Deserialize;

/// Seven days, the default provisional period.
const SEVEN_DAYS_SECS: u64 = 7 * 24 * 60 * 60;

/// The longest provisional period accepted: a year.
const MAX_PROVISIONAL_PERIOD_SECS: u64 = 366 * 24 * 60 * 60;

/// Settings of the verification service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Extra framework files (`*.toml`) added to the built-in ones.
    pub framework_dir: FrameworkDir,
    /// Seconds between publication and the end of the provisional period, during which units
    /// may object; the result may be finalized only afterwards.
    pub provisional_period_secs: u64,
    /// Seconds between checks that finalize provisional rounds whose period has ended.
    pub finalize_check_interval_secs: u64,
    /// Most decisions (or clarification questions) one request may carry.
    pub max_decisions_per_request: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework_dir: FrameworkDir::default(),
            provisional_period_secs: SEVEN_DAYS_SECS,
            finalize_check_interval_secs: 60,
            max_decisions_per_request: 500,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.framework_dir.validate()?;
        if self.provisional_period_secs > MAX_PROVISIONAL_PERIOD_SECS {
            return Err(ConfigError::invalid(
                "service.provisional_period_secs",
                format!("must be at most {MAX_PROVISIONAL_PERIOD_SECS} (a year)"),
            ));
        }
        settings_at_least_one!(
            self,
            finalize_check_interval_secs,
            max_decisions_per_request
        );
        Ok(())
    }
}

impl Settings {
    /// The provisional period as a duration.
    pub fn provisional_period(&self) -> chrono::Duration {
        let secs = self
            .provisional_period_secs
            .min(MAX_PROVISIONAL_PERIOD_SECS);
        // At most a year of seconds, far inside `i64`.
        chrono::Duration::seconds(i64::try_from(secs).expect("a capped period fits in i64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_intervals_are_not() {
        let settings = Settings::default();
        assert!(settings.validate().is_ok());
        assert_eq!(settings.provisional_period(), chrono::Duration::days(7));
        let zero = Settings {
            finalize_check_interval_secs: 0,
            ..Settings::default()
        };
        assert!(zero.validate().is_err());
        let huge = Settings {
            provisional_period_secs: u64::MAX,
            ..Settings::default()
        };
        assert!(huge.validate().is_err());
    }
}
