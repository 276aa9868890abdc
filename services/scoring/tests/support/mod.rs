//! Shared set-up of the scoring service's tests: a service on its own database, NATS prefix and
//! Redis prefix; rounds, submissions and verifier decisions written the way their owning
//! services write them (rows and the event in one transaction, published by the outbox relay);
//! and the scores `dtictl score` computes from the same inputs.

#![allow(dead_code, reason = "each test file uses part of the support module")]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use dti_auth::Role;
use dti_bus::outbox::{self, OutboxMessage};
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::values::decode_cohort;
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef};
use dti_engine::{score_cohort, Explain};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::events::v1::{SubmissionSubmitted, VerifiedValuesChanged};
use dti_proto::dti::scoring::v1::scoring_service_client::ScoringServiceClient;
use dti_proto::dti::scoring::v1::{Basis, GetScorecardRequest, Scorecard};
use dti_scoring::Settings;
use dti_service_kit::RunningService;
use dti_testkit::{with_auth, Poll, TestBackends};
use prost::Message;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

/// One unit's self-assessment as the contract's JSON: indicator code → variables, and the
/// indicators it declares not applicable.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSubmission {
    pub unit: String,
    pub values: Map<String, Value>,
    pub not_applicable: Vec<String>,
}

/// A verifier decision on one indicator.
#[derive(Debug, Clone)]
pub enum Decision {
    Accepted,
    Overridden(Value),
    OverriddenNotApplicable,
    EvidenceInsufficient,
}

/// A scoring service under test and its backends.
pub struct ScoringEnv {
    pub backends: TestBackends,
    pub running: Option<RunningService>,
    pub settings: Settings,
}

impl ScoringEnv {
    /// Fresh backends and the service started on them.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        let backends = TestBackends::create().await?;
        let mut env = Self {
            backends,
            running: None,
            settings,
        };
        env.restart().await?;
        Ok(env)
    }

    /// Fresh backends without a service yet.
    pub async fn backends_only(settings: Settings) -> anyhow::Result<Self> {
        Ok(Self {
            backends: TestBackends::create().await?,
            running: None,
            settings,
        })
    }

    /// Stops the service (if running) and starts it again on the same configuration.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.stop().await?;
        }
        let config = self.backends.service_config(self.settings.clone());
        self.running = Some(dti_scoring::build(&config).await?.spawn()?);
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        self.backends.db.pool()
    }

    pub fn prefix(&self) -> &str {
        &self.backends.nats_prefix
    }

    pub fn client(&self) -> ScoringServiceClient<Channel> {
        let running = self.running.as_ref().expect("the service is running");
        ScoringServiceClient::new(running.channel())
    }

    /// The scorecard of `unit` read by a verifier.
    pub async fn scorecard(
        &self,
        round: &RoundRef,
        unit: &str,
        basis: Basis,
    ) -> anyhow::Result<Scorecard> {
        let request = GetScorecardRequest {
            round: Some(proto_round(round)),
            unit: Some(common::UnitRef {
                unit_id: unit.to_owned(),
            }),
            basis: basis as i32,
        };
        let token = self.backends.token(Role::Verifier);
        Ok(self
            .client()
            .get_scorecard(with_auth(request, &token))
            .await?
            .into_inner())
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(running) = self.running.take() {
            running.stop().await?;
        }
        self.backends.close().await?;
        Ok(())
    }
}

pub fn round(year: u16, framework: &str) -> RoundRef {
    RoundRef {
        year,
        framework: FrameworkId::parse(framework).expect("framework id"),
    }
}

pub fn proto_round(round: &RoundRef) -> common::RoundRef {
    common::RoundRef {
        year: u32::from(round.year),
        framework: round.framework.to_string(),
    }
}

/// Creates `round` in `state` with `units` as its cohort.
pub async fn create_round(
    pool: &PgPool,
    round: &RoundRef,
    units: &[String],
    state: &str,
) -> anyhow::Result<()> {
    let year = i16::try_from(round.year)?;
    sqlx::query("INSERT INTO rounds (year, framework, state) VALUES ($1, $2, $3)")
        .bind(year)
        .bind(round.framework.as_str())
        .bind(state)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO round_units (year, framework, unit_id) SELECT $1, $2, unnest($3::text[])",
    )
    .bind(year)
    .bind(round.framework.as_str())
    .bind(units)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_round_state(pool: &PgPool, round: &RoundRef, state: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE rounds SET state = $3 WHERE year = $1 AND framework = $2")
        .bind(i16::try_from(round.year)?)
        .bind(round.framework.as_str())
        .bind(state)
        .execute(pool)
        .await?;
    Ok(())
}

/// Generated self-assessments of `count` units named `<prefix>001`, ….
pub fn sample_units(framework: &str, count: usize, seed: u64, prefix: &str) -> Vec<UnitSubmission> {
    let catalog = FrameworkCatalog::builtin().expect("built-in frameworks");
    let framework = catalog.get_str(framework).expect("framework");
    let options = SampleOptions {
        units: count,
        seed,
        unit_prefix: prefix.to_owned(),
        missing_percent: 5,
        not_applicable_percent: 5,
        ..SampleOptions::default()
    };
    let cohort = sample_cohort(framework, &options);
    cohort["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|unit| UnitSubmission {
            unit: unit["unit"].as_str().expect("unit id").to_owned(),
            values: unit["values"].as_object().expect("values").clone(),
            not_applicable: unit["not_applicable"]
                .as_array()
                .expect("not applicable")
                .iter()
                .map(|code| code.as_str().expect("code").to_owned())
                .collect(),
        })
        .collect()
}

/// A service-less environment (its reconciler would be idle for an hour) with an open 2023
/// district round of `count` sample units (`seed`, ids starting with `prefix`).
pub async fn burst_round(
    count: usize,
    seed: u64,
    prefix: &str,
) -> anyhow::Result<(ScoringEnv, RoundRef, Vec<UnitSubmission>)> {
    let env = ScoringEnv::backends_only(Settings {
        reconcile_interval_secs: 3600,
        ..Settings::default()
    })
    .await?;
    let framework = "hcm-2023-district";
    let round = round(2023, framework);
    let units = sample_units(framework, count, seed, prefix);
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();
    create_round(env.pool(), &round, &ids, "open").await?;
    Ok((env, round, units))
}

/// Gives `unit` a new value of the min-max count 5.1 (so every version changes its score).
pub fn set_min_max_count(unit: &mut UnitSubmission, a: u64) {
    unit.values.insert("5.1".into(), json!({ "a": a }));
    unit.not_applicable.retain(|code| code != "5.1");
}

/// Writes a new submitted version of `unit`'s values the way the submission service does
/// (version, values and, when `announce`, `submission.submitted.v1` in one transaction).
/// Returns the submission id and the version.
pub async fn submit(
    pool: &PgPool,
    prefix: &str,
    round: &RoundRef,
    unit: &UnitSubmission,
    announce: bool,
) -> anyhow::Result<(Uuid, i32)> {
    let year = i16::try_from(round.year)?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO submissions (id, year, framework, unit_id, state) VALUES ($1, $2, $3, $4, 'draft') \
         ON CONFLICT (year, framework, unit_id) DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(year)
    .bind(round.framework.as_str())
    .bind(&unit.unit)
    .execute(&mut *tx)
    .await?;
    let (id, latest): (Uuid, i32) = sqlx::query_as(
        "SELECT id, latest_version FROM submissions WHERE year = $1 AND framework = $2 \
         AND unit_id = $3 FOR UPDATE",
    )
    .bind(year)
    .bind(round.framework.as_str())
    .bind(&unit.unit)
    .fetch_one(&mut *tx)
    .await?;
    let version = latest + 1;
    sqlx::query(
        "INSERT INTO submission_versions (submission_id, version, client_request_id, submitted_by) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(version)
    .bind(Uuid::new_v4().to_string())
    .bind(format!("submitter-{}", unit.unit))
    .execute(&mut *tx)
    .await?;
    for (code, variables) in &unit.values {
        sqlx::query(
            "INSERT INTO submission_version_values (submission_id, version, indicator_code, variables) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(version)
        .bind(code)
        .bind(sqlx::types::Json(variables))
        .execute(&mut *tx)
        .await?;
    }
    for code in &unit.not_applicable {
        sqlx::query(
            "INSERT INTO submission_version_values \
             (submission_id, version, indicator_code, not_applicable_reason) VALUES ($1, $2, $3, 'does not apply')",
        )
        .bind(id)
        .bind(version)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE submissions SET latest_version = $2, state = 'submitted' WHERE id = $1")
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    if announce {
        let event = submitted_event(round, &unit.unit, id, version);
        let message = OutboxMessage::new(
            format!("{prefix}.submission.submitted.v1"),
            format!("submission/{id}/v{version}"),
            event.encode_to_vec(),
        );
        outbox::enqueue(&mut tx, &message).await?;
    }
    tx.commit().await?;
    Ok((id, version))
}

/// The `submission.submitted.v1` event of `unit`'s version `version` of submission `id`.
pub fn submitted_event(
    round: &RoundRef,
    unit: &str,
    id: Uuid,
    version: i32,
) -> SubmissionSubmitted {
    SubmissionSubmitted {
        submission_id: id.to_string(),
        round: Some(proto_round(round)),
        unit: Some(common::UnitRef {
            unit_id: unit.to_owned(),
        }),
        version: u32::try_from(version).expect("positive version"),
        submitted_at: None,
    }
}

/// Which submitted version decisions are about, and whether their event is written.
#[derive(Debug, Clone, Copy)]
pub struct DecidedVersion<'a> {
    pub round: &'a RoundRef,
    pub unit: &'a str,
    pub submission: (Uuid, i32),
    pub revision: u64,
    pub announce: bool,
}

/// Records verifier decisions on a version the way the verification service does (and, when
/// `announce`, `verification.values_changed.v1` in the same transaction).
pub async fn decide(
    pool: &PgPool,
    prefix: &str,
    decided: DecidedVersion<'_>,
    decisions: &[(&str, Decision)],
) -> anyhow::Result<()> {
    let DecidedVersion {
        round,
        unit,
        submission: (id, version),
        revision,
        announce,
    } = decided;
    let mut tx = pool.begin().await?;
    for (code, decision) in decisions {
        let (name, variables, not_applicable, reason) = match decision {
            Decision::Accepted => ("accepted", None, false, None),
            Decision::Overridden(values) => {
                ("overridden", Some(values.clone()), false, Some("corrected"))
            }
            Decision::OverriddenNotApplicable => ("overridden", None, true, Some("does not apply")),
            Decision::EvidenceInsufficient => {
                ("evidence_insufficient", None, false, Some("no evidence"))
            }
        };
        sqlx::query(
            "INSERT INTO verified_values (submission_id, version, indicator_code, decision, variables, \
               not_applicable, reason, decided_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 'verifier-1') \
             ON CONFLICT (submission_id, version, indicator_code) DO UPDATE SET decision = EXCLUDED.decision, \
               variables = EXCLUDED.variables, not_applicable = EXCLUDED.not_applicable, \
               reason = EXCLUDED.reason, decided_at = now()",
        )
        .bind(id)
        .bind(version)
        .bind(code)
        .bind(name)
        .bind(variables.map(sqlx::types::Json))
        .bind(not_applicable)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    }
    if announce {
        let event = VerifiedValuesChanged {
            submission_id: id.to_string(),
            round: Some(proto_round(round)),
            unit: Some(common::UnitRef {
                unit_id: unit.to_owned(),
            }),
            version: u32::try_from(version)?,
            revision,
            indicator_codes: decisions
                .iter()
                .map(|(code, _)| (*code).to_owned())
                .collect(),
            changed_at: None,
        };
        let message = OutboxMessage::new(
            format!("{prefix}.verification.values_changed.v1"),
            format!("verification/{id}/v{version}/r{revision}"),
            event.encode_to_vec(),
        );
        outbox::enqueue(&mut tx, &message).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `unit` with the decisions applied as the verified-values rules say.
pub fn verified(unit: &UnitSubmission, decisions: &[(&str, Decision)]) -> UnitSubmission {
    let mut result = unit.clone();
    for (code, decision) in decisions {
        let code = (*code).to_owned();
        match decision {
            Decision::Accepted => {}
            Decision::Overridden(values) => {
                result.not_applicable.retain(|c| *c != code);
                result.values.insert(code, values.clone());
            }
            Decision::OverriddenNotApplicable => {
                result.values.remove(&code);
                if !result.not_applicable.contains(&code) {
                    result.not_applicable.push(code);
                }
            }
            Decision::EvidenceInsufficient => {
                result.values.remove(&code);
                result.not_applicable.retain(|c| *c != code);
            }
        }
    }
    result
}

/// What `dtictl score` prints for one unit: indicator and group scores, total, rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedScores {
    pub indicators: BTreeMap<String, String>,
    pub groups: BTreeMap<String, String>,
    pub total: String,
    pub rank: u64,
    /// Each indicator's explanation, as the engine renders it.
    pub explanations: BTreeMap<String, Value>,
}

/// The scores `dtictl score` computes for a cohort (the contract's output), by unit: the input
/// decoded and validated with `decode_cohort` and scored with `score_cohort`, as the command does.
pub fn dtictl_scores(framework: &str, units: &[UnitSubmission]) -> HashMap<String, ExpectedScores> {
    let document = json!({
        "framework": framework,
        "units": units.iter().map(|unit| json!({
            "unit": unit.unit,
            "values": unit.values,
            "not_applicable": unit.not_applicable,
        })).collect::<Vec<_>>(),
    });
    let catalog = FrameworkCatalog::builtin().expect("built-in frameworks");
    let decoded = decode_cohort(&document.to_string(), &catalog);
    let cohort = decoded.value.expect("a valid cohort");
    let scores = score_cohort(&cohort, Explain::Full).expect("scores");
    let output = serde_json::to_value(&scores).expect("scores as JSON");
    output["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|unit| {
            let strings = |list: &Value| -> BTreeMap<String, String> {
                list.as_array()
                    .expect("list")
                    .iter()
                    .map(|item| {
                        (
                            item["code"].as_str().expect("code").to_owned(),
                            item["score"].as_str().expect("score").to_owned(),
                        )
                    })
                    .collect()
            };
            let expected = ExpectedScores {
                indicators: strings(&unit["indicators"]),
                groups: strings(&unit["groups"]),
                total: unit["total"].as_str().expect("total").to_owned(),
                rank: unit["rank"].as_u64().expect("rank"),
                explanations: unit["indicators"]
                    .as_array()
                    .expect("indicators")
                    .iter()
                    .map(|item| {
                        let code = item["code"].as_str().expect("code").to_owned();
                        (code, item["explanation"].clone())
                    })
                    .collect(),
            };
            (unit["unit"].as_str().expect("unit").to_owned(), expected)
        })
        .collect()
}

/// A scorecard's scores in the same form.
pub fn card_scores(
    card: &Scorecard,
) -> (BTreeMap<String, String>, BTreeMap<String, String>, String) {
    let indicators = card
        .indicators
        .iter()
        .map(|i| (i.indicator_code.clone(), i.score.clone()))
        .collect();
    let groups = card
        .groups
        .iter()
        .map(|g| (g.group_code.clone(), g.score.clone()))
        .collect();
    (indicators, groups, card.total.clone())
}

/// Polls `check` every 25 ms until it returns true (fails after 30 s).
pub async fn wait_until<F, Fut>(what: &str, check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let poll = Poll::new(Duration::from_secs(30), Duration::from_millis(25));
    dti_testkit::wait_until(what, poll, check).await
}

/// Waits until every unit's row on `basis` was scored from the given submitted version.
pub async fn wait_scored(
    pool: &PgPool,
    round: &RoundRef,
    basis: &str,
    versions: &[(String, i32)],
) -> anyhow::Result<()> {
    let units: Vec<&str> = versions.iter().map(|(unit, _)| unit.as_str()).collect();
    let numbers: Vec<i32> = versions.iter().map(|(_, version)| *version).collect();
    let expected = i64::try_from(versions.len())?;
    wait_until(&format!("{} units are scored on {basis}", versions.len()), || async {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM score_units s JOIN unnest($4::text[], $5::int[]) AS t(unit_id, version) \
               ON s.unit_id = t.unit_id AND s.input_version = t.version \
             WHERE s.year = $1 AND s.framework = $2 AND s.basis = $3",
        )
        .bind(i16::try_from(round.year)?)
        .bind(round.framework.as_str())
        .bind(basis)
        .bind(&units)
        .bind(&numbers)
        .fetch_one(pool)
        .await?;
        Ok(done == expected)
    })
    .await
}

/// Submits every unit's values (announced) and waits until each is scored on both bases.
/// Returns each unit's submission id and version, in the order of `units`.
pub async fn submit_all_scored(
    env: &ScoringEnv,
    round: &RoundRef,
    units: &[UnitSubmission],
) -> anyhow::Result<Vec<(Uuid, i32)>> {
    let mut submitted = Vec::new();
    for unit in units {
        submitted.push(submit(env.pool(), env.prefix(), round, unit, true).await?);
    }
    let versions: Vec<(String, i32)> = units
        .iter()
        .zip(&submitted)
        .map(|(unit, (_, version))| (unit.unit.clone(), *version))
        .collect();
    wait_scored(env.pool(), round, "self", &versions).await?;
    wait_scored(env.pool(), round, "verified", &versions).await?;
    Ok(submitted)
}

/// Submits a new version of `unit`'s values (announced) and waits until it is scored on the
/// self-assessed basis; returns the version.
pub async fn resubmit_scored(
    env: &ScoringEnv,
    round: &RoundRef,
    unit: &UnitSubmission,
) -> anyhow::Result<i32> {
    let (_, version) = submit(env.pool(), env.prefix(), round, unit, true).await?;
    wait_scored(env.pool(), round, "self", &[(unit.unit.clone(), version)]).await?;
    Ok(version)
}

/// The cohort's score version.
pub async fn cohort_version(pool: &PgPool, round: &RoundRef, basis: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT version FROM score_cohorts WHERE year = $1 AND framework = $2 AND basis = $3",
    )
    .bind(i16::try_from(round.year)?)
    .bind(round.framework.as_str())
    .bind(basis)
    .fetch_one(pool)
    .await?)
}

/// Asserts that every unit's scorecard equals what `dtictl score` computes from `inputs`.
pub async fn assert_scores_match(
    env: &ScoringEnv,
    round: &RoundRef,
    basis: Basis,
    inputs: &[UnitSubmission],
) -> anyhow::Result<()> {
    let expected = dtictl_scores(round.framework.as_str(), inputs);
    for unit in inputs {
        let card = env.scorecard(round, &unit.unit, basis).await?;
        let (indicators, groups, total) = card_scores(&card);
        let want = &expected[&unit.unit];
        assert_eq!(indicators, want.indicators, "indicators of {}", unit.unit);
        assert_eq!(groups, want.groups, "groups of {}", unit.unit);
        assert_eq!(total, want.total, "total of {}", unit.unit);
        for indicator in &card.indicators {
            let explanation = indicator
                .explanation
                .as_ref()
                .filter(|e| !e.summary.is_empty())
                .map(|e| serde_json::from_str::<Value>(&e.json).expect("explanation JSON"));
            assert_eq!(
                explanation.as_ref(),
                want.explanations.get(&indicator.indicator_code),
                "the explanation of {} of {} is the engine's",
                indicator.indicator_code,
                unit.unit
            );
        }
    }
    Ok(())
}
