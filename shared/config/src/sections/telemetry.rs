//! The logs and trace export section (`[telemetry]`).

use serde::Deserialize;

use crate::{ConfigError, Validate};

/// Format of log lines on standard output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable multi-line output, for development.
    #[default]
    Pretty,
}

/// Logs and trace export settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector endpoint, e.g. `http://127.0.0.1:4317`; unset means spans are not
    /// exported (trace context is still propagated).
    pub otlp_endpoint: Option<String>,
    /// Format of log lines.
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,dti_bus=debug`; `RUST_LOG` overrides it.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            log_format: LogFormat::Pretty,
            log_filter: "info".to_owned(),
        }
    }
}

impl Validate for TelemetryConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(endpoint) = &self.otlp_endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "telemetry.otlp_endpoint",
                    "must start with http:// or https://",
                ));
            }
        }
        if self.log_filter.trim().is_empty() {
            return Err(ConfigError::invalid(
                "telemetry.log_filter",
                "must not be empty",
            ));
        }
        Ok(())
    }
}
