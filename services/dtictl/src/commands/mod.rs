//! Shared plumbing of the commands: loading the framework catalog and reading input files.

pub mod client;
pub mod database;
pub mod frameworks;
pub mod generate;
pub mod score;
pub mod sync;
pub mod token;
pub mod validate;

use crate::Failure;
use dti_domain::values::{decode_cohort, Cohort, InputIssue};
use dti_domain::FrameworkCatalog;
use std::io::{Read, Write};
use std::path::Path;

/// The built-in frameworks plus an operator's directory; a broken file is invalid input.
pub fn load_catalog(dir: Option<&Path>) -> Result<FrameworkCatalog, Failure> {
    let catalog = match dir {
        Some(dir) => FrameworkCatalog::builtin_and_dir(dir),
        None => FrameworkCatalog::builtin(),
    };
    catalog.map_err(|e| Failure::InvalidInput(e.to_string().lines().map(str::to_string).collect()))
}

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<String, Failure> {
    let mut text = String::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    result.map_err(|e| {
        Failure::InvalidInput(vec![format!("input: cannot read {}: {e}", path.display())])
    })?;
    Ok(text)
}

/// Decodes and validates a cohort file; warnings go to stderr, errors fail with exit code 2.
pub fn load_cohort(catalog: &FrameworkCatalog, path: &Path) -> Result<Cohort, Failure> {
    let text = read_input(path)?;
    let decoded = decode_cohort(&text, catalog);
    let (errors, warnings): (Vec<InputIssue>, Vec<InputIssue>) =
        decoded.issues.into_iter().partition(InputIssue::is_error);
    for warning in &warnings {
        eprintln!("{warning}");
    }
    match decoded.value {
        Some(cohort) if errors.is_empty() => Ok(cohort),
        _ => Err(Failure::InvalidInput(
            errors.iter().map(ToString::to_string).collect(),
        )),
    }
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
