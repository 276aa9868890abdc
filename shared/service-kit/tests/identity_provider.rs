//! A service started through the kit, its requests authenticated by the interceptor with the
//! keys of an OpenID Connect provider (a real HTTP server in this test): real gRPC calls pass
//! with the provider's token, are UNAVAILABLE until its keys are loaded, and pass again after
//! the provider rotates its key (the first call with the new `kid` is refused while the key set
//! is refetched).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dti_auth::grpc::{principal, AuthInterceptor};
use dti_auth::JwtVerifier;
use dti_config::{AuthConfig, NoServiceSettings, ServiceConfig, Validate};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::round_operator_service_server::{
    RoundOperatorService, RoundOperatorServiceServer,
};
use dti_proto::dti::submission::v1::{
    CloseRoundRequest, GetRoundRequest, OpenRoundRequest, ReopenForUnitRequest, Round,
    UnitReopening,
};
use dti_service_kit::ServiceKit;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const KEY_1: &[u8] = include_bytes!("../../auth/tests/fixtures/test-only-rs256-private.pem");
const KEY_2: &[u8] = include_bytes!("../../auth/tests/fixtures/test-only-rotated-private.pem");
const REALM_PATH: &str = "/realms/hcmc";

/// Answers `GetRound` with the caller the interceptor authenticated: `unit_ids` holds its
/// subject, role and scope.
struct WhoAmI;

#[tonic::async_trait]
impl RoundOperatorService for WhoAmI {
    async fn get_round(
        &self,
        request: Request<GetRoundRequest>,
    ) -> Result<tonic::Response<Round>, Status> {
        let caller = principal(&request)?;
        Ok(tonic::Response::new(Round {
            round: None,
            state: 0,
            deadline: None,
            unit_ids: vec![
                caller.subject.clone(),
                caller.role.to_string(),
                format!("{:?}", caller.scope),
            ],
            framework_hash: String::new(),
        }))
    }

    async fn open_round(
        &self,
        _: Request<OpenRoundRequest>,
    ) -> Result<tonic::Response<Round>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn close_round(
        &self,
        _: Request<CloseRoundRequest>,
    ) -> Result<tonic::Response<Round>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    async fn reopen_for_unit(
        &self,
        _: Request<ReopenForUnitRequest>,
    ) -> Result<tonic::Response<UnitReopening>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
}

struct ProviderState {
    base: String,
    key_set: Value,
    failing: bool,
    key_set_requests: usize,
}

type Shared = Arc<Mutex<ProviderState>>;

async fn discovery(State(state): State<Shared>) -> Response {
    let state = state.lock().expect("provider state");
    let body = json!({
        "issuer": format!("{}{REALM_PATH}", state.base),
        "jwks_uri": format!("{}{REALM_PATH}/protocol/openid-connect/certs", state.base),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn certs(State(state): State<Shared>) -> Response {
    let mut state = state.lock().expect("provider state");
    state.key_set_requests += 1;
    if state.failing {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.key_set.to_string(),
    )
        .into_response()
}

/// Starts the provider on 127.0.0.1:0; its issuer URL and state.
async fn start_provider(key_set: Value) -> (String, Shared) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the provider");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = Arc::new(Mutex::new(ProviderState {
        base: base.clone(),
        key_set,
        failing: true,
        key_set_requests: 0,
    }));
    let app = Router::new()
        .route(
            &format!("{REALM_PATH}/.well-known/openid-configuration"),
            get(discovery),
        )
        .route(
            &format!("{REALM_PATH}/protocol/openid-connect/certs"),
            get(certs),
        )
        .with_state(Arc::clone(&state));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("{base}{REALM_PATH}"), state)
}

fn rsa_key(pem: &[u8]) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem).expect("test RSA key")
}

fn key_set(key: &EncodingKey, kid: &str) -> Value {
    let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256).expect("public JWK");
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    json!({ "keys": [jwk] })
}

fn token(key: &EncodingKey, kid: &str, issuer: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let claims = json!({
        "sub": "kc-user-42",
        "iss": issuer,
        "aud": ["dti", "account"],
        "exp": now + 300,
        "iat": now,
        "realm_access": {"roles": ["offline_access", "dti-submitter"]},
        "dti_unit": "quan-1",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, key).expect("signing")
}

async fn who_am_i(channel: Channel, token: &str) -> Result<Vec<String>, Status> {
    let mut request = Request::new(GetRoundRequest { round: None });
    let bearer = format!("Bearer {token}").parse().expect("ASCII token");
    request.metadata_mut().insert("authorization", bearer);
    let round = RoundOperatorServiceClient::new(channel)
        .get_round(request)
        .await?
        .into_inner();
    Ok(round.unit_ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kit_service_authenticates_the_providers_tokens_across_a_key_rotation(
) -> anyhow::Result<()> {
    let key_1 = rsa_key(KEY_1);
    let key_2 = rsa_key(KEY_2);
    let (issuer, provider) = start_provider(key_set(&key_1, "k1")).await;
    let config = ServiceConfig {
        auth: AuthConfig {
            oidc_issuer_url: Some(issuer.clone()),
            jwks_min_refetch_secs: 1,
            role_claim: "realm_access.roles".into(),
            unit_claim: "dti_unit".into(),
            role_map: BTreeMap::from([("dti-submitter".to_owned(), "unit_submitter".to_owned())]),
            ..AuthConfig::default()
        },
        ..dti_testkit::loopback_config(NoServiceSettings::default())
    };
    config.auth.validate()?;

    // As a service's `build` does: the verifier first, then the kit, then the interceptor.
    let verifier = JwtVerifier::from_config(&config.auth)?;
    let mut kit = ServiceKit::builder("identity-provider-test", &config)
        .build()
        .await?;
    kit.add_service(RoundOperatorServiceServer::with_interceptor(
        WhoAmI,
        AuthInterceptor::new(verifier.clone()),
    ));
    let addr = kit.grpc_addr()?;
    let shutdown = kit.shutdown_token();
    let server = tokio::spawn(kit.serve());
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;

    // The provider does not answer yet: the service runs and refuses as UNAVAILABLE.
    let token_1 = token(&key_1, "k1", &issuer);
    let refused = who_am_i(channel.clone(), &token_1).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");

    provider.lock().expect("provider state").failing = false;
    verifier.wait_for_keys(Duration::from_secs(5)).await?;
    assert_eq!(
        who_am_i(channel.clone(), &token_1).await?,
        [
            "kc-user-42",
            "unit_submitter",
            r#"Unit { unit_id: "quan-1" }"#
        ]
    );

    // The provider rotates to key 2.
    provider.lock().expect("provider state").key_set = key_set(&key_2, "k2");
    let token_2 = token(&key_2, "k2", &issuer);
    let refused = who_am_i(channel.clone(), &token_2).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(refused.message().contains("k2"), "{}", refused.message());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let accepted = loop {
        match who_am_i(channel.clone(), &token_2).await {
            Ok(caller) => break caller,
            Err(status) if tokio::time::Instant::now() < deadline => {
                assert_eq!(status.code(), Code::Unauthenticated);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => anyhow::bail!("key 2 never accepted: {status:?}"),
        }
    };
    assert_eq!(accepted[0], "kc-user-42");
    let requests = provider.lock().expect("provider state").key_set_requests;
    assert!(
        (3..=5).contains(&requests),
        "first fetch failed, retried, then one refetch for k2: {requests} key set requests"
    );

    shutdown.cancel();
    server.await??;
    Ok(())
}
