//! The report of the Appendix III national form of a year: each item's national value, its
//! owners and where it stands, read with the same calls as `dtictl owner completeness` and
//! `dtictl sync plan`.

use dti_domain::FrameworkCatalog;
use dti_forms::export::{Report, ReportCell, ReportSheet};
use dti_i18n::{Arg, Lang};

use super::group_sheet;
use crate::commands::unit_common::known_framework;
use crate::remote::{call, Remote};
use crate::runtime;
use crate::Failure;

pub(super) fn national_form_report(
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
        let operator = crate::remote::operator();
        let request = pb::GetCompletenessRequest {
            year,
            department_id: String::new(),
        };
        let completeness = call(
            &format!("year {year}"),
            client.get_completeness(connection.request(request, &operator)?),
        )
        .await?;
        let plan = crate::commands::sync::plan(connection, year).await?;
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
                let name = crate::commands::round_common::unit_name(id);
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
