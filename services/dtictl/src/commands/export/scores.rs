//! The reports of the scoring service's answers: a round's ranking (by total, or by one group)
//! and a unit's scorecard (a summary of the groups, then one sheet per group), read with the
//! same calls as `dtictl ranking show` and `dtictl scorecard`.

use dti_domain::FrameworkCatalog;
use dti_forms::export::{Report, ReportCell, ReportSheet};
use dti_i18n::{Arg, Lang};

use super::{group_sheet, header};
use crate::commands::results::{fetch_ranking, fetch_scorecard, RankingShowArgs, ScorecardArgs};
use crate::commands::unit_common::known_framework;
use crate::Failure;

pub(super) fn ranking_report(
    catalog: &FrameworkCatalog,
    args: &RankingShowArgs,
    lang: Lang,
) -> Result<Report, Failure> {
    let framework = known_framework(catalog, &args.round.framework)
        .map_err(|p| Failure::InvalidInput(vec![p]))?;
    let (names, ranking) = fetch_ranking(catalog, args)?;
    let text = lang.catalog();
    let mut header = header(
        text,
        text.format(
            "export-ranking-title",
            &[("year", Arg::from(args.round.year.to_string()))],
        ),
        &framework,
        ranking.basis,
    );
    let score_heading = match &args.group {
        Some(code) => {
            header.push(format!(
                "{}: {}",
                text.format("export-group", &[("code", Arg::from(code))]),
                names.group(code)
            ));
            text.text("export-col-score")
        }
        None => text.text("export-col-total"),
    };
    let rows = ranking
        .units
        .iter()
        .map(|ranked| {
            let id = ranked
                .unit
                .as_ref()
                .map(|u| u.unit_id.clone())
                .unwrap_or_default();
            vec![
                ReportCell::Whole(u64::from(ranked.rank)),
                ReportCell::Text(id.clone()),
                ReportCell::Text(names.unit(&id)),
                ReportCell::Decimal(ranked.score.clone()),
            ]
        })
        .collect();
    Ok(Report {
        sheets: vec![ReportSheet {
            name: text.text("export-ranking-sheet"),
            header,
            columns: vec![
                (text.text("export-col-rank"), 8.0),
                (text.text("export-col-unit-id"), 16.0),
                (text.text("export-col-unit"), 40.0),
                (score_heading, 14.0),
            ],
            rows,
        }],
    })
}

pub(super) fn scorecard_report(
    catalog: &FrameworkCatalog,
    args: &ScorecardArgs,
    lang: Lang,
) -> Result<Report, Failure> {
    let (target, card) = fetch_scorecard(catalog, args)?;
    let framework = target.framework();
    let text = lang.catalog();
    let unit_name = target.names.unit(target.unit.as_str());
    let title = text.format(
        "export-scorecard-title",
        &[
            (
                "unit",
                Arg::from(if unit_name.is_empty() {
                    target.unit.to_string()
                } else {
                    unit_name
                }),
            ),
            ("year", Arg::from(target.round.year.to_string())),
        ],
    );
    let header = header(text, title, framework, card.basis);
    let points = |code: &str| {
        framework
            .groups
            .iter()
            .find(|g| g.code.as_str() == code)
            .map(|g| g.points.clone())
            .or_else(|| framework.indicator_by_str(code).map(|i| i.points.clone()))
            .map_or(ReportCell::Empty, |p| {
                ReportCell::Decimal(p.to_decimal_string(2))
            })
    };
    let mut summary_rows: Vec<Vec<ReportCell>> = card
        .groups
        .iter()
        .map(|group| {
            vec![
                ReportCell::Text(
                    text.format("export-group", &[("code", Arg::from(&group.group_code))]),
                ),
                ReportCell::Text(target.names.group(&group.group_code)),
                points(&group.group_code),
                ReportCell::Decimal(group.score.clone()),
            ]
        })
        .collect();
    summary_rows.push(vec![
        ReportCell::Text(text.text("export-col-total")),
        ReportCell::Empty,
        ReportCell::Decimal(framework.total_points.to_decimal_string(2)),
        ReportCell::Decimal(card.total.clone()),
    ]);
    let mut sheets = vec![ReportSheet {
        name: text.text("export-scorecard-summary-sheet"),
        header: header.clone(),
        columns: vec![
            (text.text("export-col-code"), 12.0),
            (text.text("export-col-indicator"), 50.0),
            (text.text("export-col-points"), 12.0),
            (text.text("export-col-score"), 12.0),
        ],
        rows: summary_rows,
    }];
    for group in &framework.groups {
        let rows = card
            .indicators
            .iter()
            .filter(|i| {
                framework
                    .indicator_by_str(&i.indicator_code)
                    .is_some_and(|ind| ind.group == group.code)
            })
            .map(|indicator| {
                let explanation = indicator
                    .explanation
                    .as_ref()
                    .map(|e| e.summary.clone())
                    .unwrap_or_default();
                vec![
                    ReportCell::Text(indicator.indicator_code.clone()),
                    ReportCell::Text(target.names.indicator(&indicator.indicator_code)),
                    points(&indicator.indicator_code),
                    ReportCell::Decimal(indicator.score.clone()),
                    ReportCell::Text(explanation),
                ]
            })
            .collect();
        sheets.push(group_sheet(
            text,
            &header,
            group,
            vec![
                (text.text("export-col-code"), 12.0),
                (text.text("export-col-indicator"), 50.0),
                (text.text("export-col-points"), 12.0),
                (text.text("export-col-score"), 12.0),
                (text.text("export-col-explanation"), 70.0),
            ],
            rows,
        ));
    }
    Ok(Report { sheets })
}
