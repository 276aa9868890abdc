//! The gRPC handlers. Each one authenticates the caller, parses the request into domain values
//! ([`convert`]), calls [`Submissions`] or [`Rounds`] and renders the answer; `serve` is that
//! shape, once. Errors become statuses through `From<SubmissionError> for Status`.
//!
//! - `submission_service`: the unit-facing `SubmissionService`;
//! - `round_operator_service`: the operators' `RoundOperatorService`;
//! - [`convert`]: protobuf to domain values and back.

pub mod convert;
mod round_operator_service;
mod submission_service;

use std::future::Future;

use dti_auth::grpc::principal;
use dti_auth::Principal;
use tonic::{Request, Response, Status};

use crate::rounds::Rounds;
use crate::submissions::Submissions;
use crate::SubmissionError;

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

/// Serves one request: authenticates the caller, parses the message into domain values,
/// calls the service as the caller and renders its answer. Any error, at any step, becomes
/// its status.
async fn serve<Message, Parsed, Answer, Reply, Call>(
    request: Request<Message>,
    parse: impl FnOnce(&Message) -> Result<Parsed, SubmissionError>,
    call: impl FnOnce(Principal, Parsed) -> Call,
    render: impl FnOnce(Answer) -> Result<Reply, SubmissionError>,
) -> Result<Response<Reply>, Status>
where
    Call: Future<Output = Result<Answer, SubmissionError>>,
{
    let actor = principal(&request)?.clone();
    let parsed = parse(request.get_ref())?;
    let answer = call(actor, parsed).await?;
    Ok(Response::new(render(answer)?))
}
