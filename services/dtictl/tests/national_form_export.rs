//! `dtictl export national-form` against the whole platform running in-process: after the data
//! owners submitted part of the sample owners' values, the Appendix III form, read back with
//! calamine, has every item once (general information first, then one sheet per group) with
//! the national value of `dtictl --json sync plan`, its owners and the status of `dtictl
//! --json owner completeness`.

mod support;

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use serde_json::Value;
use support::{repo_file, Stack};

fn text(data: Option<&Data>) -> String {
    match data {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) => f.to_string(),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_form_holds_every_items_value_owners_and_status() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    // Every owner but the tax department supplies its values: its items stay missing.
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(repo_file(
        "deploy/samples/hcm-2023-owner-values.json",
    ))?)?;
    file["owners"]
        .as_object_mut()
        .expect("owners")
        .remove("cuc-thue");
    let dir = tempfile::tempdir()?;
    let values = dir.path().join("owners.json");
    std::fs::write(&values, file.to_string())?;
    stack
        .ok(&["owner", "submit", "--file", &values.to_string_lossy()])
        .await;

    let completeness = stack
        .json(&["owner", "completeness", "--year", "2023"])
        .await;
    let plan = stack.json(&["sync", "plan", "--year", "2023"]).await;
    let out = dir.path().join("national.xlsx");
    stack
        .ok(&[
            "export",
            "--lang",
            "vi",
            "national-form",
            "--year",
            "2023",
            "-o",
            &out.to_string_lossy(),
        ])
        .await;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(std::fs::read(&out)?))?;
    let names = book.sheet_names();
    assert_eq!(names[0], "THÔNG TIN CHUNG");
    assert_eq!(names.len(), 10, "{names:?}");

    // Every row of every sheet, by item code: (value, owners, status, missing from).
    let mut rows: BTreeMap<String, (String, String, String, String)> = BTreeMap::new();
    for name in &names {
        let sheet = book.worksheet_range(name)?;
        assert_eq!(
            text(sheet.get_value((0, 0))),
            "BIỂU MẪU CHỈ SỐ CHUYỂN ĐỔI SỐ CẤP TỈNH (PHỤ LỤC III) NĂM 2023"
        );
        let heading = if name == "THÔNG TIN CHUNG" { 4 } else { 5 };
        let headings: Vec<String> = (0..7)
            .map(|col| text(sheet.get_value((heading, col))))
            .collect();
        assert_eq!(
            headings,
            [
                "Mã chỉ số",
                "Chỉ số",
                "Đơn vị chủ trì",
                "Cách tổng hợp",
                "Giá trị",
                "Tình trạng",
                "Đơn vị chưa cung cấp"
            ]
        );
        let mut row = heading + 1;
        while let Some(Data::String(code)) = sheet.get_value((row, 0)) {
            let cell = |col: u32| text(sheet.get_value((row, col)));
            let previous = rows.insert(code.clone(), (cell(4), cell(2), cell(5), cell(6)));
            assert!(previous.is_none(), "{code} is listed once");
            row += 1;
        }
    }
    let items = completeness["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rows.len(), items.len());
    let mut missing = 0;
    for item in &items {
        let code = item["item"]["code"].as_str().unwrap_or_default();
        let (value, owners, status, missing_from) = &rows[code];
        for owner in item["owners"].as_array().into_iter().flatten() {
            assert!(
                owners.contains(owner.as_str().unwrap_or("?")),
                "{code}: {owners}"
            );
        }
        let expected_status = match item["status"].as_str() {
            Some("ITEM_STATUS_COMPLETE") => "đủ",
            Some("ITEM_STATUS_DISPUTED") => "đang tranh chấp",
            _ => "còn thiếu",
        };
        assert_eq!(status, expected_status, "{code}");
        if expected_status == "còn thiếu" {
            missing += 1;
            assert!(missing_from.contains("cuc-thue"), "{code}: {missing_from}");
        }
        let planned = plan["items"]
            .as_array()
            .and_then(|list| {
                list.iter().find(|p| {
                    p["item"]["code"] == code && p["item"]["kind"] == item["item"]["kind"]
                })
            })
            .and_then(|p| p["valueJson"].as_str())
            .unwrap_or_default();
        assert_eq!(value, planned, "{code}");
    }
    assert!(missing > 0, "the tax department's items are missing");
    assert_eq!(completeness["missing"], Value::from(missing));

    stack.stop().await
}
