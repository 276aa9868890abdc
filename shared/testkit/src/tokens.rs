//! Who a test acts as: principals of each role and scope, and the bearer tokens a service must
//! refuse (expired, signed with another key, meant for another audience). The tokens a service
//! accepts come from [`TestBackends`](crate::TestBackends), which holds the test key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dti_auth::{Principal, Role, TokenMinter};
use dti_config::AuthConfig;

/// The HS256 secret every test service verifies tokens with (tests only).
pub const TEST_HS256_SECRET: &str = "test-only-hs256-secret-0123456789abcdef";

/// A key that is not the test services' key, long enough for HS256.
const FORGER_SECRET: &[u8] = b"another-secret-of-at-least-32-bytes!!";

/// A city-wide principal of `role` (verifier, approver, operator, national_sync).
pub fn city(role: Role) -> Principal {
    Principal::city(format!("test-{role}"), role)
}

/// The unit submitter of `unit_id`.
pub fn unit_submitter(unit_id: &str) -> Principal {
    Principal::unit_submitter(format!("test-submitter-{unit_id}"), unit_id)
}

/// The data owner of `department_id`.
pub fn data_owner(department_id: &str) -> Principal {
    Principal::data_owner(format!("test-owner-{department_id}"), department_id)
}

/// `principal` signed with the test key but expired an hour ago.
pub fn expired_bearer(principal: &Principal) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let token = test_minter(&AuthConfig::default().audience)
        .mint_at(principal, now - 7200, now - 3600)
        .expect("signing a test token");
    format!("Bearer {token}")
}

/// `principal` signed with a key the test services do not know.
pub fn forged_bearer(principal: &Principal) -> String {
    let auth = AuthConfig::default();
    let token = TokenMinter::hs256(FORGER_SECRET, &auth.issuer, &auth.audience)
        .mint(principal, Duration::from_secs(600))
        .expect("signing a test token");
    format!("Bearer {token}")
}

/// `principal` signed with the test key for an audience that is not the services'.
pub fn wrong_audience_bearer(principal: &Principal) -> String {
    let token = test_minter("someone-else")
        .mint(principal, Duration::from_secs(600))
        .expect("signing a test token");
    format!("Bearer {token}")
}

/// A minter with the test key and issuer, for `audience`.
fn test_minter(audience: &str) -> TokenMinter {
    let auth = AuthConfig::default();
    TokenMinter::hs256(TEST_HS256_SECRET.as_bytes(), &auth.issuer, audience)
}
