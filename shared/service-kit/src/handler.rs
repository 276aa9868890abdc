//! The one shape of a gRPC handler: authenticate the caller, parse the request into domain
//! values, call the service as the caller, render its answer. A handler passes its three steps
//! to [`serve`]; an error at any step becomes its status through the service error's one
//! `From<_> for Status`.

use std::future::Future;

use dti_auth::grpc::principal;
use dti_auth::Principal;
use tonic::{Request, Response, Status};

/// Serves one request: authenticates the caller, parses the message with `parse`, calls the
/// service as the caller with `call` and renders its answer with `render`. Any error, at any
/// step, becomes its status.
pub async fn serve<Message, Parsed, Answer, Reply, Error, Call>(
    request: Request<Message>,
    parse: impl FnOnce(&Message) -> Result<Parsed, Error>,
    call: impl FnOnce(Principal, Parsed) -> Call,
    render: impl FnOnce(Answer) -> Result<Reply, Error>,
) -> Result<Response<Reply>, Status>
where
    Call: Future<Output = Result<Answer, Error>>,
    Status: From<Error>,
{
    let actor = principal(&request)?.clone();
    let parsed = parse(request.get_ref())?;
    let answer = call(actor, parsed).await?;
    Ok(Response::new(render(answer)?))
}
