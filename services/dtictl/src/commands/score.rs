//! `dtictl score`: the scoring contract's output, computed by the shared engine and streamed
//! to stdout (indicators and groups in framework order, scores as strings with 2 decimals).

use super::load_cohort;
use crate::{tr, Failure};
use dti_domain::FrameworkCatalog;
use dti_engine::{score_cohort, CohortScores, Explain, UnitScore};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// How `dtictl score` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The scoring contract's JSON.
    Json,
    /// A ranking table: rank, unit, total and group scores.
    Table,
}

/// Scores a cohort file and prints the contract's JSON (or a ranking table).
pub fn run(
    catalog: &FrameworkCatalog,
    input: &Path,
    explain: bool,
    format: Format,
) -> Result<(), Failure> {
    let cohort = load_cohort(catalog, input)?;
    let detail = if explain {
        Explain::Full
    } else {
        Explain::ScoresOnly
    };
    let scores = score_cohort(&cohort, detail).map_err(|e| Failure::Unexpected(e.into()))?;
    drop(cohort);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &ContractOutput(&scores))
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Table => write_table(&mut out, &scores),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Unexpected(e.into()))
}

fn write_table(out: &mut impl Write, scores: &CohortScores) -> std::io::Result<()> {
    let mut ranked: Vec<&UnitScore> = scores.units.iter().collect();
    ranked.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
    let groups: Vec<String> = ranked
        .first()
        .map(|u| {
            u.groups
                .iter()
                .map(|g| format!("{:>7}", g.code.as_str()))
                .collect()
        })
        .unwrap_or_default();
    writeln!(
        out,
        "{:>4}  {:<28} {:>8}  {}",
        tr!("dtictl-col-rank"),
        tr!("dtictl-col-unit"),
        tr!("dtictl-col-total"),
        groups.join(" ")
    )?;
    for unit in ranked {
        let groups: Vec<String> = unit
            .groups
            .iter()
            .map(|g| format!("{:>7}", g.score.to_string()))
            .collect();
        writeln!(
            out,
            "{:>4}  {:<28} {:>8}  {}",
            unit.rank,
            unit.unit.as_str(),
            unit.total.to_string(),
            groups.join(" ")
        )?;
    }
    Ok(())
}

/// The contract's output document for a scored cohort.
pub struct ContractOutput<'a>(pub &'a CohortScores);

impl Serialize for ContractOutput<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("framework", &self.0.framework)?;
        let units: Vec<UnitOutput> = self.0.units.iter().map(UnitOutput).collect();
        map.serialize_entry("units", &units)?;
        map.end()
    }
}

struct UnitOutput<'a>(&'a UnitScore);

struct Indicators<'a>(&'a UnitScore);
struct Groups<'a>(&'a UnitScore);
struct Explanations<'a>(&'a UnitScore);

impl Serialize for UnitOutput<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let unit = self.0;
        let explained = unit.indicators.iter().any(|i| i.explanation.is_some());
        let mut map = serializer.serialize_map(Some(5 + usize::from(explained)))?;
        map.serialize_entry("unit", &unit.unit)?;
        map.serialize_entry("indicators", &Indicators(unit))?;
        map.serialize_entry("groups", &Groups(unit))?;
        map.serialize_entry("total", &unit.total)?;
        map.serialize_entry("rank", &unit.rank)?;
        if explained {
            map.serialize_entry("explanations", &Explanations(unit))?;
        }
        map.end()
    }
}

impl Serialize for Indicators<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.indicators.iter().map(|i| (&i.code, i.score)))
    }
}

impl Serialize for Groups<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.groups.iter().map(|g| (&g.code, g.score)))
    }
}

impl Serialize for Explanations<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .indicators
                .iter()
                .filter_map(|i| i.explanation.as_ref().map(|e| (&i.code, e))),
        )
    }
}
