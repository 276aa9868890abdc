//! The scoring service's own settings (`[service]` / `DTI_SCORING_SERVICE__*`).

use dti_config::{settings_at_least_one, ConfigError, FrameworkDir, Validate};
use dti_scores::UnitVisibility;
use serde::Deserialize;

/// Settings of the scoring service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Extra framework files (`*.toml`) added to the built-in ones.
    pub framework_dir: FrameworkDir,
    /// When unit submitters may read their scorecard: `live` or `after_publication`.
    pub unit_visibility: UnitVisibility,
    /// Seconds between two passes of the reconciler, which scores submissions whose scores
    /// are older than their latest version or verifier decisions (it also runs at start).
    pub reconcile_interval_secs: u64,
    /// Stale units of one cohort from which the reconciler re-scores the cohort in one
    /// transaction instead of unit by unit.
    pub bulk_rescore_threshold: usize,
    /// Deliveries of one event before JetStream gives up on it.
    pub max_deliver: i64,
    /// Milliseconds between two looks of the outbox relay at a drained outbox: the longest
    /// delay before a committed `scores.updated` (or any other pending event of the database)
    /// is published.
    pub outbox_poll_interval_ms: u64,
    /// Most events a consumer takes at once (those already delivered, never waiting): their
    /// cohorts are re-scored once for all the units they name, in one transaction. 1 handles
    /// every event on its own.
    pub consumer_batch: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework_dir: FrameworkDir::default(),
            unit_visibility: UnitVisibility::Live,
            reconcile_interval_secs: 30,
            bulk_rescore_threshold: 32,
            max_deliver: 20,
            outbox_poll_interval_ms: 2,
            consumer_batch: 256,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.framework_dir.validate()?;
        settings_at_least_one!(
            self,
            reconcile_interval_secs,
            bulk_rescore_threshold,
            max_deliver
        );
        if !(1..=10_000).contains(&self.consumer_batch) {
            return Err(ConfigError::invalid(
                "service.consumer_batch",
                "must be between 1 and 10000",
            ));
        }
        if !(1..=10_000).contains(&self.outbox_poll_interval_ms) {
            return Err(ConfigError::invalid(
                "service.outbox_poll_interval_ms",
                "must be between 1 and 10000",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_intervals_are_not() {
        assert!(Settings::default().validate().is_ok());
        let zero = Settings {
            reconcile_interval_secs: 0,
            ..Settings::default()
        };
        let error = zero.validate().unwrap_err().to_string();
        assert!(error.contains("service.reconcile_interval_secs"), "{error}");
    }

    #[test]
    fn visibility_is_read_by_name() {
        let settings: Settings =
            serde_json::from_str(r#"{"unit_visibility": "after_publication"}"#).unwrap();
        assert_eq!(settings.unit_visibility, UnitVisibility::AfterPublication);
        assert!(serde_json::from_str::<Settings>(r#"{"unit_visibility": "never"}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"unknown": 1}"#).is_err());
    }
}
