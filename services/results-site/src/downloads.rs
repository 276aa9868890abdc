//! The tables as files: CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
//! Vietnamese names) and .xlsx (numbers as numbers shown with two decimals), both with
//! Vietnamese headings whatever the page's language, so a file's columns never depend on who
//! downloaded it. CSV cells are the published decimal strings as given; an .xlsx number cell
//! holds the spreadsheet format's binary number of that string (the file format has no
//! decimals), shown with the `0.00` format.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use dti_i18n::Message;

use crate::i18n::{outcome_key, Lang};
use crate::results::{Movement, Ranking, Scorecard};

/// One table: headings, then rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Worksheet name.
    pub sheet: String,
    /// Column headings.
    pub headings: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
}

/// A cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A decimal number as published, e.g. "12.34".
    Decimal(String),
    /// A whole number (ranks, changes of rank).
    Whole(i64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Self::Text(text) | Self::Decimal(text) => text.clone(),
            Self::Whole(value) => value.to_string(),
        }
    }
}

/// A heading or label of the tables: always Vietnamese.
fn text(key: &'static str) -> String {
    Lang::Vi.text(key)
}

/// What a row's previous figures are: empty for the unit's own (or its one predecessor's), or
/// "trung bình của …" naming the merged units, by id, whose mean they are.
fn previous_basis(movement: &Movement) -> String {
    if movement.mean_of.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = movement
        .mean_of
        .iter()
        .map(|unit| unit.id.as_str())
        .collect();
    Lang::Vi.render(&Message::new("site-previous-mean-mark").arg("units", ids.join(", ")))
}

/// The ranking as a table: rank, unit id, unit name, total, each group; with the previous
/// year's rank, change of rank, total and what that total is when a previous year exists.
pub fn ranking_table(ranking: &Ranking) -> Table {
    let mut headings = vec![
        text("site-rank"),
        text("site-column-unit-id"),
        text("site-unit"),
        text("site-total"),
    ];
    headings.extend(ranking.groups.iter().map(|group| {
        Lang::Vi.render(
            &Message::new("site-column-group")
                .arg("code", &group.code)
                .arg("name", &group.name),
        )
    }));
    let with_movement = ranking.rows.iter().any(|row| row.movement.is_some());
    if with_movement {
        headings.push(text("site-previous-rank"));
        headings.push(text("site-rank-change"));
        headings.push(text("site-previous-total"));
        headings.push(text("site-previous-basis"));
    }
    let rows = ranking
        .rows
        .iter()
        .map(|row| {
            let mut cells = vec![
                Cell::Whole(i64::from(row.rank)),
                Cell::Text(row.unit_id.clone()),
                Cell::Text(row.unit_name.clone()),
                Cell::Decimal(row.total.clone()),
            ];
            cells.extend(row.groups.iter().cloned().map(Cell::Decimal));
            if with_movement {
                match &row.movement {
                    Some(movement) => {
                        cells.push(Cell::Whole(i64::from(movement.previous_rank)));
                        cells.push(Cell::Whole(movement.places_gained));
                        cells.push(Cell::Decimal(movement.previous_total.clone()));
                        cells.push(Cell::Text(previous_basis(movement)));
                    }
                    None => cells.extend(std::iter::repeat_n(Cell::Text(String::new()), 4)),
                }
            }
            cells
        })
        .collect();
    Table {
        sheet: "Xep hang".into(),
        headings,
        rows,
    }
}

/// A unit's scorecard as a table: one row per indicator.
pub fn scorecard_table(scorecard: &Scorecard) -> Table {
    let headings = [
        "site-group",
        "site-code",
        "site-indicator",
        "site-max-points",
        "site-outcome",
        "site-score",
        "site-explanation",
    ]
    .map(text)
    .to_vec();
    let rows = scorecard
        .groups
        .iter()
        .flat_map(|group| {
            group.lines.iter().map(|line| {
                vec![
                    Cell::Text(group.head.code.clone()),
                    Cell::Text(line.code.clone()),
                    Cell::Text(line.name.clone()),
                    Cell::Decimal(line.max_points.clone()),
                    Cell::Text(text(outcome_key(&line.outcome))),
                    Cell::Decimal(line.score.clone()),
                    Cell::Text(line.summary.clone()),
                ]
            })
        })
        .collect();
    Table {
        sheet: "Diem chi so".into(),
        headings,
        rows,
    }
}

/// The table as CSV, UTF-8 with a byte-order mark.
pub fn csv(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    writer.write_record(&table.headings)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(Cell::text))?;
    }
    writer.flush()?;
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

/// The table as an .xlsx workbook of one worksheet.
pub fn xlsx(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let heading = Format::new().set_bold().set_text_wrap();
    let two_decimals = Format::new().set_num_format("0.00");
    let sheet = workbook.add_worksheet();
    sheet.set_name(&table.sheet)?;
    for (column, title) in table.headings.iter().enumerate() {
        let column = column_index(column);
        sheet.write_string_with_format(0, column, title, &heading)?;
        sheet.set_column_width(column, if column == 2 { 40 } else { 14 })?;
    }
    for (index, row) in table.rows.iter().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for (column, cell) in row.iter().enumerate() {
            let column = column_index(column);
            match cell {
                Cell::Text(text) => {
                    sheet.write_string(line, column, text)?;
                }
                Cell::Decimal(decimal) => match decimal.parse::<f64>() {
                    Ok(number) => {
                        sheet.write_number_with_format(line, column, number, &two_decimals)?;
                    }
                    Err(_) => {
                        sheet.write_string(line, column, decimal)?;
                    }
                },
                Cell::Whole(value) => {
                    sheet.write_number(line, column, *value as f64)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    workbook.save_to_buffer()
}

fn column_index(column: usize) -> u16 {
    u16::try_from(column).unwrap_or(u16::MAX)
}
