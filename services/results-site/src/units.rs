//! The unit registry the pages name units and follow lineage with: the one shipped with the
//! platform until the revision in force has been read from the submission service
//! (`service.submission_endpoint`), then that revision, read again every
//! `service.registry_check_interval_secs` — so a unit an operator adds or renames shows on the
//! site without a restart. The revision in use is exported as `dti_unit_registry_revision`.

use std::sync::{Arc, RwLock};

use dti_domain::{UnitRegistry, UnitRegistryError};

use crate::source::{RegistrySource, SourceError};

/// The registry in force, with its revision (`None`: the shipped one).
#[derive(Debug)]
pub struct SiteRegistry {
    current: RwLock<(Option<i64>, Arc<UnitRegistry>)>,
}

impl SiteRegistry {
    /// The registry shipped with the platform.
    pub fn shipped() -> Result<Self, UnitRegistryError> {
        Ok(Self {
            current: RwLock::new((None, Arc::new(UnitRegistry::builtin()?))),
        })
    }

    /// The registry to render with now, and its tag for the validators of the answers that
    /// name units (a renamed unit changes the page, so its ETag too): read together, so an
    /// answer never pairs one revision's names with another's tag.
    pub fn in_force(&self) -> (String, Arc<UnitRegistry>) {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        let tag = match current.0 {
            Some(revision) => format!("registry-{revision}"),
            None => "registry-shipped".to_owned(),
        };
        (tag, Arc::clone(&current.1))
    }

    /// Reads the revision in force from `source` and puts it in force when it is another one.
    /// A revision that does not parse is an error and leaves the registry in force.
    pub async fn refresh(&self, source: &RegistrySource) -> Result<(), SourceError> {
        let in_force = source.in_force().await?;
        let known = self.current.read().unwrap_or_else(|e| e.into_inner()).0;
        if known == Some(in_force.revision) {
            return Ok(());
        }
        let registry = UnitRegistry::parse(
            &format!("revision {}", in_force.revision),
            &in_force.document,
        )
        .map_err(|error| SourceError::Unavailable(error.to_string()))?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            (Some(in_force.revision), Arc::new(registry));
        dti_service_kit::registry::export_revision(in_force.revision);
        tracing::info!(revision = in_force.revision, "unit registry loaded");
        Ok(())
    }
}
