//! The kit's connections to NATS and Redis over TLS, against servers of the test's own that
//! speak only TLS with a certificate of a CA the test makes: with `nats.tls_ca_file` and a
//! `rediss://` URL with `redis.tls_ca_file`, the kit starts, ensures its stream and stores a
//! key; a Redis client that does not trust the CA is refused.

use dti_config::{NatsConfig, RedisConfig, ServiceConfig, TelemetryConfig};
use dti_service_kit::ServiceKit;
use dti_testkit::tls::TlsServer;
use redis::AsyncCommands;
use secrecy::SecretString;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_reaches_nats_and_redis_over_tls_trusting_their_ca() -> anyhow::Result<()> {
    let nats = TlsServer::nats().await?;
    let redis_server = TlsServer::redis().await?;
    let redis_url = format!("rediss://{}", redis_server.addr);
    let defaults = ServiceConfig::<dti_config::NoServiceSettings>::default();
    let local_port_0 = "127.0.0.1:0".parse()?;
    let config = ServiceConfig {
        nats: NatsConfig {
            url: format!("tls://{}", nats.addr),
            prefix: dti_testkit::random_nats_prefix(),
            tls_ca_file: Some(nats.ca_file.clone()),
            ..NatsConfig::default()
        },
        redis: RedisConfig {
            url: Some(SecretString::from(redis_url.clone())),
            key_prefix: dti_testkit::random_redis_prefix(),
            tls_ca_file: Some(redis_server.ca_file.clone()),
        },
        grpc: dti_config::GrpcConfig {
            listen_addr: local_port_0,
            ..Default::default()
        },
        metrics: dti_config::MetricsConfig {
            enabled: false,
            ..Default::default()
        },
        telemetry: TelemetryConfig {
            log_filter: "warn".into(),
            ..defaults.telemetry
        },
        ..defaults
    };
    dti_config::Validate::validate(&config)?;
    let kit = ServiceKit::builder("backend-tls-test", &config)
        .with_nats()
        .with_redis()
        .build()
        .await?;

    // The stream of the prefix exists on the TLS-only server.
    let stream = dti_bus::stream::stream_name(&config.nats.prefix);
    let mut found = kit.jetstream()?.get_stream(&stream).await?;
    assert_eq!(found.info().await?.config.name, stream);

    // A key round-trips through the TLS-only Redis.
    let store = kit.redis()?;
    let key = store.key("tls-check");
    let mut connection = store.connection();
    let () = connection.set(&key, "ok").await?;
    let read: String = connection.get(&key).await?;
    assert_eq!(read, "ok");

    // A client that does not trust the test's CA is refused at the handshake.
    let untrusted = redis::Client::open(redis_url.as_str())?
        .get_multiplexed_async_connection()
        .await;
    let refused = match untrusted {
        Ok(_) => panic!("connected without trusting Redis's CA"),
        Err(error) => error.to_string(),
    };
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    Ok(())
}
