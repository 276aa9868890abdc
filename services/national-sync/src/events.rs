//! The events this service publishes (`dti.events.v1`, `proto/.../events/v1/national_sync.proto`)
//! as outbox messages: subject `<prefix>.national_sync.<event>.v1` and a stable `Nats-Msg-Id`
//! per fact. They are enqueued in the transaction of the change they announce.

use dti_bus::outbox::{self, OutboxMessage};
use dti_db::PgTransaction;
use dti_proto::dti::events::v1 as events;
use prost::Message;

use crate::NationalSyncError;

/// Event name of an owner's part changing.
pub const OWNER_VALUE_CHANGED: &str = "national_sync.owner_value_changed.v1";
/// Event name of a sync run starting.
pub const RUN_STARTED: &str = "national_sync.run_started.v1";
/// Event name of a push answered for good.
pub const PUSH_COMPLETED: &str = "national_sync.push_completed.v1";
/// Event name of a sync run finishing.
pub const RUN_FINISHED: &str = "national_sync.run_finished.v1";

/// Builds full subjects under the service's NATS prefix.
#[derive(Debug, Clone)]
pub struct EventSubjects {
    prefix: String,
}

impl EventSubjects {
    /// Subjects under `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    fn subject(&self, event: &str) -> String {
        dti_bus::stream::subject(&self.prefix, event)
    }
}

/// The protobuf timestamp of `at`.
pub use dti_proto::convert::timestamp;

async fn enqueue(
    tx: &mut PgTransaction,
    subject: String,
    msg_id: String,
    payload: Vec<u8>,
) -> Result<(), NationalSyncError> {
    outbox::enqueue(tx, &OutboxMessage::new(subject, msg_id, payload)).await?;
    Ok(())
}

/// Enqueues `NationalOwnerValueChanged`.
pub async fn owner_value_changed(
    tx: &mut PgTransaction,
    subjects: &EventSubjects,
    event: &events::NationalOwnerValueChanged,
) -> Result<(), NationalSyncError> {
    let msg_id = format!(
        "national-part/{}/{}/{}/{}/{}/r{}",
        event.year,
        event.framework,
        event.item_kind,
        event.item_code,
        event.department_id,
        event.revision
    );
    let subject = subjects.subject(OWNER_VALUE_CHANGED);
    enqueue(tx, subject, msg_id, event.encode_to_vec()).await
}

/// Enqueues `NationalSyncRunStarted`.
pub async fn run_started(
    tx: &mut PgTransaction,
    subjects: &EventSubjects,
    event: &events::NationalSyncRunStarted,
) -> Result<(), NationalSyncError> {
    let msg_id = format!("national-run/{}/started", event.run_id);
    let subject = subjects.subject(RUN_STARTED);
    enqueue(tx, subject, msg_id, event.encode_to_vec()).await
}

/// Enqueues `NationalPushCompleted`.
pub async fn push_completed(
    tx: &mut PgTransaction,
    subjects: &EventSubjects,
    event: &events::NationalPushCompleted,
) -> Result<(), NationalSyncError> {
    let msg_id = format!("national-push/{}", event.idempotency_key);
    let subject = subjects.subject(PUSH_COMPLETED);
    enqueue(tx, subject, msg_id, event.encode_to_vec()).await
}

/// Enqueues `NationalSyncRunFinished`.
pub async fn run_finished(
    tx: &mut PgTransaction,
    subjects: &EventSubjects,
    event: &events::NationalSyncRunFinished,
) -> Result<(), NationalSyncError> {
    let msg_id = format!("national-run/{}/finished", event.run_id);
    let subject = subjects.subject(RUN_FINISHED);
    enqueue(tx, subject, msg_id, event.encode_to_vec()).await
}
