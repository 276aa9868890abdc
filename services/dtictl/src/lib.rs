//! The commands of `dtictl`, one module each, over the shared domain and engine crates; the
//! commands that call the running services share [`remote`] (endpoints, credentials, exit
//! codes, `--json`):
//! - `score`: score a cohort file exactly as the scoring contract says;
//! - `validate`: check a cohort file without scoring it;
//! - `frameworks` / `framework show`: list and inspect the known indicator frameworks;
//! - `generate`: a deterministic sample cohort for demos and benchmarks;
//! - `token`: a development token for a role;
//! - `migrate`, `audit verify`: the platform database's schema and audit chains;
//! - `round open|close|show`, `submit`: calls to the submission service;
//! - `registry export|import|unit|cohort|lineage`: the unit registry the services use; the
//!   commands that call the services check and name units with the revision in force
//!   ([`registry_in_force`]);
//! - `owner submit|show|completeness`: the data owners' values of the national set;
//! - `sync plan|start|status|log|report`: the national sync and its reconciliation report;
//! - `verify …`: the verifier's steps on a round (decisions from a file, clarifications,
//!   completion);
//! - `approval …`, `publish`, `publication show|list`, `correction`, `objection …`, `finalize`:
//!   approving, publishing and finalizing a verified round;
//! - `round progress|reopen`: where a round stands, and a late unit let in;
//! - `draft show|set|not-applicable|clear|submit|versions`: a unit's own draft and versions;
//! - `scorecard`, `what-if`, `position`, `ranking show`: reading scores and rankings;
//! - `evidence upload|list|download|remove`: a unit's evidence documents;
//! - `form template|import`: the self-assessment as an .xlsx form (`dti-forms`);
//! - `export ranking|scorecard|side-by-side|publication|national-form`: results as .xlsx reports
//!   for the city's report.

#![warn(missing_docs)]

pub mod commands;
pub mod help;
pub mod registry_in_force;
pub mod remote;
pub mod text;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Command-line tool of the city's DTI platform. Its help (the about from the package's
/// description, and the doc comments below) is shown from the catalogues in the run's language:
/// parse with [`help::parse`], not `Cli::parse`.
#[derive(Debug, Parser)]
#[command(name = "dtictl", version, about)]
pub struct Cli {
    /// Extra directory of framework files (`*.toml`) added to the built-in ones.
    #[arg(long, global = true, env = "DTI_FRAMEWORK_DIR")]
    pub framework_dir: Option<PathBuf>,

    /// Print answers of the services as JSON (the protobuf JSON mapping) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Language of what dtictl prints and of the forms and reports it writes (Vietnamese by
    /// default); the services answer refusals in it too.
    #[arg(long, global = true, value_enum, env = "DTI_LANG", default_value_t = text::LangArg::Vi)]
    pub lang: text::LangArg,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score a cohort: JSON on stdout; invalid input exits 2 with every problem on stderr.
    Score {
        /// Cohort file (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Add each indicator's explanation (rule, inputs, ratio, threshold, cohort min/max).
        #[arg(long)]
        explain: bool,
        /// Output format: the contract's JSON, or a ranking table for people.
        #[arg(long, value_enum, default_value_t = commands::score::Format::Json)]
        format: commands::score::Format,
    },
    /// Validate a cohort file without scoring it.
    Validate {
        /// Cohort file (`-` for standard input).
        #[arg(long)]
        input: PathBuf,
    },
    /// List the known frameworks.
    Frameworks,
    /// Generate a deterministic sample cohort (for demos and benchmarks).
    Generate(commands::generate::GenerateArgs),
    /// Inspect one framework.
    Framework {
        /// What to do.
        #[command(subcommand)]
        command: FrameworkCommand,
    },
    /// Print a signed development token for a role.
    Token(commands::token::TokenArgs),
    /// Apply the platform's database migrations.
    Migrate(commands::database::DatabaseArgs),
    /// The event bus's dead letters: list them, have their consumer apply them again.
    Bus {
        /// What to do.
        #[command(subcommand)]
        command: commands::bus::BusCommand,
    },
    /// Check the audit log.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage a round on the submission service (as an operator).
    Round {
        /// What to do.
        #[command(subcommand)]
        command: commands::client::RoundCommand,
    },
    /// Submit each unit's values from a cohort file to the submission service.
    Submit(commands::client::SubmitArgs),
    /// The unit registry the services use: export it, import a file, add or change a unit, set a cohort, record lineage.
    Registry {
        /// What to do.
        #[command(subcommand)]
        command: commands::registry::RegistryCommand,
    },
    /// National sync of a year: plan (dry run), start, status, push log, reconciliation report.
    Sync {
        /// What to do.
        #[command(subcommand)]
        command: commands::sync::SyncCommand,
    },
    /// Data owners' values of the national set: submit from a file, show, completeness.
    Owner {
        /// What to do.
        #[command(subcommand)]
        command: commands::owner::OwnerCommand,
    },
    /// Verify a round's submissions (as a verifier of the Department of Information and
    /// Communications).
    Verify {
        /// What to do.
        #[command(subcommand)]
        command: commands::review::VerifyCommand,
    },
    /// The chairman's office: the verified ranking, approve it or return it (as an approver).
    Approval {
        /// What to do.
        #[command(subcommand)]
        command: commands::publication::ApprovalCommand,
    },
    /// Publish an approved round: revision 1, the start of the provisional period.
    Publish(commands::review::RoundOnly),
    /// Read published revisions.
    Publication {
        /// What to do.
        #[command(subcommand)]
        command: commands::publication::PublicationCommand,
    },
    /// Publish a correction of a provisional result, with a reason (as an approver).
    Correction(commands::publication::WithReason),
    /// Make a provisional result final (as an operator).
    Finalize(commands::review::RoundOnly),
    /// Units' objections to a provisional result: file, list, answer.
    Objection {
        /// What to do.
        #[command(subcommand)]
        command: commands::objection::ObjectionCommand,
    },
    /// A unit's draft on the submission service (as the unit's submitter).
    Draft {
        /// What to do.
        #[command(subcommand)]
        command: commands::unit::DraftCommand,
    },
    /// A unit's scorecard: total, groups and each indicator's exact score (and explanation).
    Scorecard(commands::results::ScorecardArgs),
    /// Score a hypothetical change to a unit's own values; nothing is saved.
    WhatIf(commands::what_if::WhatIfArgs),
    /// A unit's rank, score and movement against last year.
    Position(commands::results::PositionArgs),
    /// A round's ranking.
    Ranking {
        /// What to do.
        #[command(subcommand)]
        command: commands::results::RankingCommand,
    },
    /// A unit's evidence documents on the evidence service.
    Evidence {
        /// What to do.
        #[command(subcommand)]
        command: commands::evidence::EvidenceCommand,
    },
    /// The self-assessment as an .xlsx form: an empty template, or a filled one imported.
    Form {
        /// What to do.
        #[command(subcommand)]
        command: commands::form::FormCommand,
    },
    /// Results as .xlsx reports with Vietnamese (or English) headings.
    Export {
        /// What to export.
        #[command(subcommand)]
        command: commands::export::ExportCommand,
    },
}

/// `dtictl audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute a round's hash chains and report the first broken link (exit code 3).
    Verify(commands::database::AuditVerifyArgs),
}

/// `dtictl framework …`.
#[derive(Debug, Subcommand)]
pub enum FrameworkCommand {
    /// Show a framework's groups, indicators, rules and variables.
    Show {
        /// Framework id, e.g. hcm-2023-district.
        id: String,
        /// Print the checked framework as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Store a framework file on the platform so rounds can be opened with it (as an operator).
    Add {
        /// The framework file (TOML; `-` for standard input).
        #[arg(long)]
        input: PathBuf,
        /// Why it is stored (kept with it).
        #[arg(long, default_value = "")]
        reason: String,
        /// How to reach the services.
        #[command(flatten)]
        connection: remote::Remote,
    },
    /// List the frameworks the platform knows: content hash, origin, the rounds that pin each.
    List {
        /// How to reach the services.
        #[command(flatten)]
        connection: remote::Remote,
    },
}

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The caller's input or request is wrong (exit code 2); one line per problem.
    InvalidInput(Vec<String>),
    /// Something unexpected (exit code 1).
    Unexpected(anyhow::Error),
    /// A check found what it looks for: a broken audit chain (exit code 3).
    Broken(String),
    /// The platform refused a state change the request asked for (exit code 3); one line per
    /// reason.
    Refused(Vec<String>),
    /// The caller may not do this: wrong role, another unit's data, or no valid token (exit
    /// code 4).
    Denied(Vec<String>),
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Unexpected(error)
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    text::set_lang(cli.lang.into());
    let catalog = commands::load_catalog(cli.framework_dir.as_deref())?;
    let output = remote::Output { json: cli.json };
    match cli.command {
        Command::Score {
            input,
            explain,
            format,
        } => commands::score::run(&catalog, &input, explain, format),
        Command::Validate { input } => commands::validate::run(&catalog, &input),
        Command::Frameworks => commands::frameworks::list(&catalog),
        Command::Generate(args) => commands::generate::run(&catalog, &args),
        Command::Framework {
            command: FrameworkCommand::Show { id, json },
        } => commands::frameworks::show(&catalog, &id, json),
        Command::Framework {
            command:
                FrameworkCommand::Add {
                    input,
                    reason,
                    connection,
                },
        } => commands::frameworks::add(&catalog, &connection, &input, &reason, output),
        Command::Framework {
            command: FrameworkCommand::List { connection },
        } => commands::frameworks::platform_list(&connection, output),
        Command::Token(args) => commands::token::run(&args),
        Command::Migrate(args) => commands::database::migrate(&args),
        Command::Bus { command } => commands::bus::run(&command, output),
        Command::Audit {
            command: AuditCommand::Verify(args),
        } => commands::database::audit_verify(&args),
        Command::Round { command } => commands::client::round(&command, output),
        Command::Submit(args) => commands::client::submit(&catalog, &args),
        Command::Registry { command } => commands::registry::run(&command, output),
        Command::Sync { command } => commands::sync::run(&command, output),
        Command::Owner { command } => commands::owner::run(&command, output),
        Command::Verify { command } => commands::review::run(&catalog, &command, output),
        Command::Approval { command } => {
            commands::publication::approval(&catalog, &command, output)
        }
        Command::Publish(args) => {
            let step = commands::publication::Step::Publish;
            commands::publication::round_step(&catalog, &args.round, &args.connection, step, output)
        }
        Command::Publication { command } => {
            commands::publication::publication(&catalog, &command, output)
        }
        Command::Correction(args) => {
            let step = commands::publication::Step::Correction(&args.reason);
            commands::publication::round_step(&catalog, &args.round, &args.connection, step, output)
        }
        Command::Finalize(args) => {
            let step = commands::publication::Step::Finalize;
            commands::publication::round_step(&catalog, &args.round, &args.connection, step, output)
        }
        Command::Objection { command } => {
            commands::objection::objection(&catalog, &command, output)
        }
        Command::Draft { command } => commands::unit::run(&catalog, &command, output),
        Command::Scorecard(args) => commands::results::scorecard(&catalog, &args, output),
        Command::WhatIf(args) => commands::what_if::run(&catalog, &args, output),
        Command::Position(args) => commands::results::position(&catalog, &args, output),
        Command::Ranking { command } => commands::results::ranking(&catalog, &command, output),
        Command::Evidence { command } => commands::evidence::run(&catalog, &command, output),
        Command::Form { command } => commands::form::run(&catalog, &command),
        Command::Export { command } => commands::export::run(&catalog, &command),
    }
}

/// A single-threaded runtime for a command's database or network work.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Unexpected(error.into()))
}

/// Writes JSON to stdout with a trailing newline.
pub fn print_json(value: &serde_json::Value) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| Failure::Unexpected(e.into()))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Unexpected(e.into()))
}
