//! `dtictl sync …`: the national sync of a year, as the Department of Information and
//! Communications runs it through the national-sync service — `plan` (the dry run: what
//! would be pushed and how it differs from what the national system last accepted), `start`
//! (push that plan; `--wait` follows the run to its end), `status` of a run, and `log` (every
//! push attempt) — and `report`, the reconciliation report read from the platform database:
//! per item of the national set, its owners and their parts, the local value, the last value
//! pushed, and whether it was accepted or rejected and why (`dti_national_sync::report`).

use dti_national_sync::report::{ReportError, ReportRequest};

use std::time::Duration;

use dti_proto::dti::nationalsync::v1 as pb;
use dti_proto::dti::nationalsync::v1::national_sync_service_client::NationalSyncServiceClient;
use tonic::transport::Channel;

use crate::commands::database::{connect, DatabaseArgs};
use crate::print_json;
use crate::remote::{call, enum_name, operator, table, when, Output, Remote, Service};
use crate::runtime;
use crate::{tr, Failure};

/// `dtictl sync …`.
#[derive(Debug, clap::Subcommand)]
pub enum SyncCommand {
    /// Per item: owner, local value, last pushed value, accepted or rejected and why.
    Report(ReportArgs),
    /// The dry run: what a sync would push now, changing nothing.
    Plan {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// List every item, not only those to push.
        #[arg(long)]
        all: bool,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
    /// Push a year to the national system: the plan with this digest, or a fresh plan.
    Start {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// Digest of the plan a dry run showed (default: plan now and push that).
        #[arg(long)]
        plan_digest: Option<String>,
        /// Follow the run until every push is answered.
        #[arg(long)]
        wait: bool,
        /// How long `--wait` follows the run, in seconds.
        #[arg(long, default_value_t = 300)]
        wait_secs: u64,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
    /// A sync run's progress.
    Status {
        /// The run.
        #[arg(long)]
        run_id: String,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
    /// The push log of a year (or of one run).
    Log {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// Only this run's pushes.
        #[arg(long)]
        run_id: Option<String>,
        /// At most this many entries, newest first.
        #[arg(long, default_value_t = 200)]
        limit: u32,
        /// How to reach the services.
        #[command(flatten)]
        remote: Remote,
    },
}

/// Output of `dtictl sync report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One line per item for people, with each owner's part of multi-owner items.
    Table,
    /// The report as JSON.
    Json,
}

/// What `dtictl sync report` reads.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Year of the national index, e.g. 2024.
    #[arg(long)]
    pub year: u32,
    /// Framework id of the national set.
    #[arg(long, default_value = "mic-2022-province")]
    pub framework: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// How to reach the database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs `dtictl sync …`.
pub fn run(command: &SyncCommand, output: Output) -> Result<(), Failure> {
    match command {
        SyncCommand::Report(args) => report(args),
        SyncCommand::Plan { year, all, remote } => runtime()?.block_on(async {
            let plan = plan(remote, *year).await?;
            output.emit(&plan, |plan| render_plan(plan, *all))
        }),
        SyncCommand::Start {
            year,
            plan_digest,
            wait,
            wait_secs,
            remote,
        } => runtime()?.block_on(async {
            let digest = match plan_digest {
                Some(digest) => digest.clone(),
                None => plan(remote, *year).await?.plan_digest,
            };
            let mut client = client(remote).await?;
            let request = pb::StartSyncRequest {
                year: *year,
                plan_digest: digest,
            };
            let mut run = call(
                &tr!("dtictl-what-year", year = *year),
                client.start_sync(remote.request(request, &operator())?),
            )
            .await?;
            if *wait {
                run = follow(remote, &mut client, run, Duration::from_secs(*wait_secs)).await?;
            }
            output.emit(&run, describe_run)
        }),
        SyncCommand::Status { run_id, remote } => runtime()?.block_on(async {
            let mut client = client(remote).await?;
            let run = get_run(remote, &mut client, run_id).await?;
            output.emit(&run, describe_run)
        }),
        SyncCommand::Log {
            year,
            run_id,
            limit,
            remote,
        } => runtime()?.block_on(async {
            let mut client = client(remote).await?;
            let request = pb::ListPushLogRequest {
                year: *year,
                run_id: run_id.clone().unwrap_or_default(),
                department_id: String::new(),
                limit: *limit,
            };
            let log = call(
                &tr!("dtictl-what-year", year = *year),
                client.list_push_log(remote.request(request, &operator())?),
            )
            .await?;
            output.emit(&log, render_log)
        }),
    }
}

async fn client(remote: &Remote) -> Result<NationalSyncServiceClient<Channel>, Failure> {
    Ok(NationalSyncServiceClient::new(
        remote.channel(Service::NationalSync).await?,
    ))
}

/// The dry run of a year's sync (`PlanSync`, as an operator): every item and its national value.
pub(crate) async fn plan(remote: &Remote, year: u32) -> Result<pb::SyncPlan, Failure> {
    let mut client = client(remote).await?;
    call(
        &tr!("dtictl-what-year", year = year),
        client.plan_sync(remote.request(pb::PlanSyncRequest { year }, &operator())?),
    )
    .await
}

async fn get_run(
    remote: &Remote,
    client: &mut NationalSyncServiceClient<Channel>,
    run_id: &str,
) -> Result<pb::SyncRun, Failure> {
    let request = pb::GetSyncRunRequest {
        run_id: run_id.to_owned(),
    };
    call(
        &tr!("dtictl-what-run", run = run_id),
        client.get_sync_run(remote.request(request, &operator())?),
    )
    .await
}

/// Polls a run until nothing is pending or `limit` passes (then exit 1: the run goes on in
/// the service, and `dtictl sync status` follows it).
async fn follow(
    remote: &Remote,
    client: &mut NationalSyncServiceClient<Channel>,
    mut run: pb::SyncRun,
    limit: Duration,
) -> Result<pb::SyncRun, Failure> {
    let progress = indicatif::ProgressBar::new(u64::from(run.items));
    let deadline = tokio::time::Instant::now() + limit;
    while run.pending > 0 {
        progress.set_position(u64::from(run.items - run.pending.min(run.items)));
        if tokio::time::Instant::now() >= deadline {
            progress.abandon();
            return Err(Failure::Unexpected(anyhow::anyhow!(tr!(
                "dtictl-sync-still-pending",
                run = &run.run_id,
                pending = run.pending,
                seconds = limit.as_secs()
            ))));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        run = get_run(remote, client, &run.run_id).await?;
    }
    progress.finish_and_clear();
    Ok(run)
}

fn describe_run(run: &pb::SyncRun) -> String {
    tr!(
        "dtictl-sync-run",
        run = &run.run_id,
        year = run.year,
        framework = &run.framework,
        items = run.items,
        accepted = run.accepted,
        rejected = run.rejected,
        pending = run.pending,
        superseded = run.superseded,
        started = when(run.created_at.as_ref()),
        finished = when(run.finished_at.as_ref())
    )
}

fn render_plan(plan: &pb::SyncPlan, all: bool) -> String {
    let rows = plan
        .items
        .iter()
        .filter(|item| all || item.action == pb::PlanAction::Push as i32)
        .map(|item| {
            let action = pb::PlanAction::try_from(item.action)
                .map(|a| crate::text::state(&enum_name(a.as_str_name(), "PLAN_ACTION_")))
                .unwrap_or_default();
            let diff = pb::ValueDiff::try_from(item.diff)
                .map(|d| crate::text::state(&enum_name(d.as_str_name(), "VALUE_DIFF_")))
                .unwrap_or_default();
            [
                item.item
                    .as_ref()
                    .map(|i| i.code.clone())
                    .unwrap_or_default(),
                action,
                diff,
                item.version.to_string(),
                item.value_json.chars().take(60).collect(),
            ]
        });
    let header = [
        tr!("dtictl-col-item"),
        tr!("dtictl-col-action"),
        tr!("dtictl-col-diff"),
        tr!("dtictl-col-version"),
        tr!("dtictl-col-value"),
    ];
    format!(
        "{}\n{}\n{}",
        table(header, rows),
        tr!(
            "dtictl-sync-plan",
            year = plan.year,
            framework = &plan.framework,
            push = plan.to_push,
            items = plan.items.len(),
            digest = &plan.plan_digest
        ),
        tr!(
            "dtictl-sync-plan-start",
            year = plan.year,
            digest = &plan.plan_digest
        )
    )
}

fn render_log(log: &pb::ListPushLogResponse) -> String {
    let rows = log.entries.iter().map(|entry| {
        let event = pb::PushEvent::try_from(entry.event)
            .map(|e| crate::text::state(&enum_name(e.as_str_name(), "PUSH_EVENT_")))
            .unwrap_or_default();
        [
            when(entry.at.as_ref()),
            entry
                .item
                .as_ref()
                .map(|i| i.code.clone())
                .unwrap_or_default(),
            entry.version.to_string(),
            entry.department_id.clone(),
            event,
            entry.attempt.to_string(),
            entry.detail.chars().take(60).collect(),
        ]
    });
    format!(
        "{}\n{}",
        table(
            [
                tr!("dtictl-col-at"),
                tr!("dtictl-col-item"),
                tr!("dtictl-col-version"),
                tr!("dtictl-col-owner"),
                tr!("dtictl-col-event"),
                tr!("dtictl-col-attempt"),
                tr!("dtictl-col-detail"),
            ],
            rows
        ),
        tr!("dtictl-sync-log-entries", entries = log.entries.len())
    )
}

fn report(args: &ReportArgs) -> Result<(), Failure> {
    let failure = |error| match error {
        ReportError::InvalidInput(message) => Failure::InvalidInput(vec![message]),
        ReportError::Unexpected(message) => Failure::Unexpected(anyhow::anyhow!(message)),
    };
    let request = ReportRequest::new(args.year, &args.framework).map_err(failure)?;
    let report = runtime()?.block_on(async {
        let pool = connect(&args.database).await?;
        let report = request.read(&pool).await.map_err(failure);
        pool.close().await;
        report
    })?;
    match args.format {
        ReportFormat::Table => {
            print!("{}", report.render_table(crate::text::lang()));
            Ok(())
        }
        ReportFormat::Json => print_json(&report.to_json()),
    }
}
