//! `dtictl export ranking|scorecard` against the whole platform running in-process, after every
//! district submitted the sample cohort: the written .xlsx, read back with calamine, has the
//! Vietnamese (or English) headings, one sheet per group for a scorecard, and exactly the
//! services' numbers (`dtictl --json ranking show` / `scorecard`) as numbers with two decimals.

mod support;

use std::io::Cursor;
use std::time::Duration;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use dti_testkit::{eventually, Poll};
use serde_json::Value;
use support::{repo_file, with_round, Stack, SAMPLE};

fn workbook(path: &std::path::Path) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(std::fs::read(path).expect("a report"))).expect("an xlsx")
}

fn text_at(range: &Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("no text at ({row}, {col}): {other:?}"),
    }
}

/// A number cell, written back with two decimals as the services wrote it.
fn two_decimals(range: &Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::Float(f)) => format!("{f:.2}"),
        other => panic!("no number at ({row}, {col}): {other:?}"),
    }
}

fn headings(range: &Range<Data>, row: u32, count: u32) -> Vec<String> {
    (0..count).map(|col| text_at(range, row, col)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rankings_and_scorecards_are_written_with_the_services_numbers() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round().await;
    stack.submit_sample().await;
    let scored = stack.json(&["score", "--input", &repo_file(SAMPLE)]).await;
    let units = scored["units"].as_array().map(Vec::len).unwrap_or_default();
    let totals: Vec<(String, String)> = scored["units"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["unit"].as_str().unwrap_or_default().to_owned(),
                u["total"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // Scoring and ranking are asynchronous: wait until every unit is ranked with its score.
    let ranking = eventually(
        "the ranking service to rank every district with the engine's totals",
        Poll::new(Duration::from_secs(90), Duration::from_millis(500)),
        || {
            let stack = &stack;
            let totals = &totals;
            async move {
                let ranking = stack.json(&with_round(&["ranking", "show"])).await;
                let ranked: Vec<(String, String)> = ranking["units"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|u| {
                        (
                            u["unit"]["unitId"].as_str().unwrap_or_default().to_owned(),
                            u["score"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                let complete =
                    ranked.len() == totals.len() && totals.iter().all(|t| ranked.contains(t));
                Ok(complete.then_some(ranking))
            }
        },
    )
    .await?;

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("ranking.xlsx");
    let out = file.to_string_lossy().into_owned();
    let printed = stack
        .ok(&with_round(&[
            "export", "ranking", "-o", &out, "--lang", "vi",
        ]))
        .await;
    assert!(printed.contains("1 trang tính"), "{printed}");
    let mut book = workbook(&file);
    assert_eq!(book.sheet_names(), ["Xếp hạng"]);
    let sheet = book.worksheet_range("Xếp hạng")?;
    assert_eq!(
        text_at(&sheet, 0, 0),
        "BẢNG XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM 2023"
    );
    assert_eq!(text_at(&sheet, 2, 0), "Cơ sở: số liệu tự đánh giá");
    assert_eq!(
        headings(&sheet, 4, 4),
        ["Hạng", "Mã đơn vị", "Đơn vị", "Tổng điểm"]
    );
    let listed = ranking["units"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), units);
    for (row, unit) in (5u32..).zip(&listed) {
        assert_eq!(
            sheet.get_value((row, 0)),
            Some(&Data::Float(unit["rank"].as_f64().unwrap_or(-1.0)))
        );
        assert_eq!(
            text_at(&sheet, row, 1),
            unit["unit"]["unitId"].as_str().unwrap_or_default()
        );
        assert!(!text_at(&sheet, row, 2).is_empty(), "each unit's name");
        assert_eq!(
            two_decimals(&sheet, row, 3),
            unit["score"].as_str().unwrap_or_default()
        );
    }
    assert!(text_at(&sheet, 5, 2).starts_with(|c: char| c.is_uppercase()));

    // quận 1's scorecard, in English: a summary and one sheet per group, with explanations.
    let card_args = [
        "--year",
        "2023",
        "--framework",
        "hcm-2023-district",
        "--unit",
        "quan-1",
    ];
    let file = dir.path().join("scorecard.xlsx");
    let out = file.to_string_lossy().into_owned();
    let mut line = vec!["export", "scorecard"];
    line.extend(card_args);
    line.extend(["-o", &out, "--lang", "en"]);
    stack.ok(&line).await;
    let mut line = vec!["scorecard", "--explain"];
    line.extend(card_args);
    let card: Value = stack.json(&line).await;
    let mut book = workbook(&file);
    let names = book.sheet_names();
    assert_eq!(names[0], "Summary");
    assert_eq!(
        names[1..],
        [
            "Group 1", "Group 2", "Group 3", "Group 4", "Group 5", "Group 6", "Group 7", "Group 8",
            "Group 9"
        ]
    );
    let summary = book.worksheet_range("Summary")?;
    assert_eq!(text_at(&summary, 0, 0), "SCORES OF Quận 1 IN 2023");
    assert_eq!(
        headings(&summary, 4, 4),
        ["Indicator code", "Indicator", "Maximum points", "Score"]
    );
    let groups = card["groups"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 9);
    for (row, group) in (5u32..).zip(&groups) {
        assert_eq!(
            text_at(&summary, row, 0),
            format!("Group {}", group["groupCode"].as_str().unwrap_or_default())
        );
        assert_eq!(
            two_decimals(&summary, row, 3),
            group["score"].as_str().unwrap_or_default()
        );
    }
    let total_row = 5 + groups.len() as u32;
    assert_eq!(text_at(&summary, total_row, 0), "Total");
    assert_eq!(two_decimals(&summary, total_row, 2), "660.00");
    assert_eq!(
        two_decimals(&summary, total_row, 3),
        card["total"].as_str().unwrap_or_default()
    );
    let mut checked = 0;
    for group in 1..=9 {
        let sheet = book.worksheet_range(&format!("Group {group}"))?;
        assert_eq!(
            headings(&sheet, 5, 5),
            [
                "Indicator code",
                "Indicator",
                "Maximum points",
                "Score",
                "Explanation"
            ]
        );
        let mut row = 6;
        while let Some(Data::String(code)) = sheet.get_value((row, 0)) {
            let indicator = card["indicators"]
                .as_array()
                .and_then(|list| list.iter().find(|i| i["indicatorCode"] == code.as_str()))
                .unwrap_or_else(|| panic!("indicator {code} in the scorecard"));
            assert!(
                code.starts_with(&format!("{group}.")),
                "{code} on the sheet of group {group}"
            );
            assert_eq!(
                two_decimals(&sheet, row, 3),
                indicator["score"].as_str().unwrap_or_default(),
                "{code}"
            );
            let summary = indicator["explanation"]["summary"]
                .as_str()
                .unwrap_or_default();
            assert!(!summary.is_empty(), "{code} is explained");
            assert_eq!(text_at(&sheet, row, 4), summary, "{code}");
            row += 1;
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        card["indicators"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default()
    );

    stack.stop().await
}
