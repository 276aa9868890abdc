//! The gRPC edge of the verification service. Each handler has the one shape of
//! [`dti_service_kit::handler::serve`]: authenticate the caller, parse the request into domain
//! values (with [`dti_proto::request`], every invalid field named), call the domain, render
//! the answer; errors become statuses through `From<VerificationError> for Status`.
//!
//! - `verification_service`: the verifiers' `VerificationService`;
//! - `approval_service`: the approvers' `ApprovalService`;
//! - `publication_service`: publications, objections and finalization (`PublicationService`);
//! - `render`: the service's answers as protobuf.

mod approval_service;
mod publication_service;
mod render;
mod verification_service;

use crate::objections::Objections;
use crate::publication::Publications;
use crate::review::Reviews;
use crate::rounds::RoundSteps;

/// The verifiers' API.
#[derive(Debug, Clone)]
pub struct VerificationApi {
    reviews: Reviews,
    steps: RoundSteps,
}

impl VerificationApi {
    /// Serves `reviews` and the verifiers' round steps.
    pub fn new(reviews: Reviews, steps: RoundSteps) -> Self {
        Self { reviews, steps }
    }
}

/// The approvers' API.
#[derive(Debug, Clone)]
pub struct ApprovalApi {
    steps: RoundSteps,
}

impl ApprovalApi {
    /// Serves the approvers' round steps.
    pub fn new(steps: RoundSteps) -> Self {
        Self { steps }
    }
}

/// The publication API.
#[derive(Debug, Clone)]
pub struct PublicationApi {
    publications: Publications,
    objections: Objections,
    steps: RoundSteps,
}

impl PublicationApi {
    /// Serves publications, objections and finalization.
    pub fn new(publications: Publications, objections: Objections, steps: RoundSteps) -> Self {
        Self {
            publications,
            objections,
            steps,
        }
    }
}
