//! The JWT verification section (`[auth]`): its key source, the provider's settings and the
//! claims that carry a caller's role, unit and department.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{ConfigError, Validate};

/// JWT verification settings: exactly one key source — an HS256 secret, an RS256 public key,
/// or the city's OpenID Connect provider (its issuer, found by discovery, or its JWKS URL) —
/// plus the claims that carry a caller's role, unit and department.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Shared HS256 secret, at least 32 bytes.
    pub hs256_secret: Option<SecretString>,
    /// Path of the PEM file holding the RS256 public key.
    pub rs256_public_key_pem_path: Option<PathBuf>,
    /// Issuer URL of the OpenID Connect provider, e.g.
    /// `https://sso.example.gov.vn/realms/hcmc`: its keys are found through
    /// `<issuer>/.well-known/openid-configuration` (`jwks_uri`), and tokens must carry it as
    /// `iss`.
    pub oidc_issuer_url: Option<String>,
    /// URL of the provider's JWKS, when it is given directly instead of by discovery.
    pub jwks_url: Option<String>,
    /// Seconds between periodic refreshes of the provider's key set.
    pub jwks_refresh_secs: u64,
    /// Fewest seconds between two fetches of the key set caused by tokens naming an unknown
    /// `kid` (or retrying a failed fetch).
    pub jwks_min_refetch_secs: u64,
    /// Seconds a fetch of the discovery document or the key set may take.
    pub jwks_fetch_timeout_secs: u64,
    /// Signature algorithms accepted from the provider's keys.
    pub allowed_algorithms: Vec<JwsAlgorithm>,
    /// Required `iss` claim (with `oidc_issuer_url`, the issuer URL is required instead; this
    /// field must then be left at its default or equal it).
    pub issuer: String,
    /// Required `aud` claim.
    pub audience: String,
    /// Clock skew in seconds tolerated when checking `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Claim holding the caller's role: a name, or a dotted path into nested objects such as
    /// `realm_access.roles`; the claim may be one string or a list, where the first value that
    /// is (or maps to) a DTI role wins.
    pub role_claim: String,
    /// Claim (name or dotted path) holding a unit submitter's unit id.
    pub unit_claim: String,
    /// Claim (name or dotted path) holding a data owner's department id.
    pub department_claim: String,
    /// Provider role names mapped to DTI role names (e.g. `dti-operator` → `operator`); a
    /// value the map does not name must be a DTI role name itself.
    pub role_map: BTreeMap<String, String>,
    /// The tenant (province) this service serves, e.g. `hcm`: a lowercase letter, then up to
    /// 31 lowercase letters, digits or `-`. When set, every token must carry exactly it in
    /// [`AuthConfig::tenant_claim`] (a token of another tenant is refused), tokens minted from
    /// this configuration carry it, and the service keeps to its tenant's database, NATS
    /// prefix and Redis keys (see `dti-service-kit`). Unset: a deployment of one province,
    /// whose tokens need no tenant.
    pub tenant: Option<String>,
    /// Claim (name or dotted path) holding the tenant a token was issued for.
    pub tenant_claim: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            rs256_public_key_pem_path: None,
            oidc_issuer_url: None,
            jwks_url: None,
            jwks_refresh_secs: 300,
            jwks_min_refetch_secs: 10,
            jwks_fetch_timeout_secs: 5,
            allowed_algorithms: vec![JwsAlgorithm::RS256],
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: "dti".to_owned(),
            leeway_secs: 30,
            role_claim: "role".to_owned(),
            unit_claim: "unit_id".to_owned(),
            department_claim: "department_id".to_owned(),
            role_map: BTreeMap::new(),
            tenant: None,
            tenant_claim: "tenant".to_owned(),
        }
    }
}

/// Whether `tenant` is a valid tenant id: a lowercase ASCII letter, then up to 31 lowercase
/// letters, digits or `-`.
pub fn is_tenant_id(tenant: &str) -> bool {
    let mut chars = tenant.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && tenant.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The default of [`AuthConfig::issuer`].
const DEFAULT_ISSUER: &str = "dti-platform";

/// The DTI role names, as tokens carry them (the `Role` of `dti-auth`, which checks that the
/// two lists agree).
pub const DTI_ROLE_NAMES: &[&str] = &[
    "unit_submitter",
    "verifier",
    "approver",
    "operator",
    "data_owner",
    "national_sync",
    "public_reader",
];

/// An asymmetric JWS signature algorithm an identity provider's key may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the usual provider default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
}

/// Where the keys that verify tokens come from.
#[derive(Debug, Clone, Copy)]
pub enum KeySource<'a> {
    /// No key is configured.
    None,
    /// The shared HS256 secret.
    Hs256(&'a SecretString),
    /// The RS256 public key file.
    Rs256PemPath(&'a std::path::Path),
    /// The provider's discovery document at `<issuer>/.well-known/openid-configuration`.
    OidcIssuer(&'a str),
    /// The provider's JWKS URL.
    JwksUrl(&'a str),
}

impl AuthConfig {
    /// The configured key source; [`Validate::validate`] ensures there is at most one.
    pub fn key_source(&self) -> KeySource<'_> {
        if let Some(secret) = &self.hs256_secret {
            KeySource::Hs256(secret)
        } else if let Some(path) = &self.rs256_public_key_pem_path {
            KeySource::Rs256PemPath(path)
        } else if let Some(issuer) = &self.oidc_issuer_url {
            KeySource::OidcIssuer(issuer)
        } else if let Some(url) = &self.jwks_url {
            KeySource::JwksUrl(url)
        } else {
            KeySource::None
        }
    }

    /// The `iss` tokens must carry: the OpenID Connect issuer URL when set, else `issuer`.
    pub fn required_issuer(&self) -> &str {
        self.oidc_issuer_url.as_deref().unwrap_or(&self.issuer)
    }

    fn validate_key_source(&self) -> Result<(), ConfigError> {
        let set: Vec<&str> = [
            ("auth.hs256_secret", self.hs256_secret.is_some()),
            (
                "auth.rs256_public_key_pem_path",
                self.rs256_public_key_pem_path.is_some(),
            ),
            ("auth.oidc_issuer_url", self.oidc_issuer_url.is_some()),
            ("auth.jwks_url", self.jwks_url.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, is_set)| is_set.then_some(field))
        .collect();
        if let [_, second, ..] = set.as_slice() {
            return Err(ConfigError::invalid(
                *second,
                format!(
                    "set only one of auth.hs256_secret, auth.rs256_public_key_pem_path, \
                     auth.oidc_issuer_url and auth.jwks_url; found {}",
                    set.join(" and ")
                ),
            ));
        }
        match self.key_source() {
            KeySource::Hs256(secret) if secret.expose_secret().len() < MIN_HS256_SECRET_BYTES => {
                Err(ConfigError::invalid(
                    "auth.hs256_secret",
                    format!("must be at least {MIN_HS256_SECRET_BYTES} bytes long"),
                ))
            }
            KeySource::Rs256PemPath(path) if !path.is_file() => Err(ConfigError::invalid(
                "auth.rs256_public_key_pem_path",
                format!("{} is not a readable file", path.display()),
            )),
            KeySource::OidcIssuer(url) => {
                check_http_url("auth.oidc_issuer_url", url)?;
                if self.issuer != DEFAULT_ISSUER && self.issuer != url {
                    return Err(ConfigError::invalid(
                        "auth.issuer",
                        format!(
                            "with auth.oidc_issuer_url tokens must carry {url:?} as `iss`; \
                             leave auth.issuer unset or set it to the same URL, got {:?}",
                            self.issuer
                        ),
                    ));
                }
                self.validate_provider_settings()
            }
            KeySource::JwksUrl(url) => {
                check_http_url("auth.jwks_url", url)?;
                self.validate_provider_settings()
            }
            _ => Ok(()),
        }
    }

    fn validate_provider_settings(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("auth.jwks_refresh_secs", self.jwks_refresh_secs),
            ("auth.jwks_min_refetch_secs", self.jwks_min_refetch_secs),
            ("auth.jwks_fetch_timeout_secs", self.jwks_fetch_timeout_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(field, "must be at least 1"));
            }
        }
        if self.jwks_min_refetch_secs > self.jwks_refresh_secs {
            return Err(ConfigError::invalid(
                "auth.jwks_min_refetch_secs",
                format!(
                    "must not exceed auth.jwks_refresh_secs ({}), got {}",
                    self.jwks_refresh_secs, self.jwks_min_refetch_secs
                ),
            ));
        }
        if self.allowed_algorithms.is_empty() {
            return Err(ConfigError::invalid(
                "auth.allowed_algorithms",
                "must name at least one algorithm, e.g. [\"RS256\"]",
            ));
        }
        Ok(())
    }

    fn validate_claim_mapping(&self) -> Result<(), ConfigError> {
        for (field, path) in [
            ("auth.role_claim", &self.role_claim),
            ("auth.unit_claim", &self.unit_claim),
            ("auth.department_claim", &self.department_claim),
            ("auth.tenant_claim", &self.tenant_claim),
        ] {
            if path.split('.').any(|segment| segment.trim().is_empty()) {
                return Err(ConfigError::invalid(
                    field,
                    format!("must be a claim name or a dotted path of names, got {path:?}"),
                ));
            }
        }
        for (provider_role, role) in &self.role_map {
            if provider_role.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "auth.role_map",
                    "provider role names must not be empty",
                ));
            }
            if !DTI_ROLE_NAMES.contains(&role.as_str()) {
                return Err(ConfigError::invalid(
                    format!("auth.role_map.{provider_role}"),
                    format!(
                        "must be a DTI role ({}), got {role:?}",
                        DTI_ROLE_NAMES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses a URL that is not `http://` or `https://`, naming `field`.
fn check_http_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(ConfigError::invalid(
            field,
            format!("must be an http:// or https:// URL with a host, got {url:?}"),
        )),
    }
}

/// Shortest HS256 secret accepted, in bytes (the hash output size).
const MIN_HS256_SECRET_BYTES: usize = 32;

impl Validate for AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_key_source()?;
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(ConfigError::invalid("auth.audience", "must not be empty"));
        }
        if let Some(tenant) = &self.tenant {
            if !is_tenant_id(tenant) {
                return Err(ConfigError::invalid(
                    "auth.tenant",
                    format!(
                        "{tenant:?} is no tenant id: a lowercase letter, then up to 31 \
                         lowercase letters, digits or '-'"
                    ),
                ));
            }
        }
        self.validate_claim_mapping()
    }
}
