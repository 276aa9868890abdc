//! Every state and value change of the verification flow is appended to the hash-chained
//! audit log in its own transaction; tampering with a row it wrote is caught by
//! `dti_audit::verify_round`, which names the first broken link.

mod support;

use support::{accept, count, insufficient, overridden, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_decision_breaks_the_chain_where_it_was_edited() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let q1 = stack.opened_first_of_two().await?;
    stack
        .decide(
            &q1,
            1,
            vec![
                accept("1.1"),
                overridden("1.2", &[("a", count(5)), ("b", count(10))], "recounted"),
            ],
        )
        .await?;
    stack
        .decide(&q1, 1, vec![insufficient("2.1", "no resolution attached")])
        .await?;
    stack.complete(&q1, 1).await?;

    let pool = stack.backends.db.pool();
    let actions: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT chain, action, role FROM audit_log WHERE chain = 'unit:quan-1' ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    let recorded: Vec<&str> = actions.iter().map(|(_, a, _)| a.as_str()).collect();
    for expected in [
        "submission.start_verification",
        "verification.decide",
        "verification.accept_undecided",
        "submission.complete_verification",
    ] {
        assert!(recorded.contains(&expected), "{expected} in {recorded:?}");
    }
    let round_entries: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE chain = 'round' ORDER BY seq")
            .fetch_all(pool)
            .await?;
    assert!(round_entries.contains(&"round.start_verification".to_owned()));

    let intact = stack.audit_report().await?;
    assert_eq!(intact.first_broken, None);

    // Someone edits the first decision entry: 1.2 "overridden" becomes "accepted".
    let (id, seq): (i64, i64) = sqlx::query_as(
        "SELECT id, seq FROM audit_log WHERE chain = 'unit:quan-1' \
         AND action = 'verification.decide' ORDER BY seq LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "UPDATE audit_log SET after = jsonb_set(after, '{1.2,decision}', '\"accepted\"') \
         WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    let report = stack.audit_report().await?;
    let broken = report.first_broken.expect("the edit is caught");
    assert_eq!(broken.chain, "unit:quan-1");
    assert_eq!(broken.seq, seq);
    assert_eq!(broken.id, Some(id));
    stack.close().await
}
