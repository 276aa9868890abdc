//! The public results site: the DTI results the city has published, as web pages rendered on
//! the server — per year and cohort the ranking, per unit its scorecard with the one-line
//! explanation of every score, movement against the previous year, the revision history with
//! each correction's reason — with SVG charts, CSV and .xlsx tables, and each revision's
//! snapshot byte-exact with its content hash. No login; Vietnamese by default, English on
//! request.
//!
//! It reads published revisions only, through the verification service's
//! `PublicationService` (as a `public_reader`, the role that reads published results and
//! nothing else), and the unit registry in force through the submission service's
//! `RegistryService`, never another service's tables. Modules:
//! - [`config`]: the site's settings;
//! - [`source`]: the `PublicationService` and `RegistryService` clients (protobuf types stop
//!   there);
//! - [`units`]: the unit registry in force, read again on a timer;
//! - [`snapshot`]: a published revision checked against its hash, and its typed content;
//! - [`publications`]: the in-memory cache of revisions and of each round's revision list;
//! - [`results`]: rankings, scorecards, medians, min-max ranges and movement;
//! - [`i18n`]: the page's language, and its texts from the platform's catalogues;
//! - [`pages`], [`charts`], [`downloads`]: HTML, SVG, CSV and .xlsx;
//! - [`routes`]: the router, query checks, ETags;
//! - [`error`]: refusals and their HTTP status.

#![warn(missing_docs)]

pub mod charts;
pub mod config;
pub mod downloads;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod publications;
pub mod results;
pub mod routes;
pub mod signing;
pub mod snapshot;
pub mod source;
pub mod units;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dti_config::ServiceConfig;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;

/// The site built: its kit and the address its HTTP listener is bound to.
#[derive(Debug)]
pub struct BuiltSite {
    /// The kit, ready to serve (the HTTP listener already serves).
    pub kit: ServiceKit,
    /// Where the pages are served.
    pub http_addr: SocketAddr,
}

/// Builds the site on the kit and returns it ready to serve.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    Ok(build_site(config).await?.kit)
}

/// Builds the site and also returns its HTTP address.
pub async fn build_site(config: &ServiceConfig<Settings>) -> Result<BuiltSite, StartError> {
    let settings = &config.service;
    let timeout = Duration::from_secs(settings.request_timeout_secs);
    let reader = Arc::new(
        source::Reader::new(settings.reader_token.clone(), &config.auth)
            .map_err(StartError::step("setting up the site's credentials"))?,
    );
    let source = source::PublicationSource::new(
        &settings.verification_endpoint,
        settings.verification_ca_file.as_deref(),
        timeout,
        Arc::clone(&reader),
    )
    .map_err(StartError::step("setting up the verification client"))?;
    let registry_source = settings
        .submission_endpoint
        .as_deref()
        .map(|endpoint| {
            source::RegistrySource::new(
                endpoint,
                settings.submission_ca_file.as_deref(),
                timeout,
                reader,
            )
        })
        .transpose()
        .map_err(StartError::step("setting up the submission client"))?;
    let site = Arc::new(routes::Site {
        publications: publications::Publications::new(
            source,
            Duration::from_millis(settings.latest_check_interval_ms),
            settings.cached_revisions,
        ),
        catalog: dti_service_kit::frameworks::framework_catalog(&settings.framework_dir)?,
        registry: units::SiteRegistry::shipped()?,
        signer: settings
            .signing_key_path
            .as_deref()
            .map(signing::SnapshotSigner::from_pem_file)
            .transpose()
            .map_err(StartError::step("loading the snapshot signing key"))?,
    });
    let kit = ServiceKit::builder("results-site", config).build().await?;
    if let Some(registry_source) = registry_source {
        let registry_source = Arc::new(registry_source);
        let reading = Arc::clone(&site);
        kit.spawn_periodic(
            "registry-refresh",
            Duration::from_secs(settings.registry_check_interval_secs),
            FirstRun::Immediately,
            move || {
                let site = Arc::clone(&reading);
                let registry_source = Arc::clone(&registry_source);
                async move {
                    site.registry.refresh(&registry_source).await?;
                    site.add_stored_frameworks(&registry_source).await
                }
            },
        );
    }
    let http_addr = kit
        .serve_http(
            settings.http_listen_addr,
            &settings.http_tls,
            routes::router(site),
            "results site listening",
        )
        .await?;
    Ok(BuiltSite { kit, http_addr })
}
