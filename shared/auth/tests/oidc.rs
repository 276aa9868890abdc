//! Tokens of an OpenID Connect provider: a real HTTP server started by each test serves the
//! discovery document and a JWKS built from test-only keys, and rotates them mid-test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dti_auth::grpc::{principal, AuthInterceptor};
use dti_auth::{AuthError, JwtVerifier, Principal, Role, Scope};
use dti_config::{AuthConfig, JwsAlgorithm, Validate};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::time::Instant;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;

const AUDIENCE: &str = "dti";
const REALM_PATH: &str = "/realms/hcmc";
const CERTS_PATH: &str = "/realms/hcmc/protocol/openid-connect/certs";
const KEY_1: &[u8] = include_bytes!("fixtures/test-only-rs256-private.pem");
const KEY_2: &[u8] = include_bytes!("fixtures/test-only-rotated-private.pem");
const OUTSIDER: &[u8] = include_bytes!("fixtures/test-only-outsider-private.pem");
const EC_KEY: &[u8] = include_bytes!("fixtures/test-only-es256-private.pem");
const PUBLIC_KEY_1: &[u8] = include_bytes!("fixtures/test-only-rs256-public.pem");

/// A signing key of the test provider.
struct TestKey {
    kid: &'static str,
    algorithm: Algorithm,
    key: EncodingKey,
}

impl TestKey {
    fn rsa(kid: &'static str, pem: &[u8]) -> Self {
        Self {
            kid,
            algorithm: Algorithm::RS256,
            key: EncodingKey::from_rsa_pem(pem).expect("test RSA key"),
        }
    }

    fn ec(kid: &'static str, pem: &[u8]) -> Self {
        Self {
            kid,
            algorithm: Algorithm::ES256,
            key: EncodingKey::from_ec_pem(pem).expect("test EC key"),
        }
    }

    /// The public JWK the provider publishes for this key.
    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.algorithm).expect("public JWK");
        jwk.common.key_id = Some(self.kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(jwk).expect("JWK as JSON")
    }

    /// `claims` signed by this key, its `kid` in the header.
    fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(claims, Some(self.kid))
    }

    fn sign_with_kid(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.key).expect("signing")
    }
}

fn key_set(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>() })
}

/// What the test provider serves and what it was asked.
struct ProviderState {
    base: String,
    key_set: Value,
    failing: bool,
    discovery_requests: usize,
    key_set_requests: Vec<Instant>,
}

type Shared = Arc<Mutex<ProviderState>>;

/// The test identity provider, serving on 127.0.0.1 until the test ends.
struct Provider {
    state: Shared,
    base: String,
}

impl Provider {
    async fn start(key_set: Value) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the provider");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(ProviderState {
            base: base.clone(),
            key_set,
            failing: false,
            discovery_requests: 0,
            key_set_requests: Vec::new(),
        }));
        let app = Router::new()
            .route(
                &format!("{REALM_PATH}/.well-known/openid-configuration"),
                get(discovery),
            )
            .route(CERTS_PATH, get(certs))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { state, base }
    }

    fn issuer(&self) -> String {
        format!("{}{REALM_PATH}", self.base)
    }

    fn certs_url(&self) -> String {
        format!("{}{CERTS_PATH}", self.base)
    }

    fn rotate(&self, key_set: Value) {
        self.state.lock().expect("provider state").key_set = key_set;
    }

    fn set_failing(&self, failing: bool) {
        self.state.lock().expect("provider state").failing = failing;
    }

    fn key_set_requests(&self) -> Vec<Instant> {
        self.state
            .lock()
            .expect("provider state")
            .key_set_requests
            .clone()
    }

    fn discovery_requests(&self) -> usize {
        self.state
            .lock()
            .expect("provider state")
            .discovery_requests
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn discovery(State(state): State<Shared>) -> Response {
    let mut state = state.lock().expect("provider state");
    state.discovery_requests += 1;
    let issuer = format!("{}{REALM_PATH}", state.base);
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{}{CERTS_PATH}", state.base),
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    });
    json_response(StatusCode::OK, &document)
}

async fn certs(State(state): State<Shared>) -> Response {
    let mut state = state.lock().expect("provider state");
    state.key_set_requests.push(Instant::now());
    if state.failing {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "starting"}),
        );
    }
    json_response(StatusCode::OK, &state.key_set)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Keycloak's claim names as the city's realm would send them.
fn keycloak_config(issuer: String) -> AuthConfig {
    let config = AuthConfig {
        oidc_issuer_url: Some(issuer),
        jwks_refresh_secs: 300,
        jwks_min_refetch_secs: 1,
        role_claim: "realm_access.roles".into(),
        unit_claim: "dti_unit".into(),
        department_claim: "dti_department".into(),
        role_map: BTreeMap::from([
            ("dti-submitter".to_owned(), "unit_submitter".to_owned()),
            ("dti-operator".to_owned(), "operator".to_owned()),
            ("dti-data-owner".to_owned(), "data_owner".to_owned()),
        ]),
        ..AuthConfig::default()
    };
    config.validate().expect("valid test configuration");
    config
}

/// A Keycloak-shaped access token's claims for a unit submitter of `quan-1`.
fn submitter_claims(issuer: &str) -> Value {
    json!({
        "sub": "f3b1c2d4-kc-user",
        "iss": issuer,
        "aud": [AUDIENCE, "account"],
        "exp": now() + 300,
        "iat": now(),
        "azp": "dti-portal",
        "preferred_username": "nguyen.van.a",
        "realm_access": {"roles": ["offline_access", "default-roles-hcmc", "dti-submitter"]},
        "dti_unit": "quan-1",
    })
}

fn quan_1_submitter() -> Principal {
    Principal::unit_submitter("f3b1c2d4-kc-user", "quan-1")
}

async fn loaded_verifier(config: &AuthConfig) -> JwtVerifier {
    let verifier = JwtVerifier::from_config(config).expect("verifier");
    verifier
        .wait_for_keys(Duration::from_secs(10))
        .await
        .expect("the provider's keys load");
    verifier
}

/// Verifies `token` until it passes (the background refetch has loaded its key) or `limit`
/// passes; the last result.
async fn verify_until_accepted(
    verifier: &JwtVerifier,
    token: &str,
    limit: Duration,
) -> Result<Principal, AuthError> {
    let deadline = Instant::now() + limit;
    loop {
        let result = verifier.verify(token);
        if result.is_ok() || Instant::now() >= deadline {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn rotated_keys_are_fetched_on_an_unknown_kid_at_most_once_per_window() {
    let key_1 = TestKey::rsa("k1", KEY_1);
    let key_2 = TestKey::rsa("k2", KEY_2);
    let provider = Provider::start(key_set(&[&key_1])).await;
    let config = keycloak_config(provider.issuer());
    let verifier = loaded_verifier(&config).await;
    let claims = submitter_claims(&provider.issuer());

    assert_eq!(
        verifier.verify(&key_1.sign(&claims)),
        Ok(quan_1_submitter())
    );
    assert_eq!(provider.discovery_requests(), 1);
    assert_eq!(provider.key_set_requests().len(), 1);

    // The provider rotates to key 2: its first token is refused while the set is refetched,
    // and passes once the refetch has loaded key 2.
    provider.rotate(key_set(&[&key_2]));
    let token_2 = key_2.sign(&claims);
    assert_eq!(
        verifier.verify(&token_2),
        Err(AuthError::UnknownKey("k2".into()))
    );
    assert_eq!(
        verify_until_accepted(&verifier, &token_2, Duration::from_secs(5)).await,
        Ok(quan_1_submitter())
    );
    assert_eq!(provider.key_set_requests().len(), 2);
    assert_eq!(
        verifier.verify(&key_1.sign(&claims)),
        Err(AuthError::UnknownKey("k1".into())),
        "key 1 left the set"
    );

    // A flood of unknown kids for 2.5 s: at most one refetch per 1 s window.
    let before = provider.key_set_requests().len();
    let flood_end = Instant::now() + Duration::from_millis(2500);
    let mut refused = 0;
    while Instant::now() < flood_end {
        let bogus = key_2.sign_with_kid(&claims, Some(&format!("bogus-{refused}")));
        assert!(matches!(
            verifier.verify(&bogus),
            Err(AuthError::UnknownKey(_))
        ));
        refused += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let requests = provider.key_set_requests();
    let refetches = requests.len() - before;
    // A flood is tens of unknown kids per window; how many more a loaded machine signs in
    // 2.5 s does not matter to the bound checked below.
    assert!(refused > 50, "the flood sent {refused} tokens");
    assert!(
        (1..=3).contains(&refetches),
        "{refused} unknown kids caused {refetches} refetches"
    );
    for pair in requests.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(950),
            "two key set fetches {gap:?} apart"
        );
    }
    assert_eq!(provider.discovery_requests(), 1, "jwks_uri is remembered");
    assert_eq!(verifier.verify(&token_2), Ok(quan_1_submitter()));
}

#[tokio::test]
async fn tokens_not_signed_by_the_provider_or_not_meant_for_dti_are_refused() {
    let key_1 = TestKey::rsa("k1", KEY_1);
    let key_2 = TestKey::rsa("k2", KEY_2);
    let provider = Provider::start(key_set(&[&key_1, &key_2])).await;
    let issuer = provider.issuer();
    let verifier = loaded_verifier(&keycloak_config(issuer.clone())).await;
    let claims = submitter_claims(&issuer);
    assert_eq!(
        verifier.verify(&key_2.sign(&claims)),
        Ok(quan_1_submitter())
    );

    let outsider = TestKey::rsa("k1", OUTSIDER);
    assert_eq!(
        verifier.verify(&outsider.sign(&claims)),
        Err(AuthError::InvalidSignature),
        "a foreign key claiming the provider's kid"
    );

    let with = |field: &str, value: Value| {
        let mut claims = claims.clone();
        claims[field] = value;
        key_1.sign(&claims)
    };
    assert_eq!(
        verifier.verify(&with("iss", json!("https://sso.example.org/realms/other"))),
        Err(AuthError::WrongIssuer)
    );
    assert_eq!(
        verifier.verify(&with("aud", json!("account"))),
        Err(AuthError::WrongAudience)
    );
    assert_eq!(
        verifier.verify(&with("exp", json!(now() - 600))),
        Err(AuthError::Expired)
    );

    // Two keys published: a token must say which.
    assert!(matches!(
        verifier.verify(&key_1.sign_with_kid(&claims, None)),
        Err(AuthError::Malformed(_))
    ));

    // `alg: none`, unsigned.
    let unsigned = format!(
        "{}.{}.",
        base64url(&json!({"alg": "none", "typ": "JWT", "kid": "k1"})),
        base64url(&claims)
    );
    let refused = verifier.verify(&unsigned);
    assert!(
        matches!(&refused, Err(AuthError::Malformed(problem)) if problem.contains("header")),
        "{refused:?}"
    );

    // HS256 "signed" with the provider's public key as the secret (algorithm confusion).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(PUBLIC_KEY_1))
        .expect("signing");
    assert!(matches!(
        verifier.verify(&confused),
        Err(AuthError::Malformed(_))
    ));
    assert_eq!(
        provider.key_set_requests().len(),
        1,
        "no token above named an unknown kid"
    );
}

fn base64url(value: &Value) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = value.to_string().into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[tokio::test]
async fn keycloak_claims_map_to_principals_through_a_configured_jwks_url() {
    let key = TestKey::rsa("k1", KEY_1);
    let provider = Provider::start(key_set(&[&key])).await;
    let issuer = provider.issuer();
    let config = AuthConfig {
        oidc_issuer_url: None,
        jwks_url: Some(provider.certs_url()),
        issuer: issuer.clone(),
        ..keycloak_config(issuer.clone())
    };
    config.validate().expect("valid configuration");
    let verifier = loaded_verifier(&config).await;
    let base = submitter_claims(&issuer);
    let with_roles = |roles: Value, extra: Value| {
        let mut claims = base.clone();
        claims["realm_access"]["roles"] = roles;
        claims.as_object_mut().expect("object").remove("dti_unit");
        for (name, value) in extra.as_object().expect("object") {
            claims[name] = value.clone();
        }
        // A token with only one key published may leave out its kid.
        key.sign_with_kid(&claims, None)
    };

    let operator = with_roles(json!(["offline_access", "dti-operator"]), json!({}));
    assert_eq!(
        verifier.verify(&operator),
        Ok(Principal::city("f3b1c2d4-kc-user", Role::Operator))
    );
    let verifier_role = with_roles(
        json!(["uma_authorization", "verifier", "dti-operator"]),
        json!({}),
    );
    assert_eq!(
        verifier.verify(&verifier_role).map(|p| p.role),
        Ok(Role::Verifier),
        "a DTI role name needs no mapping and the first one wins"
    );
    let owner = with_roles(
        json!(["dti-data-owner"]),
        json!({"dti_department": ["so-tttt"]}),
    );
    assert_eq!(
        verifier.verify(&owner).map(|p| p.scope),
        Ok(Scope::Department {
            department_id: "so-tttt".into()
        })
    );
    let submitter = with_roles(json!(["dti-submitter"]), json!({"dti_unit": "quan-3"}));
    assert_eq!(
        verifier.verify(&submitter).map(|p| p.scope),
        Ok(Scope::Unit {
            unit_id: "quan-3".into()
        })
    );
    assert_eq!(
        verifier.verify(&with_roles(json!(["dti-submitter"]), json!({}))),
        Err(AuthError::MissingClaim("dti_unit".into()))
    );
    assert!(matches!(
        verifier.verify(&with_roles(json!(["offline_access"]), json!({}))),
        Err(AuthError::InvalidClaims(_))
    ));
    assert_eq!(
        provider.discovery_requests(),
        0,
        "the JWKS URL is used directly"
    );
}

#[tokio::test]
async fn until_the_first_fetch_succeeds_tokens_are_refused_as_unavailable() {
    let key = TestKey::rsa("k1", KEY_1);
    let provider = Provider::start(key_set(&[&key])).await;
    provider.set_failing(true);
    let config = keycloak_config(provider.issuer());
    let verifier = JwtVerifier::from_config(&config).expect("starts without the provider");
    assert_eq!(
        verifier.wait_for_keys(Duration::from_millis(300)).await,
        Err(AuthError::KeysUnavailable)
    );
    let token = key.sign(&submitter_claims(&provider.issuer()));
    assert_eq!(verifier.verify(&token), Err(AuthError::KeysUnavailable));

    let mut interceptor = AuthInterceptor::new(verifier.clone());
    let request = |token: &str| {
        let mut request = tonic::Request::new(());
        let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ASCII token");
        request.metadata_mut().insert("authorization", value);
        request
    };
    let refused = interceptor.call(request(&token)).unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable);

    provider.set_failing(false);
    verifier
        .wait_for_keys(Duration::from_secs(5))
        .await
        .expect("keys load once the provider answers");
    let accepted = interceptor.call(request(&token)).expect("authenticated");
    assert_eq!(
        principal(&accepted).expect("principal stored"),
        &quan_1_submitter()
    );
    let requests = provider.key_set_requests();
    assert!(requests.len() >= 2, "retried after the failure");
    for pair in requests.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(950),
            "retries are spaced"
        );
    }

    // A failed refresh keeps the loaded keys.
    provider.set_failing(true);
    let stranger = TestKey::rsa("k9", OUTSIDER).sign(&submitter_claims(&provider.issuer()));
    let unknown = interceptor.call(request(&stranger)).unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::Unauthenticated);
    let fetched = provider.key_set_requests().len();
    let deadline = Instant::now() + Duration::from_secs(5);
    while provider.key_set_requests().len() == fetched && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        provider.key_set_requests().len() > fetched,
        "refetch attempted"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(interceptor.call(request(&token)).is_ok());
}

#[tokio::test]
async fn es256_keys_are_used_only_when_allowed() {
    let key = TestKey::ec("ec1", EC_KEY);
    let provider = Provider::start(key_set(&[&key])).await;
    let claims = submitter_claims(&provider.issuer());
    let allowed = AuthConfig {
        allowed_algorithms: vec![JwsAlgorithm::RS256, JwsAlgorithm::ES256],
        ..keycloak_config(provider.issuer())
    };
    let verifier = loaded_verifier(&allowed).await;
    assert_eq!(verifier.verify(&key.sign(&claims)), Ok(quan_1_submitter()));

    let rs256_only =
        JwtVerifier::from_config(&keycloak_config(provider.issuer())).expect("verifier");
    assert_eq!(
        rs256_only.wait_for_keys(Duration::from_millis(500)).await,
        Err(AuthError::KeysUnavailable),
        "a key set without an RS256 key is unusable"
    );
    assert!(rs256_only.verify(&key.sign(&claims)).is_err());
}
