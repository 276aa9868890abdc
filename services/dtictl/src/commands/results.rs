//! Reading results: `dtictl scorecard` on the scoring service, `dtictl position` and
//! `dtictl ranking show` on the ranking service (`dtictl what-if` is `what_if`'s). Nothing
//! here changes anything; a unit reads its own results as its submitter, a ranking is read as
//! a verifier (or as a unit with `--as-unit`). Local input (unit, framework, group, limit) is
//! checked before any call (exit code 2).

use std::collections::BTreeMap;

use dti_domain::framework::Framework;
use dti_domain::FrameworkCatalog;
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::{
    GetRankingRequest, GetUnitPositionRequest, Ranking, UnitPosition,
};
use dti_proto::dti::scoring::v1::scoring_service_client::ScoringServiceClient;
use dti_proto::dti::scoring::v1::{Basis, GetScorecardRequest, Outcome, Scorecard};
use serde_json::Value;

use super::round_common::RoundArgs;
use super::unit_common::{known_framework, progress, Names, Target, UnitRound};
use crate::remote::{
    call, enum_name, table, unit_submitter, verifier, when, Output, Remote, Service,
};
use crate::runtime;
use crate::{tr, Failure};

/// Which scores: the self-assessed values, or the values with the verifiers' decisions applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasisArg {
    /// The unit's latest submitted (self-assessed) values.
    #[value(name = "self")]
    SelfAssessed,
    /// The verified values (indicators not decided yet keep the self-assessed value).
    Verified,
}

impl BasisArg {
    /// The basis in the services' terms.
    pub fn proto(self) -> Basis {
        match self {
            BasisArg::SelfAssessed => Basis::SelfAssessed,
            BasisArg::Verified => Basis::Verified,
        }
    }
}

/// A basis for people (`self-assessed`).
fn basis_name(basis: i32) -> String {
    match Basis::try_from(basis) {
        Ok(Basis::SelfAssessed) => tr!("dtictl-basis-self-assessed"),
        Ok(Basis::Verified) => tr!("dtictl-basis-verified"),
        Ok(other) => enum_name(other.as_str_name(), "BASIS_").replace('_', "-"),
        Err(_) => basis.to_string(),
    }
}

/// `dtictl scorecard`.
#[derive(Debug, clap::Args)]
pub struct ScorecardArgs {
    /// The unit and round.
    #[command(flatten)]
    pub target: UnitRound,
    /// Self-assessed or verified scores.
    #[arg(long, value_enum, default_value_t = BasisArg::SelfAssessed)]
    pub basis: BasisArg,
    /// Show each indicator's rule, inputs, explanation and the cohort's min and max.
    #[arg(long)]
    pub explain: bool,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// `dtictl position`.
#[derive(Debug, clap::Args)]
pub struct PositionArgs {
    /// The unit and round.
    #[command(flatten)]
    pub target: UnitRound,
    /// Self-assessed or verified scores.
    #[arg(long, value_enum, default_value_t = BasisArg::SelfAssessed)]
    pub basis: BasisArg,
    /// Rank by this group (e.g. 6) instead of the total.
    #[arg(long)]
    pub group: Option<String>,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// `dtictl ranking …`.
#[derive(Debug, clap::Subcommand)]
pub enum RankingCommand {
    /// A round's ranking, best first, every page followed.
    Show(RankingShowArgs),
}

/// `dtictl ranking show`.
#[derive(Debug, clap::Args)]
pub struct RankingShowArgs {
    /// Which round.
    #[command(flatten)]
    pub round: RoundArgs,
    /// Self-assessed or verified scores.
    #[arg(long, value_enum, default_value_t = BasisArg::SelfAssessed)]
    pub basis: BasisArg,
    /// Rank by this group (e.g. 6) instead of the total.
    #[arg(long)]
    pub group: Option<String>,
    /// Show at most this many units.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Units asked for per call (1 to 1000).
    #[arg(long, default_value_t = 100)]
    pub page_size: u32,
    /// Read the ranking as this unit's submitter (default: as a verifier).
    #[arg(long)]
    pub as_unit: Option<String>,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// A score in hundredths of a point for people: `432.10`, `-0.05`.
pub fn cents(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let value = value.unsigned_abs();
    format!("{sign}{}.{:02}", value / 100, value % 100)
}

/// `--group`'s code is a group of the framework.
fn check_group(framework: &Framework, group: Option<&str>) -> Result<(), String> {
    match group {
        Some(code) if !framework.groups.iter().any(|g| g.code.as_str() == code) => {
            let codes: Vec<&str> = framework.groups.iter().map(|g| g.code.as_str()).collect();
            Err(tr!(
                "dtictl-not-a-group",
                group = code,
                framework = framework.id.to_string(),
                groups = codes.join(", ")
            ))
        }
        _ => Ok(()),
    }
}

/// Runs `dtictl scorecard`.
pub fn scorecard(
    catalog: &FrameworkCatalog,
    args: &ScorecardArgs,
    output: Output,
) -> Result<(), Failure> {
    let (target, card) = fetch_scorecard(catalog, args)?;
    output.emit(&card, |card| {
        describe_scorecard(&target, card, args.explain)
    })
}

/// The unit's scorecard (`GetScorecard`, as the unit's submitter), and the unit and round.
pub fn fetch_scorecard(
    catalog: &FrameworkCatalog,
    args: &ScorecardArgs,
) -> Result<(Target, Scorecard), Failure> {
    let target = args.target.resolve(catalog)?;
    let connection = &args.connection;
    let card = runtime()?.block_on(async {
        let mut client = ScoringServiceClient::new(connection.channel(Service::Scoring).await?);
        let request = GetScorecardRequest {
            round: Some(target.round.clone()),
            unit: Some(target.unit_ref()),
            basis: args.basis.proto() as i32,
        };
        let principal = unit_submitter(target.unit.as_str());
        call(
            &tr!("dtictl-what-unit", unit = target.unit.as_str()),
            client.get_scorecard(connection.request(request, &principal)?),
        )
        .await
    })?;
    Ok((target, card))
}

/// A scorecard for people: the total, the groups, and each indicator (explained when asked).
fn describe_scorecard(target: &Target, card: &Scorecard, explain: bool) -> String {
    let names = &target.names;
    let mut text = tr!(
        "dtictl-scorecard-head",
        unit = target.describe(),
        basis = basis_name(card.basis),
        version = card.input_version,
        cohort = card.cohort_version,
        scored = when(card.scored_at.as_ref())
    );
    text.push('\n');
    text.push_str(&tr!("dtictl-scorecard-total", total = &card.total));
    text.push('\n');
    text.push_str(&table(
        [
            tr!("dtictl-col-group"),
            tr!("dtictl-col-name"),
            tr!("dtictl-col-score"),
        ],
        card.groups.iter().map(|g| {
            [
                g.group_code.clone(),
                names.group(&g.group_code),
                g.score.clone(),
            ]
        }),
    ));
    text.push('\n');
    if !explain {
        text.push_str(&table(
            [
                tr!("dtictl-col-indicator"),
                tr!("dtictl-col-name"),
                tr!("dtictl-col-outcome"),
                tr!("dtictl-col-score"),
            ],
            card.indicators.iter().map(|i| {
                [
                    i.indicator_code.clone(),
                    names.indicator_in_table(&i.indicator_code),
                    outcome_name(i.outcome),
                    i.score.clone(),
                ]
            }),
        ));
        return text;
    }
    let ranges: BTreeMap<&str, _> = card
        .cohort_ranges
        .iter()
        .map(|r| (r.indicator_code.as_str(), r))
        .collect();
    for indicator in &card.indicators {
        let code = indicator.indicator_code.as_str();
        text.push_str(&format!("\n{code}  {}\n      ", names.indicator(code)));
        text.push_str(&tr!(
            "dtictl-explain-score",
            score = &indicator.score,
            outcome = outcome_name(indicator.outcome)
        ));
        text.push('\n');
        if let Some(explanation) = &indicator.explanation {
            let inputs = serde_json::from_str::<Value>(&explanation.json)
                .ok()
                .and_then(|json| json.get("inputs").cloned())
                .and_then(|inputs| inputs.as_object().cloned())
                .map(|inputs| {
                    inputs
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            text.push_str("      ");
            text.push_str(&tr!("dtictl-explain-rule", rule = &explanation.kind));
            if !inputs.is_empty() {
                text.push_str("; ");
                text.push_str(&tr!("dtictl-explain-inputs", inputs = inputs));
            }
            text.push_str(&format!("\n      {}\n", explanation.summary));
        }
        if let Some(range) = ranges.get(code) {
            text.push_str("      ");
            text.push_str(&tr!(
                "dtictl-explain-cohort",
                min = &range.min,
                max = &range.max,
                units = range.units_counted
            ));
            text.push('\n');
        }
    }
    text
}

/// An outcome for people (`scored`, `missing`, `not applicable`).
fn outcome_name(outcome: i32) -> String {
    Outcome::try_from(outcome)
        .map(|o| crate::text::state(&enum_name(o.as_str_name(), "OUTCOME_")))
        .unwrap_or_else(|_| outcome.to_string())
}

/// Runs `dtictl position`.
pub fn position(
    catalog: &FrameworkCatalog,
    args: &PositionArgs,
    output: Output,
) -> Result<(), Failure> {
    let target = args.target.resolve(catalog)?;
    check_group(target.framework(), args.group.as_deref())
        .map_err(|p| Failure::InvalidInput(vec![p]))?;
    let connection = &args.connection;
    runtime()?.block_on(async {
        let mut client = RankingServiceClient::new(connection.channel(Service::Ranking).await?);
        let request = GetUnitPositionRequest {
            round: Some(target.round.clone()),
            basis: args.basis.proto() as i32,
            unit: Some(target.unit_ref()),
            group_code: args.group.clone().unwrap_or_default(),
        };
        let principal = unit_submitter(target.unit.as_str());
        let position = call(
            &tr!("dtictl-what-unit", unit = target.unit.as_str()),
            client.get_unit_position(connection.request(request, &principal)?),
        )
        .await?;
        output.emit(&position, |p| describe_position(&target, p))
    })
}

/// `by total` or `by group 6 (name)`.
fn ranked_by(names: &Names, group: &str) -> String {
    if group.is_empty() {
        tr!("dtictl-by-total")
    } else {
        tr!("dtictl-by-group", group = group, name = names.group(group))
    }
}

fn describe_position(target: &Target, position: &UnitPosition) -> String {
    let ranked = position.position.clone().unwrap_or_default();
    let mut text = tr!(
        "dtictl-position",
        unit = target.describe(),
        rank = ranked.rank,
        count = position.unit_count,
        by = ranked_by(&target.names, &position.group_code),
        basis = basis_name(position.basis),
        score = &ranked.score,
        cohort = position.cohort_version
    );
    if let Some(movement) = &position.movement {
        let previous = movement
            .previous_round
            .as_ref()
            .map(|r| format!("{}/{}", r.year, r.framework))
            .unwrap_or_default();
        let moved = match movement.places_moved {
            0 => tr!("dtictl-moved-unchanged"),
            n if n > 0 => tr!("dtictl-moved-up", places = n.to_string()),
            n => tr!("dtictl-moved-down", places = n.unsigned_abs().to_string()),
        };
        text.push('\n');
        text.push_str(&tr!(
            "dtictl-last-year",
            previous = previous,
            revision = movement.previous_revision,
            rank = movement.previous_rank,
            total = &movement.previous_total,
            moved = moved
        ));
        if movement.previous_total_is_mean {
            let units: Vec<&str> = movement
                .previous_units
                .iter()
                .map(|unit| unit.unit_id.as_str())
                .collect();
            text.push('\n');
            text.push_str(&tr!("dtictl-last-year-mean", units = units.join(", ")));
        }
    }
    text
}

/// Runs `dtictl ranking show`: every page (up to `--limit`) as one ranking.
pub fn ranking(
    catalog: &FrameworkCatalog,
    command: &RankingCommand,
    output: Output,
) -> Result<(), Failure> {
    let RankingCommand::Show(args) = command;
    let (names, ranking) = fetch_ranking(catalog, args)?;
    output.emit(&ranking, |r| describe_ranking(&names, r))
}

/// A round's ranking (`GetRanking`, every page up to `--limit`) and the names of its units.
pub fn fetch_ranking(
    catalog: &FrameworkCatalog,
    args: &RankingShowArgs,
) -> Result<(Names, Ranking), Failure> {
    let mut problems = Vec::new();
    let framework = known_framework(catalog, &args.round.framework)
        .map_err(|p| problems.push(p))
        .ok();
    if let Some(framework) = &framework {
        problems.extend(check_group(framework, args.group.as_deref()).err());
    }
    if args.limit == Some(0) {
        problems.push(tr!("dtictl-limit-min"));
    }
    if !(1..=1000).contains(&args.page_size) {
        problems.push(tr!("dtictl-page-size"));
    }
    let principal = match &args.as_unit {
        Some(unit) => match dti_domain::UnitId::parse(unit.as_str()) {
            Ok(_) => unit_submitter(unit),
            Err(error) => {
                problems.push(format!("--as-unit: {error}"));
                unit_submitter(unit)
            }
        },
        None => verifier(),
    };
    let Some(framework) = framework.filter(|_| problems.is_empty()) else {
        return Err(Failure::InvalidInput(problems));
    };
    let names = Names::of(framework)?;
    let connection = &args.connection;
    runtime()?.block_on(async {
        let mut client = RankingServiceClient::new(connection.channel(Service::Ranking).await?);
        let limit = args.limit.map_or(usize::MAX, |l| l as usize);
        let mut all: Option<Ranking> = None;
        let mut token = String::new();
        let bar = progress(0, &tr!("dtictl-progress-ranking"), false);
        loop {
            let fetched = all.as_ref().map_or(0, |r| r.units.len());
            let want = limit.saturating_sub(fetched).min(args.page_size as usize);
            let request = GetRankingRequest {
                round: Some(dti_proto::dti::common::v1::RoundRef {
                    year: args.round.year,
                    framework: args.round.framework.clone(),
                }),
                basis: args.basis.proto() as i32,
                group_code: args.group.clone().unwrap_or_default(),
                page_size: u32::try_from(want).unwrap_or(args.page_size),
                page_token: token.clone(),
            };
            let page = call(
                &tr!("dtictl-what-ranking"),
                client.get_ranking(connection.request(request, &principal)?),
            )
            .await?;
            bar.set_length(u64::from(page.unit_count).min(limit as u64));
            bar.inc(page.units.len() as u64);
            token = page.next_page_token.clone();
            let ranking = match all.as_mut() {
                Some(ranking) => {
                    ranking.units.extend(page.units);
                    ranking.next_page_token = page.next_page_token;
                    ranking
                }
                None => all.insert(page),
            };
            if token.is_empty() || ranking.units.len() >= limit {
                break;
            }
        }
        bar.finish_and_clear();
        Ok((names, all.unwrap_or_default()))
    })
}

fn describe_ranking(names: &Names, ranking: &Ranking) -> String {
    let round = ranking
        .round
        .as_ref()
        .map(|r| format!("{}/{}", r.year, r.framework))
        .unwrap_or_default();
    let mut text = tr!(
        "dtictl-ranking-head",
        round = round,
        by = ranked_by(names, &ranking.group_code),
        basis = basis_name(ranking.basis),
        cohort = ranking.cohort_version,
        units = ranking.unit_count
    );
    text.push('\n');
    let score = if ranking.group_code.is_empty() {
        tr!("dtictl-col-total")
    } else {
        tr!("dtictl-col-score")
    };
    text.push_str(&table(
        [
            tr!("dtictl-col-rank"),
            tr!("dtictl-col-unit"),
            tr!("dtictl-col-name"),
            score,
        ],
        ranking.units.iter().map(|u| {
            let id = u
                .unit
                .as_ref()
                .map(|u| u.unit_id.clone())
                .unwrap_or_default();
            [
                u.rank.to_string(),
                id.clone(),
                names.unit(&id),
                u.score.clone(),
            ]
        }),
    ));
    if !ranking.next_page_token.is_empty() {
        text.push('\n');
        text.push_str(&tr!(
            "dtictl-ranking-more",
            more = (ranking.unit_count as usize).saturating_sub(ranking.units.len())
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundredths_are_shown_exactly() {
        assert_eq!(cents(43210), "432.10");
        assert_eq!(cents(5), "0.05");
        assert_eq!(cents(-5), "-0.05");
        assert_eq!(cents(-12345), "-123.45");
        assert_eq!(cents(0), "0.00");
    }
}
