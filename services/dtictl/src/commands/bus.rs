//! `dtictl bus`: the event bus's dead letters, on the platform database — list the messages a
//! consumer gave up on after its last delivery, and ask the consumer that failed to apply one
//! (or all of its own) again. The consumer applies a requested replay itself within its
//! housekeeping interval (`dti_bus::dead_letters`), once, and a replay that fails again is
//! listed with its error.

use dti_bus::dead_letters::{self, DeadLetter, ReplayRequest};
use serde_json::json;

use crate::commands::database::{connect, DatabaseArgs};
use crate::remote::{table, Output};
use crate::runtime;
use crate::{tr, Failure};

/// What `dtictl bus` does.
#[derive(Debug, clap::Subcommand)]
pub enum BusCommand {
    /// List the messages consumers gave up on (those not replayed yet, or all).
    DeadLetters(DeadLettersArgs),
    /// Ask a consumer to apply its dead letters again.
    Replay(ReplayArgs),
}

/// Which dead letters to list.
#[derive(Debug, clap::Args)]
pub struct DeadLettersArgs {
    /// Only this durable consumer's (e.g. scoring-on-submission).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Also those replayed already.
    #[arg(long)]
    pub all: bool,
    /// How to reach the database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Which dead letters to replay.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The durable consumer that gave up on them.
    #[arg(long)]
    pub consumer: String,
    /// The message id (`Nats-Msg-Id`) of one dead letter.
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    pub msg_id: Option<String>,
    /// Every dead letter of the consumer not replayed yet.
    #[arg(long)]
    pub all: bool,
    /// How to reach the database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs a `dtictl bus` command.
pub fn run(command: &BusCommand, output: Output) -> Result<(), Failure> {
    match command {
        BusCommand::DeadLetters(args) => list(args, output),
        BusCommand::Replay(args) => replay(args),
    }
}

fn unexpected(error: dti_bus::BusError) -> Failure {
    Failure::Unexpected(error.into())
}

fn checked_consumer(consumer: &str) -> Result<(), Failure> {
    let valid = !consumer.is_empty()
        && consumer.len() <= 64
        && consumer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Failure::InvalidInput(vec![tr!(
            "dtictl-bus-bad-consumer",
            consumer = consumer
        )]))
    }
}

fn list(args: &DeadLettersArgs, output: Output) -> Result<(), Failure> {
    if let Some(consumer) = &args.consumer {
        checked_consumer(consumer)?;
    }
    runtime()?.block_on(async {
        let pool = connect(&args.database).await?;
        let letters = dead_letters::list(&pool, args.consumer.as_deref(), args.all)
            .await
            .map_err(unexpected)?;
        if output.json {
            let rows: Vec<_> = letters.iter().map(as_json).collect();
            println!("{}", json!({ "dead_letters": rows }));
        } else if letters.is_empty() {
            println!("{}", tr!("dtictl-bus-none"));
        } else {
            println!("{}", human(&letters));
        }
        Ok(())
    })
}

fn as_json(letter: &DeadLetter) -> serde_json::Value {
    json!({
        "consumer": letter.consumer,
        "msg_id": letter.msg_id,
        "subject": letter.subject,
        "deliveries": letter.deliveries,
        "error": letter.error,
        "failed_at": letter.failed_at.to_rfc3339(),
        "replay_requested_at": letter.replay_requested_at.map(|at| at.to_rfc3339()),
        "replayed_at": letter.replayed_at.map(|at| at.to_rfc3339()),
        "replay_error": letter.replay_error,
    })
}

fn human(letters: &[DeadLetter]) -> String {
    table(
        [
            tr!("dtictl-col-consumer"),
            tr!("dtictl-col-msg-id"),
            tr!("dtictl-col-subject"),
            tr!("dtictl-col-deliveries"),
            tr!("dtictl-col-failed-at"),
            tr!("dtictl-col-replay"),
            tr!("dtictl-col-error"),
        ],
        letters.iter().map(|letter| {
            let replay = match (&letter.replayed_at, &letter.replay_requested_at) {
                (Some(at), _) => tr!("dtictl-bus-replayed", at = at.to_rfc3339()),
                (None, Some(_)) => tr!("dtictl-bus-replay-requested"),
                (None, None) => match &letter.replay_error {
                    Some(error) => tr!("dtictl-bus-replay-failed", error = error.as_str()),
                    None => String::new(),
                },
            };
            [
                letter.consumer.clone(),
                letter.msg_id.clone(),
                letter.subject.clone(),
                letter.deliveries.to_string(),
                letter.failed_at.to_rfc3339(),
                replay,
                letter.error.clone(),
            ]
        }),
    )
}

fn replay(args: &ReplayArgs) -> Result<(), Failure> {
    checked_consumer(&args.consumer)?;
    runtime()?.block_on(async {
        let pool = connect(&args.database).await?;
        let ids: Vec<String> = match &args.msg_id {
            Some(id) => vec![id.clone()],
            None => dead_letters::list(&pool, Some(&args.consumer), false)
                .await
                .map_err(unexpected)?
                .into_iter()
                .map(|letter| letter.msg_id)
                .collect(),
        };
        let mut requested = 0;
        for id in &ids {
            match dead_letters::request_replay(&pool, &args.consumer, id)
                .await
                .map_err(unexpected)?
            {
                ReplayRequest::Requested => requested += 1,
                ReplayRequest::AlreadyReplayed => println!(
                    "{}",
                    tr!("dtictl-bus-already-replayed", msg_id = id.as_str())
                ),
                ReplayRequest::NotFound => {
                    return Err(Failure::InvalidInput(vec![tr!(
                        "dtictl-bus-no-such-letter",
                        consumer = args.consumer.as_str(),
                        msg_id = id.as_str()
                    )]))
                }
            }
        }
        println!(
            "{}",
            tr!(
                "dtictl-bus-replay-asked",
                count = requested,
                consumer = args.consumer.as_str()
            )
        );
        Ok(())
    })
}
