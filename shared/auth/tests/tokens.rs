//! Token verification and request authentication, with real HS256 and RS256 signatures.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dti_auth::grpc::{authenticate, principal, AuthInterceptor};
use dti_auth::{AuthError, JwtVerifier, Principal, Role, TokenMinter};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::service::Interceptor;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";
const ISSUER: &str = "dti-test";
const AUDIENCE: &str = "dti";
const RS_PRIVATE: &[u8] = include_bytes!("fixtures/test-only-rs256-private.pem");
const RS_PUBLIC: &[u8] = include_bytes!("fixtures/test-only-rs256-public.pem");
const OTHER_PRIVATE: &[u8] = include_bytes!("fixtures/test-only-other-private.pem");

fn submitter() -> Principal {
    Principal::unit_submitter("user-7", "quan-1")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn minter() -> TokenMinter {
    TokenMinter::hs256(SECRET, ISSUER, AUDIENCE)
}

fn verifier() -> JwtVerifier {
    JwtVerifier::hs256(SECRET, ISSUER, AUDIENCE)
}

fn bearer(token: &str) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    let value = MetadataValue::try_from(format!("Bearer {token}")).expect("ASCII token");
    metadata.insert("authorization", value);
    metadata
}

/// Signs arbitrary claims with the test secret, to build tokens the minter never would.
fn sign_raw(claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("signing")
}

#[test]
fn valid_hs256_token_yields_the_principal() -> anyhow::Result<()> {
    let token = minter().mint(&submitter(), Duration::from_secs(600))?;
    assert_eq!(verifier().verify(&token)?, submitter());
    Ok(())
}

#[test]
fn valid_rs256_token_yields_the_principal_and_other_keys_are_rejected() -> anyhow::Result<()> {
    let operator = Principal::city("ops", Role::Operator);
    let verifier = JwtVerifier::rs256(RS_PUBLIC, ISSUER, AUDIENCE)?;
    let token = TokenMinter::rs256(RS_PRIVATE, ISSUER, AUDIENCE)?
        .mint(&operator, Duration::from_secs(60))?;
    assert_eq!(verifier.verify(&token)?, operator);

    let forged = TokenMinter::rs256(OTHER_PRIVATE, ISSUER, AUDIENCE)?
        .mint(&operator, Duration::from_secs(60))?;
    assert_eq!(verifier.verify(&forged), Err(AuthError::InvalidSignature));
    let hs_token = minter().mint(&operator, Duration::from_secs(60))?;
    assert!(
        matches!(verifier.verify(&hs_token), Err(AuthError::Malformed(_))),
        "HS256 token for an RS256 verifier"
    );
    Ok(())
}

#[test]
fn expired_token_is_rejected_beyond_the_leeway() -> anyhow::Result<()> {
    let token = minter().mint_at(&submitter(), now() - 3600, now() - 120)?;
    assert_eq!(
        verifier().with_leeway(30).verify(&token),
        Err(AuthError::Expired)
    );
    assert!(
        verifier().with_leeway(300).verify(&token).is_ok(),
        "inside the leeway"
    );
    Ok(())
}

#[test]
fn token_signed_with_another_secret_is_rejected() -> anyhow::Result<()> {
    let forged = TokenMinter::hs256(b"another-secret-another-secret-xx", ISSUER, AUDIENCE)
        .mint(&submitter(), Duration::from_secs(60))?;
    assert_eq!(verifier().verify(&forged), Err(AuthError::InvalidSignature));
    let mut tampered = minter().mint(&submitter(), Duration::from_secs(60))?;
    tampered.push('x');
    assert!(verifier().verify(&tampered).is_err());
    Ok(())
}

#[test]
fn wrong_issuer_or_audience_is_rejected() -> anyhow::Result<()> {
    let foreign_issuer = TokenMinter::hs256(SECRET, "someone-else", AUDIENCE)
        .mint(&submitter(), Duration::from_secs(60))?;
    assert_eq!(
        verifier().verify(&foreign_issuer),
        Err(AuthError::WrongIssuer)
    );
    let foreign_audience = TokenMinter::hs256(SECRET, ISSUER, "other-app")
        .mint(&submitter(), Duration::from_secs(60))?;
    assert_eq!(
        verifier().verify(&foreign_audience),
        Err(AuthError::WrongAudience)
    );
    Ok(())
}

#[test]
fn missing_claims_are_rejected_naming_the_claim() {
    let exp = now() + 600;
    let base = serde_json::json!({"sub": "u", "role": "operator", "iss": ISSUER, "aud": AUDIENCE, "exp": exp, "iat": now()});
    let without = |claim: &str| {
        let mut claims = base.clone();
        claims.as_object_mut().expect("object").remove(claim);
        verifier().verify(&sign_raw(claims))
    };
    assert_eq!(without("exp"), Err(AuthError::MissingClaim("exp".into())));
    assert_eq!(without("sub"), Err(AuthError::MissingClaim("sub".into())));
    assert_eq!(without("role"), Err(AuthError::MissingClaim("role".into())));
    assert!(verifier().verify(&sign_raw(base.clone())).is_ok());

    let mut no_unit = base.clone();
    no_unit["role"] = "unit_submitter".into();
    assert_eq!(
        verifier().verify(&sign_raw(no_unit)),
        Err(AuthError::MissingClaim("unit_id".into()))
    );
    let mut no_department = base.clone();
    no_department["role"] = "data_owner".into();
    assert_eq!(
        verifier().verify(&sign_raw(no_department)),
        Err(AuthError::MissingClaim("department_id".into()))
    );
    let mut scoped_operator = base;
    scoped_operator["unit_id"] = "quan-1".into();
    assert!(matches!(
        verifier().verify(&sign_raw(scoped_operator)),
        Err(AuthError::InvalidClaims(_))
    ));
}

#[test]
fn grpc_authentication_maps_failures_to_unauthenticated() -> anyhow::Result<()> {
    let token = minter().mint(&submitter(), Duration::from_secs(60))?;
    assert_eq!(authenticate(&verifier(), &bearer(&token))?, submitter());

    let missing = authenticate(&verifier(), &MetadataMap::new()).unwrap_err();
    assert_eq!(missing.code(), tonic::Code::Unauthenticated);
    let mut basic = MetadataMap::new();
    basic.insert(
        "authorization",
        MetadataValue::from_static("Basic dXNlcjpwYXNz"),
    );
    assert_eq!(
        authenticate(&verifier(), &basic).unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
    let expired = minter().mint_at(&submitter(), now() - 3600, now() - 600)?;
    let status = authenticate(&verifier(), &bearer(&expired)).unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(status.message().contains("expired"), "{}", status.message());
    Ok(())
}

#[test]
fn interceptor_stores_the_principal_for_handlers_and_scope_checks_apply() -> anyhow::Result<()> {
    let mut interceptor = AuthInterceptor::new(verifier());
    let token = minter().mint(&submitter(), Duration::from_secs(60))?;
    let mut request = tonic::Request::new(());
    *request.metadata_mut() = bearer(&token);
    let request = interceptor.call(request)?;

    let caller = principal(&request)?;
    assert!(caller.require_unit("quan-1").is_ok());
    assert_eq!(
        caller.require_unit("quan-2").unwrap_err().code(),
        tonic::Code::PermissionDenied
    );
    assert_eq!(
        caller.require_role(&[Role::Operator]).unwrap_err().code(),
        tonic::Code::PermissionDenied
    );

    let rejected = interceptor.call(tonic::Request::new(())).unwrap_err();
    assert_eq!(rejected.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        principal(&tonic::Request::new(())).unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
    Ok(())
}

/// The auth settings of a service of `tenant` (HS256 with the test secret).
fn tenant_config(tenant: &str) -> dti_config::AuthConfig {
    dti_config::AuthConfig {
        hs256_secret: Some(secrecy::SecretString::from(
            String::from_utf8(SECRET.to_vec()).expect("ASCII secret"),
        )),
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        tenant: Some(tenant.to_owned()),
        ..dti_config::AuthConfig::default()
    }
}

#[test]
fn a_service_of_a_tenant_accepts_the_tokens_of_that_tenant_only() -> anyhow::Result<()> {
    let ttl = Duration::from_secs(600);
    let hcm = JwtVerifier::from_config(&tenant_config("hcm"))?;
    let hcm_token = TokenMinter::from_config(&tenant_config("hcm"))?.mint(&submitter(), ttl)?;
    let hn_token = TokenMinter::from_config(&tenant_config("hn"))?.mint(&submitter(), ttl)?;
    assert_eq!(hcm.verify(&hcm_token)?, submitter());
    assert_eq!(
        hcm.verify(&hn_token),
        Err(AuthError::WrongTenant {
            token: "hn".into(),
            served: "hcm".into()
        })
    );
    // A token of no tenant (as a deployment of one province mints) is refused as well.
    let untenanted = minter().mint(&submitter(), ttl)?;
    assert_eq!(
        hcm.verify(&untenanted),
        Err(AuthError::MissingClaim("tenant".into()))
    );
    let listed = sign_raw(serde_json::json!({
        "sub": "user-7", "role": "unit_submitter", "unit_id": "quan-1", "tenant": ["hcm"],
        "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "iat": now(),
    }));
    assert!(matches!(
        hcm.verify(&listed),
        Err(AuthError::InvalidClaims(problem)) if problem.contains("tenant")
    ));
    // The same secret signs both tenants' tokens here: the claim alone keeps them apart.
    let status = authenticate(&hcm, &bearer(&hn_token)).expect_err("another tenant's token");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(
        status.message().contains("`hn`") && status.message().contains("`hcm`"),
        "{}",
        status.message()
    );
    Ok(())
}

#[test]
fn the_tenant_claim_can_be_read_from_a_providers_own_claim() -> anyhow::Result<()> {
    let config = dti_config::AuthConfig {
        tenant_claim: "dti.province".into(),
        ..tenant_config("hcm")
    };
    let verifier = JwtVerifier::from_config(&config)?;
    let claims = |province: &str| {
        serde_json::json!({
            "sub": "user-7", "role": "unit_submitter", "unit_id": "quan-1",
            "dti": {"province": province},
            "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "iat": now(),
        })
    };
    assert_eq!(verifier.verify(&sign_raw(claims("hcm")))?, submitter());
    assert!(matches!(
        verifier.verify(&sign_raw(claims("hn"))),
        Err(AuthError::WrongTenant { .. })
    ));
    Ok(())
}
