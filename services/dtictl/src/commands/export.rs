//! `dtictl export ranking|scorecard|side-by-side|publication|national-form`: the services' answers as .xlsx reports for the city's
//! report, with headings in the chosen language (Vietnamese by default), one sheet per group
//! where it applies and scores as numbers with two decimals. The answers are read with the same
//! calls as `dtictl ranking show`, `dtictl scorecard`, `dtictl verify show`, `dtictl publication show`, `dtictl owner completeness` and
//! `dtictl sync plan`; `dti-forms` writes the workbook.

use std::path::PathBuf;

use dti_domain::framework::Framework;
use dti_domain::FrameworkCatalog;
use dti_forms::export::{write_report, Report, ReportCell, ReportSheet};
use dti_i18n::{Arg, Catalog, Lang};
use dti_proto::dti::scoring::v1::Basis;

use super::client::RoundArgs;
use super::database::runtime;
use super::results::{fetch_ranking, fetch_scorecard, RankingShowArgs, ScorecardArgs};
use super::review::{
    decision_name, framework as round_framework, render_value, round_ref, unit_id,
    verification_client, verifier,
};
use super::unit_common::known_framework;
use crate::remote::{call, Remote};
use crate::{tr, Failure};
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::verification::v1::{GetPublicationRequest, GetSideBySideRequest};
use serde_json::Value;

/// `dtictl export …`.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// A round's ranking (by total, or by one group with --group).
    Ranking {
        /// The ranking to read.
        #[command(flatten)]
        ranking: RankingShowArgs,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// A unit's self-assessed and verified values and scores side by side, one sheet per
    /// group, with the verifiers' decisions (as a verifier).
    SideBySide {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// The unit, e.g. quan-1.
        #[arg(long)]
        unit: String,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// A published revision: its ranks, then one sheet per group with each unit's group and
    /// indicator scores (from the revision's frozen snapshot).
    Publication {
        /// Which round.
        #[command(flatten)]
        round: RoundArgs,
        /// The revision (default: the latest).
        #[arg(long, default_value_t = 0)]
        revision: u32,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// The Appendix III national form of a year: each item's national value, its owners and
    /// where it stands (general information first, then one sheet per group).
    NationalForm {
        /// Year of the national index.
        #[arg(long)]
        year: u32,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
    /// A unit's scorecard: a summary of the groups, then one sheet per group with each
    /// indicator's score and explanation.
    Scorecard {
        /// The scorecard to read.
        #[command(flatten)]
        scorecard: ScorecardArgs,
        /// Where to write it.
        #[command(flatten)]
        file: ExportFile,
    },
}

/// The report's file (its language is the global `--lang`).
#[derive(Debug, clap::Args)]
pub struct ExportFile {
    /// The .xlsx file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

/// Runs a `dtictl export` command.
pub fn run(catalog: &FrameworkCatalog, command: &ExportCommand) -> Result<(), Failure> {
    let (report, file) = match command {
        ExportCommand::Ranking { ranking, file } => {
            (ranking_report(catalog, ranking, crate::text::lang())?, file)
        }
        ExportCommand::SideBySide {
            round,
            unit,
            connection,
            file,
        } => (
            side_by_side_report(catalog, round, unit, connection, crate::text::lang())?,
            file,
        ),
        ExportCommand::Publication {
            round,
            revision,
            connection,
            file,
        } => (
            publication_report(catalog, round, *revision, connection, crate::text::lang())?,
            file,
        ),
        ExportCommand::NationalForm {
            year,
            connection,
            file,
        } => (
            national_form_report(catalog, *year, connection, crate::text::lang())?,
            file,
        ),
        ExportCommand::Scorecard { scorecard, file } => (
            scorecard_report(catalog, scorecard, crate::text::lang())?,
            file,
        ),
    };
    let bytes = write_report(&report).map_err(|e| Failure::Unexpected(e.into()))?;
    std::fs::write(&file.output, bytes).map_err(|e| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-cannot-write",
            path = file.output.display().to_string(),
            error = e.to_string()
        )])
    })?;
    println!(
        "{}",
        tr!(
            "dtictl-export-written",
            path = file.output.display().to_string(),
            sheets = report.sheets.len()
        )
    );
    Ok(())
}

/// The lines above every report's table: title, framework, basis.
/// One group's sheet: the report's header lines plus the group's own, and its table.
fn group_sheet(
    text: &Catalog,
    header: &[String],
    group: &dti_domain::framework::Group,
    columns: Vec<(String, f64)>,
    rows: Vec<Vec<ReportCell>>,
) -> ReportSheet {
    let name = text.format("export-group", &[("code", Arg::from(group.code.as_str()))]);
    let mut header = header.to_vec();
    header.push(format!("{name}: {}", group.name));
    ReportSheet {
        name,
        header,
        columns,
        rows,
    }
}

fn header(catalog: &Catalog, title: String, framework: &Framework, basis: i32) -> Vec<String> {
    let basis = if basis == Basis::Verified as i32 {
        catalog.text("export-basis-verified")
    } else {
        catalog.text("export-basis-self")
    };
    vec![
        title,
        catalog.format(
            "form-framework",
            &[
                ("title", Arg::from(&framework.title)),
                ("source", Arg::from(framework.id.as_str())),
            ],
        ),
        catalog.format("export-basis", &[("basis", Arg::from(basis))]),
    ]
}

fn ranking_report(
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

fn scorecard_report(
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

fn side_by_side_report(
    catalog: &FrameworkCatalog,
    round: &RoundArgs,
    unit: &str,
    connection: &Remote,
    lang: Lang,
) -> Result<Report, Failure> {
    let framework = round_framework(catalog, round)?;
    let unit = unit_id("--unit", unit)?;
    let view = runtime()?.block_on(async {
        let (mut client, bearer) = verification_client(connection, &verifier()).await?;
        let request = GetSideBySideRequest {
            round: Some(round_ref(round)),
            unit: Some(UnitRef {
                unit_id: unit.clone(),
            }),
        };
        let request = crate::remote::with_bearer(request, &bearer)?;
        call(
            &tr!("dtictl-what-unit", unit = &unit),
            client.get_side_by_side(request),
        )
        .await
    })?;
    let text = lang.catalog();
    let unit_name = super::review::unit_name(&unit);
    let mut header = vec![
        text.format(
            "export-side-by-side-title",
            &[
                (
                    "unit",
                    Arg::from(if unit_name.is_empty() {
                        unit.clone()
                    } else {
                        unit_name
                    }),
                ),
                ("year", Arg::from(round.year.to_string())),
            ],
        ),
        text.format(
            "form-framework",
            &[
                ("title", Arg::from(&framework.title)),
                ("source", Arg::from(framework.id.as_str())),
            ],
        ),
    ];
    header.push(text.format(
        "export-totals",
        &[
            ("self", Arg::from(&view.self_total)),
            ("verified", Arg::from(&view.verified_total)),
            ("difference", Arg::from(&view.total_difference)),
        ],
    ));
    let score = |s: Option<&dti_proto::dti::verification::v1::Score>| {
        s.map_or(ReportCell::Empty, |s| ReportCell::Decimal(s.points.clone()))
    };
    let sheets = framework
        .groups
        .iter()
        .map(|group| {
            let rows = view
                .rows
                .iter()
                .filter(|row| {
                    framework
                        .indicator_by_str(&row.indicator_code)
                        .is_some_and(|i| i.group == group.code)
                })
                .map(|row| {
                    vec![
                        ReportCell::Text(row.indicator_code.clone()),
                        ReportCell::Text(row.name.clone()),
                        ReportCell::Text(render_value(row.self_value.as_ref())),
                        score(row.self_score.as_ref()),
                        ReportCell::Text(render_value(row.verified_value.as_ref())),
                        score(row.verified_score.as_ref()),
                        ReportCell::Decimal(row.difference.clone()),
                        ReportCell::Text(decision_name(row.decision)),
                        ReportCell::Text(row.reason.clone()),
                    ]
                })
                .collect();
            group_sheet(
                text,
                &header,
                group,
                vec![
                    (text.text("export-col-code"), 10.0),
                    (text.text("export-col-indicator"), 40.0),
                    (text.text("export-col-self-value"), 24.0),
                    (text.text("export-col-self-score"), 12.0),
                    (text.text("export-col-verified-value"), 24.0),
                    (text.text("export-col-verified-score"), 12.0),
                    (text.text("export-col-difference"), 12.0),
                    (text.text("export-col-decision"), 14.0),
                    (text.text("export-col-reason"), 40.0),
                ],
                rows,
            )
        })
        .collect();
    Ok(Report { sheets })
}

fn publication_report(
    catalog: &FrameworkCatalog,
    round: &RoundArgs,
    revision: u32,
    connection: &Remote,
    lang: Lang,
) -> Result<Report, Failure> {
    let framework = round_framework(catalog, round)?;
    let request = GetPublicationRequest {
        round: Some(round_ref(round)),
        revision,
    };
    let send = |mut client: super::publication::Publications, request| async move {
        call(
            &tr!("dtictl-what-publication"),
            client.get_publication(request),
        )
        .await
    };
    let approver = crate::remote::city(dti_auth::Role::Approver, "dtictl-approver");
    let publication = super::publication::publications(connection, &approver, request, send)?;
    let snapshot: Value = serde_json::from_str(&publication.snapshot_json).map_err(|error| {
        Failure::Unexpected(anyhow::anyhow!(
            "the publication's snapshot is not JSON: {error}"
        ))
    })?;
    let text = lang.catalog();
    let header = vec![
        text.format(
            "export-publication-title",
            &[
                ("year", Arg::from(round.year.to_string())),
                ("revision", Arg::from(publication.revision.to_string())),
            ],
        ),
        text.format(
            "form-framework",
            &[
                ("title", Arg::from(&framework.title)),
                ("source", Arg::from(framework.id.as_str())),
            ],
        ),
        text.format(
            "export-publication-reason",
            &[
                ("reason", Arg::from(&publication.reason)),
                ("state", Arg::from(&publication.round_state)),
            ],
        ),
    ];
    let units: Vec<&Value> = snapshot["units"]
        .as_array()
        .map(|u| u.iter().collect())
        .unwrap_or_default();
    let rank_cells = |unit: &Value| {
        let id = unit["unit"].as_str().unwrap_or_default().to_owned();
        vec![
            ReportCell::Whole(unit["rank"].as_u64().unwrap_or_default()),
            ReportCell::Text(id.clone()),
            ReportCell::Text(super::review::unit_name(&id)),
        ]
    };
    let score_of = |list: &Value, code: &str| {
        list.as_array()
            .and_then(|items| items.iter().find(|item| item["code"] == code))
            .and_then(|item| item["score"].as_str())
            .map_or(ReportCell::Empty, |score| {
                ReportCell::Decimal(score.to_owned())
            })
    };
    let rank_columns = || {
        vec![
            (text.text("export-col-rank"), 8.0),
            (text.text("export-col-unit-id"), 16.0),
            (text.text("export-col-unit"), 36.0),
        ]
    };
    let mut ranking_columns = rank_columns();
    ranking_columns.push((text.text("export-col-total"), 14.0));
    let mut sheets = vec![ReportSheet {
        name: text.text("export-publication-sheet"),
        header: header.clone(),
        columns: ranking_columns,
        rows: units
            .iter()
            .map(|unit| {
                let mut row = rank_cells(unit);
                row.push(ReportCell::Decimal(
                    unit["total"].as_str().unwrap_or_default().to_owned(),
                ));
                row
            })
            .collect(),
    }];
    for group in &framework.groups {
        let codes: Vec<&str> = framework
            .top_level_indicators()
            .filter(|i| i.group == group.code)
            .map(|i| i.code.as_str())
            .collect();
        let mut columns = rank_columns();
        columns.push((
            text.format("export-group", &[("code", Arg::from(group.code.as_str()))]),
            12.0,
        ));
        columns.extend(codes.iter().map(|code| ((*code).to_owned(), 9.0)));
        let rows = units
            .iter()
            .map(|unit| {
                let mut row = rank_cells(unit);
                row.push(score_of(&unit["groups"], group.code.as_str()));
                row.extend(codes.iter().map(|code| score_of(&unit["indicators"], code)));
                row
            })
            .collect();
        sheets.push(group_sheet(text, &header, group, columns, rows));
    }
    Ok(Report { sheets })
}

fn national_form_report(
    catalog: &FrameworkCatalog,
    year: u32,
    connection: &Remote,
    lang: Lang,
) -> Result<Report, Failure> {
    use dti_proto::dti::nationalsync::v1 as pb;
    let (completeness, plan) = runtime()?.block_on(async {
        let mut client = pb::national_sync_service_client::NationalSyncServiceClient::new(
            connection
                .channel(crate::remote::Service::NationalSync)
                .await?,
        );
        let operator = crate::remote::city(dti_auth::Role::Operator, "dtictl-operator");
        let request = pb::GetCompletenessRequest {
            year,
            department_id: String::new(),
        };
        let completeness = call(
            &format!("year {year}"),
            client.get_completeness(connection.request(request, &operator)?),
        )
        .await?;
        let plan = super::sync::plan(connection, year).await?;
        Ok::<_, Failure>((completeness, plan))
    })?;
    let framework = known_framework(catalog, &completeness.framework)
        .map_err(|p| Failure::InvalidInput(vec![p]))?;
    let text = lang.catalog();
    let header = vec![
        text.format(
            "export-national-title",
            &[("year", Arg::from(year.to_string()))],
        ),
        text.format(
            "form-framework",
            &[
                ("title", Arg::from(&framework.title)),
                ("source", Arg::from(framework.id.as_str())),
            ],
        ),
        text.format(
            "export-national-summary",
            &[
                ("complete", Arg::from(completeness.complete)),
                ("missing", Arg::from(completeness.missing)),
                ("disputed", Arg::from(completeness.disputed)),
            ],
        ),
    ];
    let code_of = |item: Option<&pb::ItemRef>| item.map(|i| i.code.clone()).unwrap_or_default();
    let is_general = |item: Option<&pb::ItemRef>| {
        item.is_some_and(|i| i.kind == pb::ItemKind::GeneralInfo as i32)
    };
    let value_of = |item: Option<&pb::ItemRef>| {
        plan.items
            .iter()
            .find(|planned| planned.item.as_ref() == item)
            .map(|planned| planned.value_json.clone())
            .filter(|json| !json.is_empty())
    };
    let owners = |ids: &[String]| {
        ids.iter()
            .map(|id| {
                let name = super::review::unit_name(id);
                if name.is_empty() {
                    id.clone()
                } else {
                    format!("{name} ({id})")
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let row = |item: &pb::ItemCompleteness| {
        let status = match pb::ItemStatus::try_from(item.status) {
            Ok(pb::ItemStatus::Complete) => text.text("export-status-complete"),
            Ok(pb::ItemStatus::Disputed) => text.text("export-status-disputed"),
            _ => text.text("export-status-missing"),
        };
        let value = match value_of(item.item.as_ref()) {
            Some(json) => match json.parse::<u64>() {
                Ok(whole) => ReportCell::Whole(whole),
                Err(_) => ReportCell::Text(json),
            },
            None => ReportCell::Empty,
        };
        vec![
            ReportCell::Text(code_of(item.item.as_ref())),
            ReportCell::Text(item.name.clone()),
            ReportCell::Text(owners(&item.owners)),
            ReportCell::Text(item.combine.clone()),
            value,
            ReportCell::Text(status),
            ReportCell::Text(owners(&item.missing_owners)),
        ]
    };
    let columns = || {
        vec![
            (text.text("export-col-code"), 10.0),
            (text.text("export-col-indicator"), 50.0),
            (text.text("export-col-owners"), 40.0),
            (text.text("export-col-combine"), 12.0),
            (text.text("export-col-value"), 24.0),
            (text.text("export-col-status"), 14.0),
            (text.text("export-col-missing"), 40.0),
        ]
    };
    let mut sheets = vec![ReportSheet {
        name: text.text("form-general-sheet"),
        header: header.clone(),
        columns: columns(),
        rows: completeness
            .items
            .iter()
            .filter(|item| is_general(item.item.as_ref()))
            .map(row)
            .collect(),
    }];
    for group in &framework.groups {
        let rows = completeness
            .items
            .iter()
            .filter(|item| !is_general(item.item.as_ref()))
            .filter(|item| {
                framework
                    .indicator_by_str(&code_of(item.item.as_ref()))
                    .is_some_and(|i| i.group == group.code)
            })
            .map(row)
            .collect();
        sheets.push(group_sheet(text, &header, group, columns(), rows));
    }
    Ok(Report { sheets })
}
