//! Pieces of the services' own `[service]` settings that several services share: the
//! `framework_dir` setting and the checks their validations repeat.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{ConfigError, Validate};

/// Field path of the [`FrameworkDir`] setting in every service's configuration.
pub const FRAMEWORK_DIR_FIELD: &str = "service.framework_dir";

/// The `framework_dir` setting (`service.framework_dir`, e.g.
/// `DTI_SUBMISSION_SERVICE__FRAMEWORK_DIR`): a directory of extra framework files (`*.toml`)
/// added to the built-in ones; unset means the built-in frameworks only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct FrameworkDir(pub Option<PathBuf>);

impl FrameworkDir {
    /// The directory, when one is set.
    pub fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
}

impl Validate for FrameworkDir {
    /// A directory that is set must exist.
    fn validate(&self) -> Result<(), ConfigError> {
        match self.path() {
            Some(dir) if !dir.is_dir() => Err(ConfigError::invalid(
                FRAMEWORK_DIR_FIELD,
                format!("{} is not a directory", dir.display()),
            )),
            _ => Ok(()),
        }
    }
}

/// Fails with `field` "must be at least 1" when `value` is below 1 (a count, size or interval
/// that may not be zero).
pub fn at_least_one<T: PartialOrd + From<u8>>(field: &str, value: T) -> Result<(), ConfigError> {
    if value < T::from(1) {
        return Err(ConfigError::invalid(field, "must be at least 1"));
    }
    Ok(())
}

/// Checks that each named field of a `[service]` settings value is at least 1 ([`at_least_one`]),
/// naming each by its path `service.<field>`; the first below 1 is the error.
///
/// ```
/// # use dti_config::{settings_at_least_one, ConfigError};
/// struct Settings { workers: u32, interval_secs: u64 }
/// let settings = Settings { workers: 4, interval_secs: 0 };
/// let check = || -> Result<(), ConfigError> {
///     settings_at_least_one!(settings, workers, interval_secs);
///     Ok(())
/// };
/// assert!(check().unwrap_err().to_string().contains("service.interval_secs"));
/// ```
#[macro_export]
macro_rules! settings_at_least_one {
    ($settings:ident, $($field:ident),+ $(,)?) => {
        $(
            $crate::at_least_one(concat!("service.", stringify!($field)), $settings.$field)?;
        )+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framework_dir_must_be_a_directory_when_set() {
        assert!(FrameworkDir::default().validate().is_ok());
        let here = FrameworkDir(Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))));
        assert!(here.validate().is_ok());
        let missing = FrameworkDir(Some(PathBuf::from("/nonexistent/frameworks")));
        let error = missing.validate().unwrap_err().to_string();
        assert!(error.contains(FRAMEWORK_DIR_FIELD), "{error}");
        assert!(error.contains("is not a directory"), "{error}");
    }

    #[test]
    fn zero_is_refused_naming_the_field_for_every_integer_type() {
        assert!(at_least_one("service.a", 1_u64).is_ok());
        assert!(at_least_one("service.b", 5_usize).is_ok());
        for error in [
            at_least_one("service.a", 0_u64),
            at_least_one("service.a", 0_usize),
            at_least_one("service.a", 0_u32),
            at_least_one("service.a", -3_i64),
        ] {
            let error = error.unwrap_err().to_string();
            assert!(error.contains("service.a"), "{error}");
            assert!(error.contains("must be at least 1"), "{error}");
        }
    }

    struct Intervals {
        reconcile_secs: u64,
        max_deliver: i64,
        batch: usize,
    }

    fn check(settings: &Intervals) -> Result<(), ConfigError> {
        settings_at_least_one!(settings, reconcile_secs, max_deliver, batch);
        Ok(())
    }

    #[test]
    fn the_settings_check_names_the_first_field_below_one_by_its_path() {
        let valid = Intervals {
            reconcile_secs: 15,
            max_deliver: 1,
            batch: 256,
        };
        assert!(check(&valid).is_ok());
        for (settings, field) in [
            (
                Intervals {
                    max_deliver: 0,
                    batch: 0,
                    ..valid
                },
                "service.max_deliver",
            ),
            (Intervals { batch: 0, ..valid }, "service.batch"),
            (
                Intervals {
                    reconcile_secs: 0,
                    ..valid
                },
                "service.reconcile_secs",
            ),
        ] {
            let error = check(&settings).unwrap_err().to_string();
            assert!(error.contains(&format!("`{field}`")), "{error}");
            assert!(error.contains("must be at least 1"), "{error}");
        }
    }
}
