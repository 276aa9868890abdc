//! The `[service]` settings of national sync (env prefix `DTI_NATIONAL_SYNC_`, nested keys with
//! `__`, e.g. `DTI_NATIONAL_SYNC_SERVICE__NATIONAL__ENDPOINT`), their defaults and validation.

use std::path::PathBuf;
use std::time::Duration;

use dti_config::{at_least_one, ConfigError, Validate};
use secrecy::SecretString;
use serde::Deserialize;

use crate::dispatch::RetryPolicy;
use crate::national_api::HttpSettings;
use crate::national_set::NationalSet;

/// Settings of the national-sync service.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Framework id of the national set (framework data), default `mic-2022-province`.
    pub framework: String,
    /// The national DTI system's API.
    pub national: NationalApiSettings,
    /// The push workers.
    pub push: PushSettings,
    /// The scheduled sync.
    pub schedule: ScheduleSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework: "mic-2022-province".to_owned(),
            national: NationalApiSettings::default(),
            push: PushSettings::default(),
            schedule: ScheduleSettings::default(),
        }
    }
}

/// The national DTI system's HTTP JSON API.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NationalApiSettings {
    /// Base URL (`https://…`); unset means values are collected but nothing can be pushed.
    pub endpoint: Option<String>,
    /// PEM file of the CA(s) to trust for the endpoint instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Bearer token for the national API (secret).
    pub api_token: Option<SecretString>,
    /// The city's code in the national system.
    pub province_code: String,
    /// Whole-request timeout, milliseconds.
    pub request_timeout_ms: u64,
    /// Connection timeout, milliseconds.
    pub connect_timeout_ms: u64,
    /// Allow an `http://` endpoint (loopback tests and demos only).
    pub allow_plain_http: bool,
}

impl Default for NationalApiSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            ca_file: None,
            api_token: None,
            province_code: "79".to_owned(),
            request_timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
            allow_plain_http: false,
        }
    }
}

impl NationalApiSettings {
    /// The HTTP client's settings, when an endpoint is configured.
    pub fn http(&self) -> Option<HttpSettings> {
        self.endpoint.as_ref().map(|endpoint| HttpSettings {
            endpoint: endpoint.clone(),
            ca_file: self.ca_file.clone(),
            api_token: self.api_token.clone(),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
        })
    }
}

/// The push workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushSettings {
    /// Concurrent pushes of this instance; 0 = this instance does not push (another does).
    pub workers: usize,
    /// How often workers look for due pushes without a notification, milliseconds.
    pub poll_interval_ms: u64,
    /// First delay between in-place retries, milliseconds.
    pub retry_min_delay_ms: u64,
    /// Longest delay between in-place retries, milliseconds.
    pub retry_max_delay_ms: u64,
    /// In-place retries after the first attempt.
    pub retry_max_times: usize,
    /// Delay before a push without an answer is tried again, milliseconds (doubles per round).
    pub requeue_delay_ms: u64,
    /// Longest such delay, milliseconds.
    pub max_requeue_delay_ms: u64,
    /// How long a claimed push stays its worker's, milliseconds, renewed at every attempt: a
    /// push whose worker died is sent again by another after this long. Must exceed
    /// `service.national.request_timeout_ms` + `retry_max_delay_ms`.
    pub lease_ms: u64,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            workers: 4,
            poll_interval_ms: 2_000,
            retry_min_delay_ms: 500,
            retry_max_delay_ms: 30_000,
            retry_max_times: 5,
            requeue_delay_ms: 60_000,
            max_requeue_delay_ms: 3_600_000,
            lease_ms: 60_000,
        }
    }
}

impl PushSettings {
    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(self.retry_min_delay_ms),
            max_delay: Duration::from_millis(self.retry_max_delay_ms),
            max_retries: self.retry_max_times,
            requeue_delay: Duration::from_millis(self.requeue_delay_ms),
            max_requeue_delay: Duration::from_millis(self.max_requeue_delay_ms),
            lease: Duration::from_millis(self.lease_ms),
        }
    }
}

/// The scheduled sync.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Seconds between looks; 0 (the default) turns the scheduled sync off.
    pub interval_secs: u64,
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        NationalSet::builtin(&self.framework)
            .map_err(|e| ConfigError::invalid("service.framework", e.to_string()))?;
        let national = &self.national;
        if let Some(endpoint) = &national.endpoint {
            let https = endpoint.starts_with("https://");
            let http = endpoint.starts_with("http://");
            if !(https || http && national.allow_plain_http) {
                return Err(ConfigError::invalid(
                    "service.national.endpoint",
                    "must start with https:// (http:// only with service.national.allow_plain_http)",
                ));
            }
        }
        if let Some(path) = national.ca_file.as_ref().filter(|path| !path.is_file()) {
            return Err(ConfigError::invalid(
                "service.national.ca_file",
                format!("{} is not a readable file", path.display()),
            ));
        }
        if national.province_code.trim().is_empty() {
            return Err(ConfigError::invalid(
                "service.national.province_code",
                "must not be empty",
            ));
        }
        for (field, value) in [
            (
                "service.national.request_timeout_ms",
                national.request_timeout_ms,
            ),
            (
                "service.national.connect_timeout_ms",
                national.connect_timeout_ms,
            ),
            ("service.push.poll_interval_ms", self.push.poll_interval_ms),
            (
                "service.push.retry_min_delay_ms",
                self.push.retry_min_delay_ms,
            ),
            ("service.push.requeue_delay_ms", self.push.requeue_delay_ms),
        ] {
            at_least_one(field, value)?;
        }
        let push = &self.push;
        if push.workers > 64 {
            return Err(ConfigError::invalid(
                "service.push.workers",
                "must be at most 64",
            ));
        }
        if push.retry_max_delay_ms < push.retry_min_delay_ms {
            return Err(ConfigError::invalid(
                "service.push.retry_max_delay_ms",
                "must be at least service.push.retry_min_delay_ms",
            ));
        }
        if push.max_requeue_delay_ms < push.requeue_delay_ms {
            return Err(ConfigError::invalid(
                "service.push.max_requeue_delay_ms",
                "must be at least service.push.requeue_delay_ms",
            ));
        }
        let one_attempt = national
            .request_timeout_ms
            .saturating_add(push.retry_max_delay_ms);
        if push.lease_ms <= one_attempt {
            return Err(ConfigError::invalid(
                "service.push.lease_ms",
                format!(
                    "must exceed service.national.request_timeout_ms + \
                     service.push.retry_max_delay_ms ({one_attempt}): a lease outlasts one \
                     attempt and the delay before the next"
                ),
            ));
        }
        if push.retry_max_times > 20 {
            return Err(ConfigError::invalid(
                "service.push.retry_max_times",
                "must be at most 20",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_push_nothing_without_an_endpoint() {
        let settings = Settings::default();
        assert!(settings.validate().is_ok());
        assert!(settings.national.http().is_none());
        assert_eq!(
            settings.schedule.interval_secs, 0,
            "the scheduled sync is off by default"
        );
    }

    #[test]
    fn plain_http_needs_an_explicit_allowance() {
        let mut settings = Settings::default();
        settings.national.endpoint = Some("http://127.0.0.1:9".into());
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.national.endpoint"), "{error}");
        settings.national.allow_plain_http = true;
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn bad_values_name_their_field() {
        let settings = Settings {
            framework: "hcm-2023-district".into(),
            ..Settings::default()
        };
        assert!(settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("service.framework"));
        let mut settings = Settings::default();
        settings.push.retry_max_delay_ms = 1;
        assert!(settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("retry_max_delay_ms"));
        let mut settings = Settings::default();
        settings.push.lease_ms = 40_000;
        let error = settings.validate().unwrap_err().to_string();
        assert!(
            error.contains("service.push.lease_ms") && error.contains("(40000)"),
            "{error}"
        );
        let mut settings = Settings::default();
        settings.national.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("ca_file"));
    }
}
