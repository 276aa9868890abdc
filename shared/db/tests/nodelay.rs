//! The pool's TCP connections to PostgreSQL have `TCP_NODELAY` (without it a statement sent in
//! more than one segment waits 40 ms for the server's delayed ACK), while a connection sqlx
//! opens by itself does not — when that changes, sqlx sets the option and `dti-db`'s
//! `nodelay` module can go.

use dti_config::DatabaseConfig;
use dti_testkit::TestDatabase;
use sqlx::{Connection, PgConnection};

/// `TCP_NODELAY` of this process's connected TCP socket whose local port is `port`.
fn nodelay_of_local_port(port: u16) -> anyhow::Result<bool> {
    dti_db::nodelay::with_socket_on_local_port(port, |socket| socket.tcp_nodelay())?
        .ok_or_else(|| anyhow::anyhow!("no socket of this process has local port {port}"))
}

async fn client_port(connection: &mut PgConnection) -> anyhow::Result<u16> {
    let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(connection)
        .await?;
    Ok(u16::try_from(
        port.expect("a TCP connection has a client port"),
    )?)
}

#[tokio::test]
async fn pool_connections_have_nodelay_and_sqlx_alone_does_not_set_it() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    assert!(
        db.url().contains("@127.0.0.1:"),
        "the test needs TCP: {}",
        db.url()
    );
    let pool = dti_db::connect_url(db.url(), &DatabaseConfig::default()).await?;
    let mut first = pool.acquire().await?;
    let mut second = pool.acquire().await?;
    for connection in [&mut *first, &mut *second] {
        let port = client_port(connection).await?;
        assert!(
            nodelay_of_local_port(port)?,
            "pool connection on port {port}"
        );
    }

    let mut plain = PgConnection::connect(db.url()).await?;
    let port = client_port(&mut plain).await?;
    assert!(
        !nodelay_of_local_port(port)?,
        "sqlx now sets TCP_NODELAY itself: remove dti-db's nodelay module"
    );
    plain.close().await?;
    drop((first, second));
    pool.close().await;
    db.close().await?;
    Ok(())
}
