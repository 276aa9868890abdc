//! Scoring and verification read identical inputs for the same round: the self-assessed and
//! verified cohorts the scoring service builds (`dti_scoring::inputs::read_inputs`, the units
//! it ranks) equal the ones the verification service builds (`dti_scores::inputs::load_round`,
//! re-exported as `dti_verification::inputs::load_round`, the units verifiers review and
//! publish), on a round with accepted, overridden (values and not applicable) and
//! evidence-insufficient decisions, a resubmitted unit, a draft and a unit that never submitted.

use std::sync::Arc;

use dti_domain::values::UnitValues;
use dti_domain::{FrameworkCatalog, IndicatorCode, RoundRef, SubmissionId, UnitId};
use dti_scores::inputs::load_round;
use dti_scores::Basis;
use dti_scoring::inputs::read_inputs;
use dti_testkit::TestDatabase;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// One stored entry: indicator, variables or a not-applicable reason.
type Entry = (&'static str, Option<Value>, Option<&'static str>);

/// One stored decision: indicator, decision, variables, not applicable.
type StoredDecision = (&'static str, &'static str, Option<Value>, bool);

async fn seed_round(pool: &PgPool, round: &RoundRef, units: &[&str]) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO rounds (year, framework, state) VALUES ($1, $2, 'under_verification')",
    )
    .bind(i16::try_from(round.year)?)
    .bind(round.framework.as_str())
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO round_units (year, framework, unit_id) SELECT $1, $2, unnest($3::text[])",
    )
    .bind(i16::try_from(round.year)?)
    .bind(round.framework.as_str())
    .bind(units)
    .execute(pool)
    .await?;
    Ok(())
}

async fn seed_submission(
    pool: &PgPool,
    round: &RoundRef,
    unit: &str,
    state: &str,
    versions: &[&[Entry]],
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO submissions (id, year, framework, unit_id, state, latest_version) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(i16::try_from(round.year)?)
    .bind(round.framework.as_str())
    .bind(unit)
    .bind(state)
    .bind(i32::try_from(versions.len())?)
    .execute(pool)
    .await?;
    for (number, entries) in (1..).zip(versions.iter()) {
        sqlx::query(
            "INSERT INTO submission_versions (submission_id, version, client_request_id, \
             submitted_by) VALUES ($1, $2, $3, 'unit')",
        )
        .bind(id)
        .bind(number)
        .bind(format!("request-{number}"))
        .execute(pool)
        .await?;
        for (code, variables, reason) in entries.iter() {
            sqlx::query(
                "INSERT INTO submission_version_values (submission_id, version, indicator_code, \
                 variables, not_applicable_reason) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(number)
            .bind(code)
            .bind(variables)
            .bind(reason)
            .execute(pool)
            .await?;
        }
    }
    Ok(id)
}

async fn seed_decisions(
    pool: &PgPool,
    submission: Uuid,
    version: i32,
    revision: i64,
    decisions: &[StoredDecision],
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO verification_batches (submission_id, revision, version, kind, decided_by) \
         VALUES ($1, $2, $3, 'decision', 'verifier')",
    )
    .bind(submission)
    .bind(revision)
    .bind(version)
    .execute(pool)
    .await?;
    for (code, decision, variables, not_applicable) in decisions {
        sqlx::query(
            "INSERT INTO verified_values (submission_id, version, indicator_code, decision, \
             variables, not_applicable, reason, decided_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 'checked against the evidence', 'verifier') \
             ON CONFLICT (submission_id, version, indicator_code) DO UPDATE SET \
             decision = EXCLUDED.decision, variables = EXCLUDED.variables, \
             not_applicable = EXCLUDED.not_applicable",
        )
        .bind(submission)
        .bind(version)
        .bind(code)
        .bind(decision)
        .bind(variables)
        .bind(not_applicable)
        .execute(pool)
        .await?;
    }
    Ok(())
}

fn code(c: &str) -> IndicatorCode {
    IndicatorCode::parse(c).expect("code")
}

/// The values of `unit` among `units`.
fn of<'a>(units: &'a [UnitValues], unit: &str) -> &'a UnitValues {
    units
        .iter()
        .find(|values| values.unit.as_str() == unit)
        .expect("the unit is read")
}

#[tokio::test]
async fn scoring_and_verification_read_identical_inputs() -> anyhow::Result<()> {
    let database = TestDatabase::create().await?;
    let pool = database.pool().clone();
    let catalog = FrameworkCatalog::builtin()?;
    let framework = Arc::clone(catalog.get_str("hcm-2023-district").expect("district"));
    let round = RoundRef {
        year: 2023,
        framework: framework.id.clone(),
    };
    seed_round(
        &pool,
        &round,
        &["quan-1", "quan-2", "quan-3", "quan-4", "quan-5"],
    )
    .await?;

    let first: &[Entry] = &[("1.2", Some(json!({"a": 1, "b": 34})), None)];
    let resubmitted: &[Entry] = &[
        ("1.2", Some(json!({"a": 7, "b": 34})), None),
        ("2.1", Some(json!({"yes": true})), None),
        ("7.3", None, Some("no enterprises here")),
        ("1.1", Some(json!({"head_role": "deputy"})), None),
        ("5.1", Some(json!({"a": 4})), None),
    ];
    let quan_1 = seed_submission(
        &pool,
        &round,
        "quan-1",
        "under_verification",
        &[first, resubmitted],
    )
    .await?;
    seed_decisions(
        &pool,
        quan_1,
        1,
        1,
        &[("1.2", "evidence_insufficient", None, false)],
    )
    .await?;
    seed_decisions(
        &pool,
        quan_1,
        2,
        2,
        &[
            ("1.2", "overridden", Some(json!({"a": 5, "b": 34})), false),
            ("2.1", "evidence_insufficient", None, false),
            ("1.1", "overridden", None, true),
            ("7.3", "accepted", None, false),
        ],
    )
    .await?;
    let quan_2 = seed_submission(
        &pool,
        &round,
        "quan-2",
        "verified",
        &[&[
            ("1.2", Some(json!({"a": 3, "b": 10})), None),
            ("2.1", Some(json!({"yes": false})), None),
            ("5.1", Some(json!({"a": 9})), None),
        ]],
    )
    .await?;
    seed_decisions(
        &pool,
        quan_2,
        1,
        1,
        &[
            ("1.2", "accepted", None, false),
            ("2.1", "overridden", Some(json!({"yes": true})), false),
            ("7.3", "overridden", Some(json!({"a": 2, "b": 4})), false),
        ],
    )
    .await?;
    seed_submission(
        &pool,
        &round,
        "quan-3",
        "submitted",
        &[&[("5.1", Some(json!({"a": 2})), None)]],
    )
    .await?;
    seed_submission(&pool, &round, "quan-5", "draft", &[]).await?;

    let mut tx = pool.begin().await?;
    let verification = load_round(&mut tx, &framework, &round).await?;
    let units: Vec<UnitId> = verification.units.iter().map(|u| u.unit.clone()).collect();
    let scoring = read_inputs(
        &mut tx,
        &framework,
        &round,
        &units,
        &[Basis::SelfAssessed, Basis::Verified],
    )
    .await?;
    let digests: Vec<(SubmissionId, String)> = sqlx::query_as(concat!(
        "SELECT s.id, ",
        dti_scores::decisions_digest!("s.id", "s.latest_version"),
        " FROM submissions s"
    ))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let names: Vec<&str> = units.iter().map(UnitId::as_str).collect();
    assert_eq!(names, ["quan-1", "quan-2", "quan-3", "quan-4", "quan-5"]);
    let self_assessed = verification.self_cohort().units;
    let verified = verification.verified_cohort().units;
    let scored = |basis: usize| -> Vec<UnitValues> {
        scoring[basis]
            .iter()
            .map(|input| UnitValues::clone(&input.values))
            .collect()
    };
    assert_eq!(scored(0), self_assessed, "self-assessed cohorts differ");
    assert_eq!(scored(1), verified, "verified cohorts differ");

    // The decisions had their effect, so the equal cohorts are not equal by accident.
    let own = of(&self_assessed, "quan-1");
    let checked = of(&verified, "quan-1");
    assert_eq!(own.values.len(), 4, "version 2 is read, not version 1");
    let variables = |values: &UnitValues, c: &str| {
        values
            .values
            .get(&code(c))
            .map(|v| serde_json::to_value(v).expect("json"))
    };
    assert_eq!(variables(own, "1.2"), Some(json!({"a": 7, "b": 34})));
    assert_eq!(
        variables(checked, "1.2"),
        Some(json!({"a": 5, "b": 34})),
        "overridden with values"
    );
    assert!(
        !checked.values.contains_key(&code("2.1"))
            && !checked.not_applicable.contains(&code("2.1"))
    );
    assert!(
        checked.not_applicable.contains(&code("1.1")) && !checked.values.contains_key(&code("1.1"))
    );
    assert!(
        checked.not_applicable.contains(&code("7.3")),
        "accepted stays"
    );
    assert!(of(&verified, "quan-2").values.contains_key(&code("7.3")));
    assert_eq!(of(&verified, "quan-3"), of(&self_assessed, "quan-3"));
    for silent in ["quan-4", "quan-5"] {
        let values = of(&verified, silent);
        assert!(values.values.is_empty() && values.not_applicable.is_empty());
    }

    // Both read the same submission, version and decisions: the identities the scores are
    // stored under, with the digest the reconciler compares.
    for (unit, (self_input, verified_input)) in verification
        .units
        .iter()
        .zip(scoring[0].iter().zip(&scoring[1]))
    {
        let submission = unit.submission.as_ref().filter(|s| s.version > 0);
        assert_eq!(self_input.identity.submission_id, submission.map(|s| s.id));
        assert_eq!(
            verified_input.identity.version,
            submission.map_or(0, |s| s.version)
        );
        assert_eq!(self_input.identity.decisions_digest, "");
        let digest = submission
            .and_then(|s| digests.iter().find(|(id, _)| *id == s.id))
            .map_or(String::new(), |(_, digest)| digest.clone());
        assert_eq!(
            verified_input.identity.decisions_digest, digest,
            "{}",
            unit.unit
        );
        assert_eq!(
            digest.is_empty(),
            unit.decisions.is_empty(),
            "{}",
            unit.unit
        );
    }
    let revisions: Vec<i64> = verification
        .units
        .iter()
        .map(|u| u.submission.as_ref().map_or(0, |s| s.decisions_revision))
        .collect();
    assert_eq!(revisions, [2, 1, 0, 0, 0]);
    database.close().await?;
    Ok(())
}
