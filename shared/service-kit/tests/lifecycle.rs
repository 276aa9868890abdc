//! A tiny service started through the kit on port 0 against real PostgreSQL, NATS and Redis:
//! health, reflection, metrics, trace propagation, and a graceful shutdown.

use dti_testkit::metrics::scrape;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dti_config::{NatsConfig, NoServiceSettings, RedisConfig, ServiceConfig};
use dti_proto::dti::common::v1::RoundRef;
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::round_operator_service_server::{
    RoundOperatorService, RoundOperatorServiceServer,
};
use dti_proto::dti::submission::v1::{
    CloseRoundRequest, GetRoundRequest, OpenRoundRequest, ReopenForUnitRequest, Round, RoundState,
    UnitReopening,
};
use dti_service_kit::ServiceKit;
use futures::StreamExt;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const SERVICE: &str = "round-test";
const CALLER_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

/// Opens rounds; a round of framework "slow" takes 400 ms. Records the trace id it ran in.
#[derive(Clone, Default)]
struct TestOperator {
    seen_trace_ids: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl RoundOperatorService for TestOperator {
    async fn open_round(
        &self,
        request: Request<OpenRoundRequest>,
    ) -> Result<Response<Round>, Status> {
        let trace_id = dti_telemetry::current_trace_id().map(|id| id.to_string());
        self.seen_trace_ids.lock().expect("lock").extend(trace_id);
        let round = request.into_inner().round;
        if round
            .as_ref()
            .is_some_and(|round| round.framework == "slow")
        {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        Ok(Response::new(Round {
            round,
            state: RoundState::Open as i32,
            deadline: None,
            unit_ids: Vec::new(),
            framework_hash: String::new(),
        }))
    }

    async fn close_round(&self, _: Request<CloseRoundRequest>) -> Result<Response<Round>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn reopen_for_unit(
        &self,
        _: Request<ReopenForUnitRequest>,
    ) -> Result<Response<UnitReopening>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn get_round(&self, _: Request<GetRoundRequest>) -> Result<Response<Round>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
}

fn test_config(db: &dti_testkit::TestDatabase) -> ServiceConfig {
    ServiceConfig {
        database: db.database_config(),
        nats: NatsConfig {
            prefix: dti_testkit::random_nats_prefix(),
            ..NatsConfig::default()
        },
        redis: RedisConfig {
            url: Some(dti_testkit::redis_url().into()),
            key_prefix: dti_testkit::random_redis_prefix(),
            ..RedisConfig::default()
        },
        ..dti_testkit::loopback_config(NoServiceSettings::default())
    }
}

fn open_round_request(framework: &str) -> Request<OpenRoundRequest> {
    let mut request = Request::new(OpenRoundRequest {
        round: Some(RoundRef {
            year: 2025,
            framework: framework.into(),
        }),
        deadline: None,
        unit_ids: Vec::new(),
    });
    let traceparent = format!("00-{CALLER_TRACE_ID}-b7ad6b7169203331-01");
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().expect("ASCII"));
    request
}

async fn health_status(channel: Channel, service: &str) -> anyhow::Result<i32> {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    Ok(HealthClient::new(channel)
        .check(request)
        .await?
        .into_inner()
        .status)
}

async fn reflected_services(channel: Channel) -> anyhow::Result<Vec<String>> {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([request]))
        .await?
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await?.and_then(|r| r.message_response)
    else {
        anyhow::bail!("no list of services");
    };
    Ok(list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_starts_reports_health_and_shuts_down_gracefully() -> anyhow::Result<()> {
    let db = dti_testkit::TestDatabase::create().await?;
    let config = test_config(&db);
    let mut kit = ServiceKit::builder(SERVICE, &config)
        .with_postgres()
        .with_nats()
        .with_redis()
        .shutdown_grace(Duration::from_secs(5))
        .build()
        .await?;

    // Redis is connected and namespaced.
    let key = kit.redis()?.key("probe");
    assert!(key.starts_with(&config.redis.key_prefix));
    let mut redis = kit.redis()?.connection();
    redis::cmd("SET")
        .arg(&key)
        .arg("ok")
        .exec_async(&mut redis)
        .await?;
    let stored: String = redis::cmd("GET").arg(&key).query_async(&mut redis).await?;
    assert_eq!(stored, "ok");
    redis::cmd("DEL").arg(&key).exec_async(&mut redis).await?;

    // Background work that needs a moment to stop after the shutdown signal.
    let background_finished = Arc::new(AtomicBool::new(false));
    let finished = background_finished.clone();
    kit.spawn_task("probe", move |shutdown| async move {
        shutdown.cancelled().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        finished.store(true, Ordering::SeqCst);
        Ok::<(), std::convert::Infallible>(())
    });
    kit.spawn_outbox_relay(Default::default())?;
    let operator = TestOperator::default();
    kit.add_service(RoundOperatorServiceServer::new(operator.clone()));

    let grpc_addr = kit.grpc_addr()?;
    let metrics_addr = kit.metrics_addr().expect("metrics enabled");
    let shutdown = kit.shutdown_token();
    let server = tokio::spawn(kit.serve());

    let channel = Channel::from_shared(format!("http://{grpc_addr}"))?
        .connect()
        .await?;
    assert_eq!(
        health_status(channel.clone(), SERVICE).await?,
        ServingStatus::Serving as i32
    );
    let served = "dti.submission.v1.RoundOperatorService";
    assert_eq!(
        health_status(channel.clone(), served).await?,
        ServingStatus::Serving as i32
    );
    let reflected = reflected_services(channel.clone()).await?;
    assert!(
        reflected
            .iter()
            .any(|name| name == "dti.submission.v1.SubmissionService"),
        "{reflected:?}"
    );

    // A request becomes a child of the caller's trace and is counted.
    let mut client = RoundOperatorServiceClient::new(channel.clone());
    client.open_round(open_round_request("fast")).await?;
    assert_eq!(
        operator.seen_trace_ids.lock().expect("lock").as_slice(),
        [CALLER_TRACE_ID]
    );
    let metrics = scrape(metrics_addr).await?;
    assert!(metrics.contains(
        r#"dti_grpc_server_requests_total{method="/dti.submission.v1.RoundOperatorService/OpenRound",code="Ok"} 1"#
    ), "{metrics}");

    // Watch health, start a slow request, then ask for shutdown while it is in flight.
    let mut watch = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: SERVICE.into(),
        })
        .await?
        .into_inner();
    assert_eq!(
        watch.next().await.transpose()?.map(|r| r.status),
        Some(ServingStatus::Serving as i32)
    );
    let mut slow_client = client.clone();
    let in_flight =
        tokio::spawn(async move { slow_client.open_round(open_round_request("slow")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    shutdown.cancel();

    assert_eq!(
        watch.next().await.transpose()?.map(|r| r.status),
        Some(ServingStatus::NotServing as i32)
    );
    drop(watch);
    let slow = in_flight.await??.into_inner();
    assert_eq!(
        slow.round.map(|round| round.framework).as_deref(),
        Some("slow"),
        "in-flight request finished"
    );
    tokio::time::timeout(Duration::from_secs(10), server).await???;
    assert!(
        background_finished.load(Ordering::SeqCst),
        "serve waited for background work"
    );
    assert!(
        tokio::net::TcpStream::connect(grpc_addr).await.is_err(),
        "listener closed"
    );

    let js = dti_bus::connect(&dti_testkit::nats_url()).await?;
    js.delete_stream(dti_bus::stream::stream_name(&config.nats.prefix))
        .await?;
    // Run after the first kit, never beside it: a kit's shutdown ends the process's global
    // telemetry, which the other kit's trace check reads.
    reflection_is_a_setting_and_health_stays_when_it_is_off(&db).await?;
    db.close().await?;
    Ok(())
}

/// A kit with reflection off serves health but no reflection.
async fn reflection_is_a_setting_and_health_stays_when_it_is_off(
    db: &dti_testkit::TestDatabase,
) -> anyhow::Result<()> {
    let mut config = test_config(db);
    config.grpc.reflection = false;
    let mut kit = ServiceKit::builder(SERVICE, &config)
        .with_postgres()
        .build()
        .await?;
    kit.add_service(RoundOperatorServiceServer::new(TestOperator::default()));
    let grpc_addr = kit.grpc_addr()?;
    let shutdown = kit.shutdown_token();
    let server = tokio::spawn(kit.serve());
    let channel = Channel::from_shared(format!("http://{grpc_addr}"))?
        .connect()
        .await?;
    assert_eq!(
        health_status(channel.clone(), SERVICE).await?,
        ServingStatus::Serving as i32
    );
    let refused = reflected_services(channel)
        .await
        .expect_err("no reflection when it is off");
    let status = refused.downcast_ref::<Status>().expect("a gRPC status");
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
    shutdown.cancel();
    server.await??;
    Ok(())
}
