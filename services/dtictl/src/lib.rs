//! The commands of `dtictl`, one module each, over the shared domain and engine crates:
//! - `score`: score a cohort file exactly as the scoring contract says;
//! - `validate`: check a cohort file without scoring it;
//! - `frameworks` / `framework show`: list and inspect the known indicator frameworks;
//! - `generate`: a deterministic sample cohort for demos and benchmarks.

pub mod commands;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Command-line tool of the city's DTI platform.
#[derive(Debug, Parser)]
#[command(name = "dtictl", version, about)]
pub struct Cli {
    /// Extra directory of framework files (`*.toml`) added to the built-in ones.
    #[arg(long, global = true, env = "DTI_FRAMEWORK_DIR")]
    pub framework_dir: Option<PathBuf>,

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
        #[command(subcommand)]
        command: FrameworkCommand,
    },
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
}

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The caller's input or request is wrong (exit code 2); one line per problem.
    InvalidInput(Vec<String>),
    /// Something unexpected (exit code 1).
    Unexpected(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Unexpected(error)
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let catalog = commands::load_catalog(cli.framework_dir.as_deref())?;
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
    }
}
