//! `dtictl export publication` against the whole platform running in-process, after the
//! district round was verified, approved and published: the written .xlsx, read back with
//! calamine, holds the revision's ranks and, per group, every unit's group and indicator
//! scores exactly as `dtictl --json publication show` (its frozen snapshot) has them.

mod review_support;
mod support;

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use review_support::{submitted_round, verified_round};
use serde_json::Value;
use support::{with_round, Stack};

fn text_at(range: &Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("no text at ({row}, {col}): {other:?}"),
    }
}

fn two_decimals(range: &Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::Float(f)) => format!("{f:.2}"),
        other => panic!("no number at ({row}, {col}): {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_revision_is_written_with_its_ranks_and_group_scores() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    submitted_round(&stack).await;
    verified_round(&stack).await;
    stack.ok(&with_round(&["approval", "approve"])).await;
    stack.ok(&with_round(&["publish"])).await;
    let publication = stack.json(&with_round(&["publication", "show"])).await;
    let snapshot: Value =
        serde_json::from_str(publication["snapshotJson"].as_str().unwrap_or("null"))?;
    let units = snapshot["units"].as_array().cloned().unwrap_or_default();
    assert_eq!(units.len(), 22);

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("publication.xlsx");
    let out = file.to_string_lossy().into_owned();
    let mut line = with_round(&["export", "publication"]);
    line.extend(["-o", &out, "--lang", "vi"]);
    let printed = stack.ok(&line).await;
    assert!(printed.contains("10 trang tính"), "{printed}");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(std::fs::read(&file)?))?;
    assert_eq!(book.sheet_names()[0], "Công bố");
    let ranks = book.worksheet_range("Công bố")?;
    assert_eq!(
        text_at(&ranks, 0, 0),
        "KẾT QUẢ CÔNG BỐ CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM 2023 (LẦN 1)"
    );
    let headings: Vec<String> = (0..4).map(|col| text_at(&ranks, 4, col)).collect();
    assert_eq!(headings, ["Hạng", "Mã đơn vị", "Đơn vị", "Tổng điểm"]);
    let published = publication["ranks"].as_array().cloned().unwrap_or_default();
    for (row, (unit, rank)) in (5u32..).zip(units.iter().zip(&published)) {
        assert_eq!(
            text_at(&ranks, row, 1),
            unit["unit"].as_str().unwrap_or_default()
        );
        assert_eq!(rank["unitId"], unit["unit"]);
        assert_eq!(
            ranks.get_value((row, 0)),
            Some(&Data::Float(rank["rank"].as_f64().unwrap_or(-1.0)))
        );
        assert_eq!(
            two_decimals(&ranks, row, 3),
            rank["total"].as_str().unwrap_or_default()
        );
    }

    // Group 6: the group's score, then each of its indicators' scores, per unit.
    let group = book.worksheet_range("Nhóm 6")?;
    assert_eq!(text_at(&group, 5, 3), "Nhóm 6");
    assert_eq!(text_at(&group, 5, 4), "6.1");
    let mut compared = 0;
    for (row, unit) in (6u32..).zip(&units) {
        let score = unit["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["code"] == "6"))
            .map(|g| g["score"].clone());
        assert_eq!(
            Some(Value::from(two_decimals(&group, row, 3))),
            score,
            "{}",
            unit["unit"]
        );
        let mut col = 4;
        while let Some(Data::String(code)) = group.get_value((5, col)) {
            let expected = unit["indicators"]
                .as_array()
                .and_then(|list| list.iter().find(|i| i["code"] == code.as_str()));
            let expected = expected
                .and_then(|i| i["score"].as_str())
                .unwrap_or_default();
            assert_eq!(
                two_decimals(&group, row, col),
                expected,
                "{} {code}",
                unit["unit"]
            );
            col += 1;
            compared += 1;
        }
    }
    assert_eq!(
        compared,
        22 * 16,
        "the 16 indicators of group 6 for every district"
    );

    stack.stop().await
}
