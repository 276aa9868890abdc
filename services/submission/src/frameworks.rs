//! Frameworks as operators store them (`RegistryService.AddFramework` and `ListFrameworks`): a
//! framework file is checked as every framework file is (docs/frameworks.md), stored in
//! `stored_frameworks` with its content hash and announced by `framework.added.v1` from the
//! outbox, in the storing transaction; every service adds it to its catalogue on that event.
//!
//! A framework id names one content for good: the same framework stored again stores nothing
//! (a safe retry), and other content under a known id — built in, from the framework
//! directory, or stored — is refused, so a round, which pins its framework's content hash when
//! it opens, is never scored by rules other than those it was opened with.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dti_auth::Principal;
use dti_bus::outbox::{self, OutboxMessage};
use dti_db::PgPool;
use dti_domain::framework::{content_hash, is_builtin};
use dti_domain::{Framework, FrameworkCatalog, FrameworkError};
use dti_i18n::Message;
use dti_proto::dti::events::v1::FrameworkAdded;
use dti_service_kit::frameworks::{self, FrameworkCache, StoredFramework, ADDED_EVENT};
use prost::Message as _;

use crate::access::require_operator;
use crate::registry::file_refusal;
use crate::SubmissionError;

/// The request field that carries the file.
const DOCUMENT_FIELD: &str = "document_toml";

/// Where a known framework comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Shipped with the platform.
    BuiltIn,
    /// A file of this service's framework directory.
    Directory,
    /// Stored by an operator.
    Stored,
}

/// What storing a framework did.
#[derive(Debug, Clone)]
pub struct Added {
    /// The framework.
    pub framework: Arc<Framework>,
    /// Its content hash.
    pub content_hash: String,
    /// Whether it was stored (false: the same framework was already known).
    pub changed: bool,
}

/// One known framework, as listed.
#[derive(Debug, Clone)]
pub struct Known {
    /// The framework.
    pub framework: Arc<Framework>,
    /// Its content hash.
    pub content_hash: String,
    /// Where it comes from.
    pub origin: Origin,
    /// For a stored one, how it was stored.
    pub stored: Option<StoredFramework>,
    /// Rounds opened with it, `year/framework`.
    pub pinned_by: Vec<String>,
}

/// The stored frameworks and this service's catalogue.
#[derive(Debug, Clone)]
pub struct Frameworks {
    pool: PgPool,
    cache: FrameworkCache,
    nats_prefix: String,
}

impl Frameworks {
    /// The frameworks of `pool`, added to `cache`'s catalogue.
    pub fn new(pool: PgPool, cache: FrameworkCache, nats_prefix: String) -> Self {
        Self {
            pool,
            cache,
            nats_prefix,
        }
    }

    /// This service's catalogue and the stored frameworks loaded into it.
    pub fn cache(&self) -> &FrameworkCache {
        &self.cache
    }

    /// Stores `document` (as an operator) as the module says.
    pub async fn add(
        &self,
        actor: &Principal,
        document: &str,
        reason: &str,
    ) -> Result<Added, SubmissionError> {
        require_operator(actor)?;
        // Loaded first: the file may include from a framework another replica has just stored.
        self.cache
            .refresh()
            .await
            .map_err(|error| SubmissionError::not_now(error.to_string()))?;
        let catalog = self.cache.catalog();
        let framework = catalog.parse(DOCUMENT_FIELD, document).map_err(refusal)?;
        let hash = content_hash(&framework);
        if let Some(answer) = already_known(&catalog, &framework, &hash) {
            return answer;
        }
        let added_at = Utc::now();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(SubmissionError::database("beginning a transaction"))?;
        let stored: Option<(String,)> = sqlx::query_as(
            "INSERT INTO stored_frameworks (framework, content_hash, document, added_by, \
             added_at, reason) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (framework) DO NOTHING RETURNING framework",
        )
        .bind(framework.id.as_str())
        .bind(&hash)
        .bind(document)
        .bind(&actor.subject)
        .bind(added_at)
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await
        .map_err(SubmissionError::database("storing a framework"))?;
        if stored.is_none() {
            // Stored meanwhile through another replica: answered from what is stored.
            drop(tx);
            self.cache
                .refresh()
                .await
                .map_err(|error| SubmissionError::not_now(error.to_string()))?;
            return already_known(&catalog, &framework, &hash).unwrap_or_else(|| {
                Err(SubmissionError::not_now(format!(
                    "framework {} is being stored",
                    framework.id
                )))
            });
        }
        let event = FrameworkAdded {
            framework_id: framework.id.to_string(),
            content_hash: hash.clone(),
            added_by: actor.subject.clone(),
            added_at: Some(dti_proto::convert::timestamp(added_at)),
        };
        let message = OutboxMessage::new(
            dti_bus::stream::subject(&self.nats_prefix, ADDED_EVENT),
            format!("framework/{}", framework.id),
            event.encode_to_vec(),
        );
        outbox::enqueue(&mut tx, &message).await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a stored framework"))?;
        self.cache
            .refresh()
            .await
            .map_err(|error| SubmissionError::not_now(error.to_string()))?;
        tracing::info!(framework = %framework.id, by = %actor.subject, "framework stored");
        let framework = catalog
            .get(&framework.id)
            .cloned()
            .unwrap_or_else(|| Arc::new(framework));
        Ok(Added {
            framework,
            content_hash: hash,
            changed: true,
        })
    }

    /// Every known framework, by id (any authenticated caller: frameworks are public), with a
    /// stored one's file only when `with_documents`.
    pub async fn list(
        &self,
        _actor: &Principal,
        with_documents: bool,
    ) -> Result<Vec<Known>, SubmissionError> {
        self.cache
            .refresh()
            .await
            .map_err(|error| SubmissionError::not_now(error.to_string()))?;
        let stored: BTreeMap<String, StoredFramework> =
            frameworks::stored_listing(&self.pool, with_documents)
                .await
                .map_err(SubmissionError::database("reading the stored frameworks"))?
                .into_iter()
                .map(|stored| (stored.framework.clone(), stored))
                .collect();
        let pins: Vec<(String, i16)> = sqlx::query_as(
            "SELECT framework, year FROM rounds WHERE framework_hash IS NOT NULL \
             ORDER BY framework, year",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database("reading the rounds' frameworks"))?;
        let mut pinned: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (framework, year) in pins {
            pinned
                .entry(framework.clone())
                .or_default()
                .push(format!("{year}/{framework}"));
        }
        let catalog = self.cache.catalog();
        Ok(catalog
            .iter()
            .map(|framework| {
                let id = framework.id.to_string();
                let stored = stored.get(&id).cloned();
                let origin = match (&stored, is_builtin(&id)) {
                    (_, true) => Origin::BuiltIn,
                    (Some(_), false) => Origin::Stored,
                    (None, false) => Origin::Directory,
                };
                Known {
                    framework: Arc::clone(framework),
                    content_hash: catalog
                        .hash_of(&framework.id)
                        .unwrap_or_else(|| content_hash(framework)),
                    origin,
                    stored: stored.filter(|_| origin == Origin::Stored),
                    pinned_by: pinned.remove(&id).unwrap_or_default(),
                }
            })
            .collect())
    }
}

/// When a stored framework was added, for the answer.
pub fn added_at(known: &Known) -> Option<DateTime<Utc>> {
    known.stored.as_ref().map(|stored| stored.added_at)
}

/// What adding `framework` (of content `hash`) is when `catalog` already holds a framework under
/// its id: done already when the content is the same; refused, naming the id and the hash in
/// force, when not. `None` when the id is new to `catalog`.
fn already_known(
    catalog: &FrameworkCatalog,
    framework: &Framework,
    hash: &str,
) -> Option<Result<Added, SubmissionError>> {
    let known = catalog.get(&framework.id)?;
    let known_hash = catalog.hash_of(&framework.id)?;
    if known_hash == hash {
        return Some(Ok(Added {
            framework: Arc::clone(known),
            content_hash: known_hash,
            changed: false,
        }));
    }
    Some(Err(SubmissionError::not_now(
        Message::new("framework-other-content")
            .arg("framework", framework.id.to_string())
            .arg("hash", known_hash)
            .into(),
    )))
}

/// A framework file's problems as one refusal, a violation each.
fn refusal(error: FrameworkError) -> SubmissionError {
    file_refusal(
        "framework-invalid",
        error.problems.iter().map(ToString::to_string),
    )
}
