//! PostgreSQL over TLS with `database.tls_ca_file` (`verify-full`), against the tests' server
//! when it has `ssl = on`: trusting the CA of the server's certificate (its own certificate when
//! self-signed, as Debian's `ssl-cert-snakeoil` for `localhost`) the pool connects and the
//! session is encrypted; under an address the certificate does not name, the connection is
//! refused. (sqlx trusts the CA file in addition to the system's roots, so a refusal of
//! another CA cannot be shown against a server whose certificate the system trusts.)
//! A server with `ssl = off` cannot show either, and the test says so and checks nothing.

use dti_config::DatabaseConfig;
use secrecy::SecretString;
use sqlx::Connection;

fn server_url() -> String {
    std::env::var("DTI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[tokio::test]
async fn verify_full_connects_trusting_the_servers_ca_and_refuses_a_host_it_does_not_name(
) -> anyhow::Result<()> {
    let url = server_url();
    let mut plain = sqlx::PgConnection::connect(&url).await?;
    let (ssl, cert_file): (String, String) =
        sqlx::query_as("SELECT current_setting('ssl'), current_setting('ssl_cert_file')")
            .fetch_one(&mut plain)
            .await?;
    plain.close().await?;
    let cert_file = std::path::PathBuf::from(cert_file);
    if ssl != "on" || !cert_file.is_file() {
        eprintln!(
            "the tests' PostgreSQL has ssl = {ssl} (certificate {cert_file:?}): nothing to check"
        );
        return Ok(());
    }
    // The snakeoil certificate names `localhost`; verify-full checks the host name.
    let localhost_url = url.replace("@127.0.0.1:", "@localhost:");
    let config = |ca: std::path::PathBuf| DatabaseConfig {
        url: SecretString::from(localhost_url.clone()),
        max_connections: 1,
        tls_ca_file: Some(ca),
        ..DatabaseConfig::default()
    };

    let pool = dti_db::connect(&config(cert_file.clone())).await?;
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await?;
    assert!(encrypted, "the session is not encrypted");
    pool.close().await;

    // verify-full also checks the host name: the certificate does not name 127.0.0.1, so the
    // same server under that address is refused (the URL's default `prefer` would connect).
    let by_address = DatabaseConfig {
        url: SecretString::from(localhost_url.replace("@localhost:", "@127.0.0.1:")),
        ..config(cert_file)
    };
    let refused = dti_db::connect(&by_address)
        .await
        .expect_err("verify-full accepted a certificate that does not name the host");
    let message = format!("{refused:?}");
    assert!(message.contains("NotValidForName"), "{message}");
    Ok(())
}
