//! The unit registry as operators change it (`RegistryService`): the revision in force, an
//! import of a checked registry file as the next revision (announced by `registry.changed.v1`
//! from the outbox, in the import's transaction), and the seed stored at the first start.
//!
//! An import is checked whole before anything is stored: the file itself
//! ([`UnitRegistry::parse`]: ids, cohorts, lineage), its cohorts and owners against the
//! framework catalogue, and that every unit a round already holds is still one that round may
//! assess: in the registry (a unit is ended with `active_until`, never removed), of the kind its
//! framework assesses and active in its year. Every problem is named; nothing is stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use dti_auth::{Principal, Role};
use dti_bus::outbox::{self, OutboxMessage};
use dti_db::PgPool;
use dti_domain::{FrameworkCatalog, FrameworkId, UnitId, UnitRegistry, UnitRegistryError};
use dti_i18n::Message;
use dti_proto::dti::events::v1::RegistryChanged;
use dti_service_kit::registry::{self, RegistryCache, StoredRevision, CHANGED_EVENT};
use dti_service_kit::status::{FieldViolation, InvalidRequest};
use prost::Message as _;

use crate::SubmissionError;

/// Who stored the first revision.
pub const SEED_AUTHOR: &str = "seed";

/// The request field that carries the file.
const DOCUMENT_FIELD: &str = "document_toml";

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The revision in force afterwards.
    pub revision: i64,
    /// Whether a revision was stored (false: the file equals the one in force).
    pub changed: bool,
    /// The registry in force afterwards.
    pub registry: Arc<UnitRegistry>,
}

/// The registry's revisions in the database, and this service's cache of the one in force.
#[derive(Debug, Clone)]
pub struct Registry {
    pool: PgPool,
    catalog: Arc<FrameworkCatalog>,
    cache: RegistryCache,
    nats_prefix: String,
}

impl Registry {
    /// The registry of `pool`, cached in `cache`.
    pub fn new(
        pool: PgPool,
        catalog: Arc<FrameworkCatalog>,
        cache: RegistryCache,
        nats_prefix: String,
    ) -> Self {
        Self {
            pool,
            catalog,
            cache,
            nats_prefix,
        }
    }

    /// Stores `seed` (the registry file of the first start) as revision 1 when no revision is
    /// stored yet, and loads the revision in force. Safe to run on every start, by every
    /// replica at once.
    pub async fn store_seed(&self, seed: &str) -> Result<(), SubmissionError> {
        self.check(seed)?;
        sqlx::query(
            "INSERT INTO registry_revisions (revision, document, changed_by, reason) \
             VALUES (1, $1, $2, 'the registry file of the first start') \
             ON CONFLICT (revision) DO NOTHING",
        )
        .bind(seed)
        .bind(SEED_AUTHOR)
        .execute(&self.pool)
        .await
        .map_err(SubmissionError::database("storing the seed unit registry"))?;
        self.cache
            .refresh()
            .await
            .map_err(|error| SubmissionError::not_now(error.to_string()))?;
        Ok(())
    }

    /// The revision in force. Every authenticated caller may read it: it holds names and
    /// cohorts, which are public.
    pub async fn export(&self, _actor: &Principal) -> Result<StoredRevision, SubmissionError> {
        match registry::newest(&self.pool)
            .await
            .map_err(SubmissionError::database("reading the unit registry"))?
        {
            Some(stored) => Ok(stored),
            None => Ok(StoredRevision {
                revision: 0,
                document: dti_domain::units::BUILTIN_FILE.1.to_owned(),
                changed_by: SEED_AUTHOR.to_owned(),
                changed_at: Utc::now(),
                reason: String::new(),
            }),
        }
    }

    /// Puts `document` in force as the next revision (as an operator), refusing it — naming
    /// every problem and storing nothing — as the module says; refused as out of date when
    /// `expected` is set and another revision is in force. The file in force imported again
    /// stores nothing and succeeds (a retry of the import that stored it).
    pub async fn import(
        &self,
        actor: &Principal,
        document: &str,
        expected: Option<i64>,
        reason: &str,
    ) -> Result<Imported, SubmissionError> {
        if actor.role != Role::Operator {
            return Err(SubmissionError::permission_denied(
                Message::new("registry-operator-only")
                    .arg("role", actor.role.to_string())
                    .into(),
            ));
        }
        let registry = self.check(document)?;
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(SubmissionError::database("beginning a transaction"))?;
        // One import at a time; readers are not blocked.
        sqlx::query("LOCK TABLE registry_revisions IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(SubmissionError::database("locking the unit registry"))?;
        let (current, in_force) = match sqlx::query_as::<_, (i64, String)>(
            "SELECT revision, document FROM registry_revisions ORDER BY revision DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(SubmissionError::database("reading the unit registry"))?
        {
            Some(row) => row,
            None => (0, dti_domain::units::BUILTIN_FILE.1.to_owned()),
        };
        // The file in force again is a retry of the import that stored it: answered as done,
        // whatever revision it was edited from.
        let unchanged = UnitRegistry::parse("in force", &in_force)
            .is_ok_and(|in_force| in_force.to_toml() == registry.to_toml());
        if unchanged {
            let registry = Arc::new(registry);
            self.cache.install(current, Arc::clone(&registry));
            return Ok(Imported {
                revision: current,
                changed: false,
                registry,
            });
        }
        if let Some(expected) = expected.filter(|expected| *expected != current) {
            return Err(SubmissionError::not_now(
                Message::new("registry-revision-moved")
                    .arg("current", current.to_string())
                    .arg("expected", expected.to_string())
                    .into(),
            ));
        }
        self.check_rounds_keep_their_units(&mut tx, &registry)
            .await?;
        let revision = current + 1;
        let changed_at = Utc::now();
        sqlx::query(
            "INSERT INTO registry_revisions (revision, document, changed_by, changed_at, reason) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(revision)
        .bind(document)
        .bind(&actor.subject)
        .bind(changed_at)
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(SubmissionError::database(
            "storing a unit registry revision",
        ))?;
        let event = RegistryChanged {
            revision,
            changed_by: actor.subject.clone(),
            changed_at: Some(dti_proto::convert::timestamp(changed_at)),
        };
        let message = OutboxMessage::new(
            dti_bus::stream::subject(&self.nats_prefix, CHANGED_EVENT),
            format!("registry/{revision}"),
            event.encode_to_vec(),
        );
        outbox::enqueue(&mut tx, &message).await?;
        tx.commit().await.map_err(SubmissionError::database(
            "committing a unit registry revision",
        ))?;
        let registry = Arc::new(registry);
        self.cache.install(revision, Arc::clone(&registry));
        tracing::info!(revision, by = %actor.subject, "unit registry revision stored");
        Ok(Imported {
            revision,
            changed: true,
            registry,
        })
    }

    /// The file parsed and checked against the framework catalogue.
    fn check(&self, document: &str) -> Result<UnitRegistry, SubmissionError> {
        let registry = UnitRegistry::parse(DOCUMENT_FIELD, document).map_err(refusal)?;
        let problems = registry.check_against(&self.catalog);
        if !problems.is_empty() {
            return Err(refusal(UnitRegistryError {
                file: DOCUMENT_FIELD.to_owned(),
                problems,
            }));
        }
        Ok(registry)
    }

    /// Refuses a registry in which a unit some round holds is no longer one that round may
    /// assess: removed (named once, with every round that holds it), of another kind than the
    /// round's framework assesses, or not active in the round's year.
    async fn check_rounds_keep_their_units(
        &self,
        tx: &mut dti_db::PgTransaction,
        registry: &UnitRegistry,
    ) -> Result<(), SubmissionError> {
        let held: Vec<(i16, String, String)> = sqlx::query_as(
            "SELECT year, framework, unit_id FROM round_units ORDER BY unit_id, year, framework",
        )
        .fetch_all(&mut **tx)
        .await
        .map_err(SubmissionError::database("reading the rounds' units"))?;
        let mut removed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut violations = Vec::new();
        for (year, framework, unit) in held {
            let round = format!("{year}/{framework}");
            let Ok(id) = UnitId::parse(unit.clone()) else {
                continue;
            };
            if registry.unit(&id).is_none() {
                removed.entry(unit).or_default().push(round);
                continue;
            }
            let assessed = FrameworkId::parse(framework)
                .ok()
                .and_then(|framework| self.catalog.get(&framework))
                .map(|framework| framework.unit_kind);
            let (Some(kind), Ok(year)) = (assessed, u16::try_from(year)) else {
                continue;
            };
            if let Err(refusal) = registry.member(&id, kind, year) {
                violations.push(FieldViolation::new(
                    DOCUMENT_FIELD,
                    Message::new("registry-round-member")
                        .arg("round", round)
                        .arg("unit", unit)
                        .arg("reason", refusal.message()),
                ));
            }
        }
        violations.extend(removed.into_iter().map(|(unit, rounds)| {
            FieldViolation::new(
                DOCUMENT_FIELD,
                Message::new("registry-unit-in-round")
                    .arg("unit", unit)
                    .arg("rounds", rounds.join(", ")),
            )
        }));
        if violations.is_empty() {
            return Ok(());
        }
        Err(SubmissionError::from(InvalidRequest {
            summary: Message::new("registry-invalid").into(),
            violations,
        }))
    }
}

/// A registry file's problems as one refusal, a violation each.
fn refusal(error: UnitRegistryError) -> SubmissionError {
    file_refusal("registry-invalid", error.problems)
}

/// The problems of a file sent in `document_toml` as one refusal (`summary`, a message key),
/// a violation each.
pub(crate) fn file_refusal(
    summary: &'static str,
    problems: impl IntoIterator<Item = String>,
) -> SubmissionError {
    SubmissionError::from(InvalidRequest {
        summary: Message::new(summary).into(),
        violations: problems
            .into_iter()
            .map(|problem| {
                FieldViolation::new(
                    DOCUMENT_FIELD,
                    Message::new("registry-problem").arg("problem", problem),
                )
            })
            .collect(),
    })
}
