//! `dtictl form template|import` against the whole platform running in-process: a unit's
//! template is generated (general information first, one sheet per group, the hidden metadata
//! sheet last), a form filled with quận 1's sample values prints the same cohort JSON as the
//! sample and is submitted through the submission service; a form with bad numbers, of
//! another framework or of another year exits 2 with every problem named by sheet, cell,
//! indicator and variable, and nothing is submitted.

mod support;

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, SheetVisible, Xlsx};
use serde_json::{json, Value};
use support::{repo_file, with_round, Stack, SAMPLE};

const UNIT: &str = "quan-1";

/// The command line of `dtictl form --lang vi template` for `unit` in `framework`, then `more`
/// (the year, the values to fill in, the file to write).
fn template_line<'a>(framework: &'a str, unit: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let line = ["form", "--lang", "vi", "template", "--framework", framework];
    line.into_iter()
        .chain(["--unit", unit])
        .chain(more.iter().copied())
        .collect()
}

/// What `dtictl form --lang vi import FILE MORE… --submit` prints as it exits 2: a refused form.
async fn refused_import(stack: &Stack, file: &str, more: &[&str]) -> String {
    let line: Vec<&str> = ["form", "--lang", "vi", "import", file]
        .into_iter()
        .chain(more.iter().copied())
        .chain(["--submit"])
        .collect();
    stack.exits(&line, None, 2).await
}

/// A workbook's sheets, read whole: (name, hidden, cells by (row, column)).
type Sheets = Vec<(String, bool, BTreeMap<(u32, u16), Data>)>;

fn read_all(path: &std::path::Path) -> Sheets {
    let bytes = std::fs::read(path).expect("a written form");
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx");
    let sheets = workbook.sheets_metadata().to_vec();
    sheets
        .into_iter()
        .map(|sheet| {
            let range = workbook.worksheet_range(&sheet.name).expect("a sheet");
            let (top, left) = range.start().unwrap_or((0, 0));
            let cells = range
                .used_cells()
                .filter(|(_, _, data)| **data != Data::Empty)
                .map(|(row, col, data)| {
                    let at = (
                        top + row as u32,
                        u16::try_from(left as usize + col).expect("col"),
                    );
                    (at, data.clone())
                })
                .collect();
            (sheet.name, sheet.visible != SheetVisible::Visible, cells)
        })
        .collect()
}

/// The sheets written back as a workbook (as a spreadsheet program re-saves a file).
fn write_all(sheets: &Sheets, path: &std::path::Path) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    for (name, hidden, cells) in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(name).expect("a name");
        for (&(row, col), data) in cells {
            match data {
                Data::String(s) => worksheet.write_string(row, col, s).map(|_| ()),
                Data::Float(f) => worksheet.write_number(row, col, *f).map(|_| ()),
                other => panic!("a form holds no {other:?}"),
            }
            .expect("a cell");
        }
        worksheet.set_hidden(*hidden);
    }
    workbook.save(path).expect("saved");
}

fn set(sheets: &mut Sheets, sheet: &str, (row, col): (u32, u16), data: Data) {
    let (_, _, cells) = sheets
        .iter_mut()
        .find(|(name, _, _)| name == sheet)
        .expect("the sheet");
    cells.insert((row, col), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_is_generated_filled_imported_and_submitted_and_bad_forms_submit_nothing(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    stack.open_round().await;

    // The empty template of quận 1.
    let printed = stack
        .ok(&template_line(
            "hcm-2023-district",
            UNIT,
            &["-o", &path("template.xlsx")],
        ))
        .await;
    assert!(
        printed.contains("biểu mẫu của bộ chỉ số hcm-2023-district năm 2023, đơn vị quan-1"),
        "{printed}"
    );
    let template = read_all(&dir.path().join("template.xlsx"));
    let names: Vec<&str> = template.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "THÔNG TIN CHUNG",
            "Nhóm 1",
            "Nhóm 2",
            "Nhóm 3",
            "Nhóm 4",
            "Nhóm 5",
            "Nhóm 6",
            "Nhóm 7",
            "Nhóm 8",
            "Nhóm 9",
            "dti-form"
        ]
    );
    assert_eq!(
        template
            .iter()
            .map(|(_, hidden, _)| *hidden)
            .filter(|h| *h)
            .count(),
        1
    );
    let group_3 = &template[3].2;
    assert_eq!(group_3[&(6, 4)], Data::String("Giá trị".into()));
    assert_eq!(group_3[&(10, 0)], Data::String("3.2".into()));
    assert_eq!(group_3[&(11, 0)], Data::String("a".into()));
    assert!(
        !group_3.contains_key(&(11, 4)),
        "the value cell starts empty"
    );
    // A department is not a unit of the district framework.
    let stderr = stack
        .exits(
            &template_line("hcm-2023-district", "so-tttt", &["-o", &path("x.xlsx")]),
            None,
            2,
        )
        .await;
    assert!(
        stderr.contains("--unit") && stderr.contains("so-tttt"),
        "{stderr}"
    );

    // Filled with quận 1's sample values, the form prints the sample's JSON.
    let sample = repo_file(SAMPLE);
    stack
        .ok(&template_line(
            "hcm-2023-district",
            UNIT,
            &["--fill", &sample, "-o", &path("filled.xlsx")],
        ))
        .await;
    let printed = stack.json(&["form", "import", &path("filled.xlsx")]).await;
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(&sample)?)?;
    let quan_1 = sample["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["unit"] == UNIT))
        .cloned();
    assert_eq!(
        printed,
        json!({"framework": "hcm-2023-district", "units": [quan_1.expect("quan-1")]})
    );

    // Bad numbers: every problem, named by sheet, cell, indicator and variable; exit 2.
    let mut bad = read_all(&dir.path().join("filled.xlsx"));
    set(&mut bad, "Nhóm 3", (11, 4), Data::String("12,5".into()));
    set(&mut bad, "Nhóm 3", (8, 4), Data::Float(-3.0));
    write_all(&bad, &dir.path().join("bad.xlsx"));
    let stderr = refused_import(&stack, &path("bad.xlsx"), &[]).await;
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "Trang 'Nhóm 3', ô E9: 3.1 a phải là số nguyên ≥ 0, thấy '-3'",
            "Trang 'Nhóm 3', ô E12: 3.2 a phải là số nguyên ≥ 0, thấy '12,5'",
        ]
    );
    let stderr = stack
        .exits(
            &["form", "import", &path("bad.xlsx"), "--lang", "en"],
            None,
            2,
        )
        .await;
    assert!(
        stderr.contains("Sheet 'Nhóm 3', cell E12: 3.2 a must be a whole number ≥ 0, found '12,5'"),
        "{stderr}"
    );

    // Another framework, another year.
    stack
        .ok(&template_line(
            "hcm-2023-department",
            "so-tttt",
            &["-o", &path("department.xlsx")],
        ))
        .await;
    let stderr = refused_import(
        &stack,
        &path("department.xlsx"),
        &["--framework", "hcm-2023-district", "--year", "2023"],
    )
    .await;
    assert!(
        stderr
            .contains("phiếu dùng bộ chỉ số hcm-2023-department, cần bộ chỉ số hcm-2023-district"),
        "{stderr}"
    );
    stack
        .ok(&template_line(
            "hcm-2023-district",
            UNIT,
            &["--year", "2024", "-o", &path("2024.xlsx")],
        ))
        .await;
    let stderr = refused_import(&stack, &path("2024.xlsx"), &["--year", "2023"]).await;
    assert!(
        stderr.contains("phiếu dành cho năm 2024, cần năm 2023"),
        "{stderr}"
    );

    // Nothing was submitted: quận 1 has no submission yet.
    let versions = with_round(&["draft", "versions", "--unit", UNIT]);
    let out = stack.dtictl(&versions).await;
    assert_ne!(
        out.status.code(),
        Some(0),
        "no submission: {}",
        support::text(&out.stdout)
    );

    // The good form is submitted as quận 1, once.
    let printed = stack
        .ok(&["form", "import", &path("filled.xlsx"), "--submit"])
        .await;
    assert_eq!(printed.trim(), "quan-1: submitted version 1");
    let listed = stack.json(&versions).await;
    assert_eq!(
        listed["versions"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    stack.stop().await
}
