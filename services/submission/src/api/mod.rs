//! The gRPC handlers. Each one has the one shape of [`dti_service_kit::handler::serve`]:
//! authenticate the caller, parse the request into domain values ([`dti_proto::request`] and
//! [`convert`]), call [`Submissions`] or [`Rounds`] and render the answer. Errors become
//! statuses through `From<SubmissionError> for Status`.
//!
//! - `submission_service`: the unit-facing `SubmissionService`;
//! - `round_operator_service`: the operators' `RoundOperatorService`;
//! - `registry_service`: the unit registry's and the frameworks' `RegistryService`;
//! - [`convert`]: protobuf to domain values and back.

pub mod convert;
mod registry_service;
mod round_operator_service;
mod submission_service;

use crate::frameworks::Frameworks;
use crate::registry::Registry;
use crate::rounds::Rounds;
use crate::submissions::Submissions;

/// The unit-facing API.
#[derive(Debug, Clone)]
pub struct SubmissionApi {
    submissions: Submissions,
}

impl SubmissionApi {
    /// Serves `submissions`.
    pub fn new(submissions: Submissions) -> Self {
        Self { submissions }
    }
}

/// The operators' API.
#[derive(Debug, Clone)]
pub struct RoundOperatorApi {
    rounds: Rounds,
}

impl RoundOperatorApi {
    /// Serves `rounds`.
    pub fn new(rounds: Rounds) -> Self {
        Self { rounds }
    }
}

/// The API of the unit registry and the frameworks.
#[derive(Debug, Clone)]
pub struct RegistryApi {
    registry: Registry,
    frameworks: Frameworks,
}

impl RegistryApi {
    /// Serves `registry` and `frameworks`.
    pub fn new(registry: Registry, frameworks: Frameworks) -> Self {
        Self {
            registry,
            frameworks,
        }
    }
}
