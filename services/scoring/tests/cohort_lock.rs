//! Two scoring transactions on one unit, as two replicas given two versions of it: the second
//! waits for the cohort's lock and then reads the unit's row as the first committed it. Under
//! PostgreSQL's READ COMMITTED, a statement that waited for a row lock sees only the locked row
//! anew; the unit's row is read by a statement of its own after the lock is held, so the cohort's
//! counts (the units a min-max range counts) cannot drift.

mod support;

use dti_domain::{FrameworkCatalog, UnitId};
use dti_scores::FrameworkLayout;
use dti_scoring::store;
use support::*;

#[tokio::test]
async fn a_transaction_that_waited_for_the_cohort_reads_the_unit_row_as_committed(
) -> anyhow::Result<()> {
    let (env, round, units) = burst_round(2, 61, "L-").await?;
    let catalog = FrameworkCatalog::builtin()?;
    let framework = catalog.get_str(round.framework.as_str()).expect("built in");
    let layout = FrameworkLayout::new(framework.clone());
    let unit: UnitId = units[0].unit.parse()?;
    let bases = [dti_scores::Basis::SelfAssessed];

    // The cohort exists, with the unit's row.
    let mut tx = env.pool().begin().await?;
    let created = store::lock_cohorts_for_unit(&mut tx, &layout, &round, &bases, &unit).await?;
    assert!(created.expect("the unit is in the round")[0].0.created);
    tx.commit().await?;

    // One transaction holds the cohort and writes the unit's row…
    let mut holder = env.pool().begin().await?;
    let held = store::lock_cohorts_for_unit(&mut holder, &layout, &round, &bases, &unit).await?;
    let before = held.expect("the unit is in the round")[0]
        .1
        .as_ref()
        .map(|row| row.identity.version);
    assert_eq!(before, Some(0), "the unit's row before it is scored");
    sqlx::query("UPDATE score_units SET input_version = 7 WHERE unit_id = $1 AND basis = 'self'")
        .bind(unit.as_str())
        .execute(&mut *holder)
        .await?;

    // …while another waits for the cohort, then reads after the first commits.
    let waiter = {
        let (pool, round, unit) = (env.pool().clone(), round.clone(), unit.clone());
        tokio::spawn(async move {
            let mut tx = pool.begin().await?;
            let locked = store::lock_cohorts_for_unit(&mut tx, &layout, &round, &bases, &unit)
                .await?
                .expect("the unit is in the round");
            tx.rollback().await?;
            anyhow::Ok(locked[0].1.as_ref().map(|row| row.identity.version))
        })
    };
    wait_until(
        "the second transaction waits for the cohort's lock",
        || async {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(env.pool())
            .await?;
            Ok(waiting > 0)
        },
    )
    .await?;
    holder.commit().await?;
    assert_eq!(
        waiter.await??,
        Some(7),
        "the waiting transaction reads the unit's row as the holder committed it"
    );
    env.close().await
}
