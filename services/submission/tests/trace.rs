//! One trace from the caller to the consumer: the W3C trace id the gRPC caller sent is the
//! trace of the span that consumes the `submission.submitted` event.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dti_bus::consumer::{ConsumerSettings, EventHandler, IdempotentConsumer, InboundEvent};
use dti_db::PgTransaction;
use dti_proto::dti::submission::v1::SubmitRequest;
use dti_testkit::{wait_until, with_auth, Poll};
use support::Stack;
use tokio_util::sync::CancellationToken;

const CALLER_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Records the trace id of the span each event is handled in.
#[derive(Clone, Default)]
struct TraceRecorder(Arc<Mutex<Vec<String>>>);

impl EventHandler for TraceRecorder {
    type Error = std::convert::Infallible;

    async fn handle(
        &self,
        _tx: &mut PgTransaction,
        _event: &InboundEvent,
    ) -> Result<(), Self::Error> {
        let trace = dti_telemetry::current_trace_id().map(|id| id.to_string());
        self.0.lock().expect("lock").extend(trace);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_trace_continues_into_the_event_consumer() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let id = stack.drafted_with_values("quan-1").await?;

    let recorder = TraceRecorder::default();
    let js = dti_bus::connect(&dti_testkit::nats_url()).await?;
    let stream = dti_bus::stream::stream_name(&stack.backends.nats_prefix);
    let consumer = IdempotentConsumer::create(
        &js,
        &stream,
        ConsumerSettings::new(
            "trace-probe",
            format!("{}.submission.submitted.v1", stack.backends.nats_prefix),
        ),
        stack.backends.db.pool().clone(),
        recorder.clone(),
    )
    .await?;
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(stop.clone()));

    let mut request = with_auth(
        SubmitRequest {
            submission_id: id,
            client_request_id: "traced".into(),
        },
        &stack.unit_token("quan-1"),
    );
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{CALLER_TRACE_ID}-00f067aa0ba902b7-01").parse()?,
    );
    stack.submissions().submit(request).await?;

    // The check below says what arrived; waiting longer is all a timeout would add.
    let poll = Poll::new(Duration::from_secs(10), Duration::from_millis(100));
    let _ = wait_until("the consumer to record a trace", poll, || {
        let recorded = !recorder.0.lock().expect("lock").is_empty();
        async move { Ok(recorded) }
    })
    .await;
    stop.cancel();
    running.await??;
    assert_eq!(
        recorder.0.lock().expect("lock").as_slice(),
        [CALLER_TRACE_ID]
    );
    stack.close().await
}
