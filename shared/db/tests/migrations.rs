//! The embedded migrations and the transaction helper, against a real PostgreSQL database.

use dti_db::{with_transaction, DbError};
use dti_testkit::TestDatabase;

#[derive(Debug, thiserror::Error)]
enum WorkError {
    #[error("refused on purpose")]
    Refused,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

#[tokio::test]
async fn migrations_create_the_messaging_tables_and_are_idempotent() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    dti_db::migrate(db.pool()).await?;

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name IN ('outbox_messages', 'inbox_messages') \
         ORDER BY table_name",
    )
    .fetch_all(db.pool())
    .await?;
    assert_eq!(tables, ["inbox_messages", "outbox_messages"]);

    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(applied as usize, dti_db::MIGRATOR.iter().count());
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn with_transaction_commits_on_ok_and_rolls_back_on_err() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let insert = "INSERT INTO inbox_messages (consumer, msg_id, subject) VALUES ('c', $1, 's')";

    with_transaction(db.pool(), |tx| {
        Box::pin(async move {
            sqlx::query(insert).bind("kept").execute(&mut **tx).await?;
            Ok::<_, WorkError>(())
        })
    })
    .await?;
    let refused = with_transaction(db.pool(), |tx| {
        Box::pin(async move {
            sqlx::query(insert)
                .bind("discarded")
                .execute(&mut **tx)
                .await?;
            Err::<(), _>(WorkError::Refused)
        })
    })
    .await;
    assert!(matches!(refused, Err(WorkError::Refused)));

    let ids: Vec<String> = sqlx::query_scalar("SELECT msg_id FROM inbox_messages ORDER BY msg_id")
        .fetch_all(db.pool())
        .await?;
    assert_eq!(ids, ["kept"]);
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn dropping_the_guard_drops_the_database() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let name = db.name().to_owned();
    let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test").await?;
    drop(db);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&admin)
        .await?;
    assert_eq!(left, 0);
    Ok(())
}
