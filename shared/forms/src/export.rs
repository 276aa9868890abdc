//! Report workbooks for the city's report: each sheet a title, header lines and one table with
//! headings; scores are numbers shown with two decimals (number format `0.00`), whole numbers
//! and text as themselves. Callers build a [`Report`] from the services' answers in the
//! language they chose; this module only writes it.

use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook};

use crate::template::WriteError;

/// A cell of a report table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportCell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A whole number (a rank, a count).
    Whole(u64),
    /// A score or value as the services write it: an exact decimal string (`"12.50"`); shown
    /// as a number with two decimals.
    Decimal(String),
}

/// One sheet: title and header lines above a table.
#[derive(Debug, Clone, Default)]
pub struct ReportSheet {
    /// The sheet's name (at most 31 characters).
    pub name: String,
    /// Lines above the table, the first one the title.
    pub header: Vec<String>,
    /// The table's headings and column widths.
    pub columns: Vec<(String, f64)>,
    /// The table's rows.
    pub rows: Vec<Vec<ReportCell>>,
}

/// A report workbook.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Its sheets in order.
    pub sheets: Vec<ReportSheet>,
}

/// The row (from 0) where a report sheet's table headings are: after the header lines and a
/// blank row.
pub fn heading_row(sheet: &ReportSheet) -> u32 {
    u32::try_from(sheet.header.len()).unwrap_or(u32::MAX - 1) + 1
}

/// The report as .xlsx bytes.
pub fn write_report(report: &Report) -> Result<Vec<u8>, WriteError> {
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new().set_bold();
    let heading = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xD9D9D9));
    let text = Format::new().set_text_wrap().set_border(FormatBorder::Thin);
    let whole = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("0");
    let decimal = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("0.00");
    let mut workbook = Workbook::new();
    for sheet in &report.sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(&sheet.name)?;
        for (row, line) in (0u32..).zip(&sheet.header) {
            let format = if row == 0 { &title } else { &header };
            worksheet.write_string_with_format(row, 0, line, format)?;
        }
        let top = heading_row(sheet);
        for (col, (name, width)) in (0u16..).zip(&sheet.columns) {
            worksheet.set_column_width(col, *width)?;
            worksheet.write_string_with_format(top, col, name, &heading)?;
        }
        for (row, cells) in (top + 1..).zip(&sheet.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                match cell {
                    ReportCell::Empty => {
                        worksheet.write_blank(row, col, &text)?;
                    }
                    ReportCell::Text(value) => {
                        worksheet.write_string_with_format(row, col, value, &text)?;
                    }
                    ReportCell::Whole(value) => {
                        #[allow(
                            clippy::cast_precision_loss,
                            reason = "ranks and counts stay below 2^53"
                        )]
                        worksheet.write_number_with_format(row, col, *value as f64, &whole)?;
                    }
                    // The spreadsheet's number is the float nearest the exact decimal; the
                    // exact value stays in the services' answers.
                    ReportCell::Decimal(value) => match value.parse::<f64>() {
                        Ok(number) => {
                            worksheet.write_number_with_format(row, col, number, &decimal)?;
                        }
                        Err(_) => {
                            worksheet.write_string_with_format(row, col, value, &text)?;
                        }
                    },
                }
            }
        }
        worksheet.set_freeze_panes(top + 1, 0)?;
    }
    Ok(workbook.save_to_buffer()?)
}
