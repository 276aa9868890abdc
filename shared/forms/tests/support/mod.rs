//! What the form tests share: the built-in frameworks, units and sample cohorts; a workbook
//! read whole with calamine and written back with rust_xlsxwriter (as a spreadsheet program
//! re-saves a file, keeping values and sheet visibility), so a test can change one cell, add a
//! sheet or edit a label of a real form.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;

use calamine::{open_workbook_from_rs, Data, Reader, SheetVisible, Xlsx};
use dti_domain::values::{decode_cohort, UnitValues};
use dti_domain::{FrameworkCatalog, UnitRegistry};
use dti_forms::ImportOptions;
use dti_i18n::Lang;
use rust_xlsxwriter::Workbook;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built-in frameworks.
pub fn catalog() -> FrameworkCatalog {
    FrameworkCatalog::builtin().expect("built-in frameworks")
}

/// The built-in unit registry.
pub fn registry() -> UnitRegistry {
    UnitRegistry::builtin().expect("built-in registry")
}

/// Import options expecting nothing in particular, problems in `lang`.
pub fn options<'a>(
    catalog: &'a FrameworkCatalog,
    registry: &'a UnitRegistry,
    lang: Lang,
) -> ImportOptions<'a> {
    ImportOptions {
        catalog,
        registry,
        framework: None,
        year: None,
        lang,
    }
}

/// The sample cohort of `file` (under `deploy/samples`), decoded.
pub fn sample_units(catalog: &FrameworkCatalog, file: &str) -> Vec<UnitValues> {
    let text = std::fs::read_to_string(repo().join("deploy/samples").join(file)).expect("sample");
    let decoded = decode_cohort(&text, catalog);
    decoded.value.expect("a valid sample").units
}

/// One sheet read whole: name, hidden or not, and every cell that holds something.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetCells {
    /// Its name.
    pub name: String,
    /// Hidden from people.
    pub hidden: bool,
    /// Cells by (row, column).
    pub cells: BTreeMap<(u32, u16), Data>,
}

/// Every sheet of a workbook, in order.
pub fn read_all(bytes: &[u8]) -> Vec<SheetCells> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx");
    let sheets = workbook.sheets_metadata().to_vec();
    sheets
        .into_iter()
        .map(|sheet| {
            let range = workbook.worksheet_range(&sheet.name).expect("a sheet");
            let mut cells = BTreeMap::new();
            for (row, col, data) in range.used_cells() {
                let (top, left) = range.start().unwrap_or((0, 0));
                let at = (
                    top + row as u32,
                    u16::try_from(left as usize + col).expect("column"),
                );
                if *data != Data::Empty {
                    cells.insert(at, data.clone());
                }
            }
            SheetCells {
                name: sheet.name,
                hidden: sheet.visible != SheetVisible::Visible,
                cells,
            }
        })
        .collect()
}

/// The sheets written as a new workbook.
pub fn write_all(sheets: &[SheetCells]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(&sheet.name).expect("a sheet name");
        for (&(row, col), data) in &sheet.cells {
            match data {
                Data::String(s) => worksheet.write_string(row, col, s).map(|_| ()),
                Data::Float(f) => worksheet.write_number(row, col, *f).map(|_| ()),
                Data::Int(i) => worksheet.write_number(row, col, *i as f64).map(|_| ()),
                Data::Bool(b) => worksheet.write_boolean(row, col, *b).map(|_| ()),
                other => panic!("a test form holds no {other:?}"),
            }
            .expect("a cell");
        }
        worksheet.set_hidden(sheet.hidden);
    }
    workbook.save_to_buffer().expect("a workbook")
}

/// The sheet named `name`.
pub fn sheet<'a>(sheets: &'a mut [SheetCells], name: &str) -> &'a mut SheetCells {
    sheets
        .iter_mut()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
}

/// (row, column) of a cell name such as `E12`.
pub fn at(cell: &str) -> (u32, u16) {
    let letters: String = cell.chars().take_while(char::is_ascii_alphabetic).collect();
    let col = letters
        .bytes()
        .fold(0u16, |n, b| n * 26 + u16::from(b - b'A' + 1))
        - 1;
    let row: u32 = cell[letters.len()..].parse().expect("a row");
    (row - 1, col)
}

/// The row (from 0) of the row whose column A reads `code` on the sheet, first from `from`.
pub fn row_of(sheet: &SheetCells, code: &str, from: u32) -> u32 {
    sheet
        .cells
        .iter()
        .find(|((row, col), data)| *row >= from && *col == 0 && **data == Data::String(code.into()))
        .map(|((row, _), _)| *row)
        .unwrap_or_else(|| panic!("no row {code} on {}", sheet.name))
}
