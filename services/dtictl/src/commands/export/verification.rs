//! The reports of the verification service's answers: a unit's self-assessed and verified
//! values side by side with the verifiers' decisions, and a published revision's ranks and
//! scores, read with the same calls as `dtictl verify show` and `dtictl publication show`.

use dti_domain::FrameworkCatalog;
use dti_forms::export::{Report, ReportCell, ReportSheet};
use dti_i18n::{Arg, Lang};
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::verification::v1::{GetPublicationRequest, GetSideBySideRequest};
use serde_json::Value;

use super::group_sheet;
use crate::commands::client::RoundArgs;
use crate::commands::round_common::{
    decision_name, framework as round_framework, render_value, round_ref, unit_id,
    verification_client,
};
use crate::remote::{call, verifier, Remote};
use crate::runtime;
use crate::{tr, Failure};

pub(super) fn side_by_side_report(
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
    let unit_name = crate::commands::round_common::unit_name(&unit);
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

pub(super) fn publication_report(
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
    let send = |mut client: crate::commands::publication::Publications, request| async move {
        call(
            &tr!("dtictl-what-publication"),
            client.get_publication(request),
        )
        .await
    };
    let approver = crate::remote::approver();
    let publication =
        crate::commands::publication::publications(connection, &approver, request, send)?;
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
            ReportCell::Text(crate::commands::round_common::unit_name(&id)),
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
