//! Writing a form: the layout of [`crate::layout`] as an .xlsx workbook with `rust_xlsxwriter`.
//! Labels are locked and every sheet is protected (without a password); input cells are
//! unlocked, yellow, and carry Excel data validation (a whole number ≥ 0, a number ≥ 0, or a
//! list for yes/no and enumerations). The hidden metadata sheet comes last.
//!
//! [`write_form`] writes the empty template; given a unit's values ([`FilledValues`]) it writes
//! them into the same input cells, which is how a form filled by a program (or a form sent back
//! to a unit with last year's values) is made.

use std::collections::BTreeMap;

use dti_domain::values::{UnitValues, VariableValue};
use dti_i18n::Catalog;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatBorder,
    Formula, Workbook, Worksheet, XlsxError,
};
use serde_json::Value;

use crate::layout::{
    yes_no, FormLayout, FormSpec, InputCell, InputKind, LabelStyle, SheetLayout, Slot, HEADING_ROW,
};
use crate::meta::{framework_hash, FormMeta, FORM_FORMAT_VERSION, META_SHEET};

/// A unit's values to write into a form's input cells.
#[derive(Debug, Clone)]
pub struct FilledValues {
    /// The values, validated by the domain.
    pub values: UnitValues,
    /// Evidence references by indicator code.
    pub evidence: BTreeMap<String, String>,
}

/// Why a form could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the form: {0}")]
pub struct WriteError(#[from] XlsxError);

/// The form's metadata for `spec`.
pub fn meta_of(spec: &FormSpec<'_>) -> FormMeta {
    FormMeta {
        format_version: FORM_FORMAT_VERSION,
        framework: spec.framework.id.to_string(),
        framework_hash: framework_hash(spec.framework),
        year: spec.year,
        unit: spec.unit.as_ref().map(|(id, _)| id.to_string()),
        lang: spec.lang,
    }
}

/// The form of `spec` as .xlsx bytes, with `filled`'s values in its input cells when given.
pub fn write_form(
    spec: &FormSpec<'_>,
    filled: Option<&FilledValues>,
) -> Result<Vec<u8>, WriteError> {
    let layout = FormLayout::of(spec);
    let formats = Formats::new();
    let (yes, no) = yes_no(spec.lang);
    let mut workbook = Workbook::new();
    for (index, sheet) in layout.sheets.iter().enumerate() {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(&sheet.name)?;
        set_widths(worksheet, index == 0)?;
        write_labels(worksheet, sheet, &formats)?;
        for input in &sheet.inputs {
            let validation = validation(input, spec.lang.catalog(), &yes, &no)?;
            if let Some(validation) = validation {
                worksheet.add_data_validation(
                    input.row,
                    input.col,
                    input.row,
                    input.col,
                    &validation,
                )?;
            }
            let value = match filled {
                Some(filled) => value_of(&input.slot, filled, &yes, &no),
                None if input.slot == Slot::UnitId => spec
                    .unit
                    .as_ref()
                    .map(|(id, _)| CellValue::Text(id.to_string())),
                None => None,
            };
            match value {
                Some(CellValue::Number(n)) => {
                    worksheet.write_number_with_format(input.row, input.col, n, &formats.input)?
                }
                Some(CellValue::Text(t)) => {
                    worksheet.write_string_with_format(input.row, input.col, t, &formats.input)?
                }
                None => worksheet.write_blank(input.row, input.col, &formats.input)?,
            };
        }
        worksheet.set_freeze_panes(HEADING_ROW + 1, 0)?;
        worksheet.protect();
    }
    let meta = workbook.add_worksheet();
    meta.set_name(META_SHEET)?;
    for (row, (key, value)) in (0u32..).zip(meta_of(spec).rows()) {
        meta.write_string(row, 0, key)?;
        meta.write_string(row, 1, value)?;
    }
    meta.set_hidden(true);
    meta.protect();
    Ok(workbook.save_to_buffer()?)
}

/// The cell formats of a form.
struct Formats {
    title: Format,
    header: Format,
    heading: Format,
    indicator: Format,
    plain: Format,
    input: Format,
}

impl Formats {
    fn new() -> Self {
        let wrap = Format::new().set_text_wrap();
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new().set_bold(),
            heading: wrap
                .clone()
                .set_bold()
                .set_border(FormatBorder::Thin)
                .set_background_color(Color::RGB(0xD9D9D9)),
            indicator: wrap.clone().set_bold().set_border(FormatBorder::Thin),
            plain: wrap.clone().set_border(FormatBorder::Thin),
            input: wrap
                .set_unlocked()
                .set_border(FormatBorder::Thin)
                .set_background_color(Color::RGB(0xFFF2CC)),
        }
    }

    fn of(&self, style: LabelStyle) -> &Format {
        match style {
            LabelStyle::Title => &self.title,
            LabelStyle::Header => &self.header,
            LabelStyle::Heading => &self.heading,
            LabelStyle::Indicator => &self.indicator,
            LabelStyle::Plain => &self.plain,
        }
    }
}

fn set_widths(worksheet: &mut Worksheet, general: bool) -> Result<(), XlsxError> {
    let widths: &[f64] = if general {
        &[8.0, 60.0, 24.0, 40.0]
    } else {
        &[12.0, 60.0, 10.0, 24.0, 16.0, 14.0, 30.0]
    };
    for (col, width) in (0u16..).zip(widths) {
        worksheet.set_column_width(col, *width)?;
    }
    Ok(())
}

fn write_labels(
    worksheet: &mut Worksheet,
    sheet: &SheetLayout,
    formats: &Formats,
) -> Result<(), XlsxError> {
    for label in &sheet.labels {
        let format = formats.of(label.style);
        if label.spans_row {
            worksheet.merge_range(
                label.row,
                label.col,
                label.row,
                sheet.columns - 1,
                &label.text,
                format,
            )?;
        } else {
            worksheet.write_string_with_format(label.row, label.col, &label.text, format)?;
        }
    }
    Ok(())
}

/// The data validation of an input cell.
fn validation(
    input: &InputCell,
    catalog: &Catalog,
    yes: &str,
    no: &str,
) -> Result<Option<DataValidation>, XlsxError> {
    let cell = crate::layout::cell_name(input.row, input.col);
    let validation = match &input.kind {
        InputKind::Whole => {
            DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        }
        InputKind::Money => DataValidation::new().allow_custom(Formula::new(format!(
            "=AND(ISNUMBER({cell}),{cell}>=0,INT({cell})={cell})"
        ))),
        InputKind::Decimal => DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0)),
        InputKind::YesNo => DataValidation::new().allow_list_strings(&[yes, no])?,
        InputKind::Choice(choices) => DataValidation::new().allow_list_strings(choices)?,
        InputKind::Text => return Ok(None),
    };
    let message = match &input.kind {
        InputKind::Whole | InputKind::Money => "form-input-whole",
        InputKind::Decimal => "form-input-decimal",
        _ => "form-input-list",
    };
    Ok(Some(
        validation
            .set_error_style(DataValidationErrorStyle::Stop)
            .set_input_title(catalog.text("form-input-title"))?
            .set_input_message(catalog.text(message))?
            .set_error_title(catalog.text("form-input-title"))?
            .set_error_message(catalog.text(message))?,
    ))
}

/// A value to write into a cell.
enum CellValue {
    Number(f64),
    Text(String),
}

/// A whole number as a spreadsheet number: exact up to 2^53, which every count and amount of
/// đồng of a form stays below (the importer refuses larger ones).
fn number(n: u64) -> CellValue {
    #[allow(
        clippy::cast_precision_loss,
        reason = "counts of a form stay below 2^53"
    )]
    CellValue::Number(n as f64)
}

/// What `filled` holds for a slot.
fn value_of(slot: &Slot, filled: &FilledValues, yes: &str, no: &str) -> Option<CellValue> {
    let values = &filled.values;
    match slot {
        Slot::UnitId => Some(CellValue::Text(values.unit.to_string())),
        Slot::GeneralInfo { key, part, .. } => {
            let field = values.general_info.get(key)?;
            let field = match part {
                Some(part) => field.get(part)?,
                None => field,
            };
            match field {
                Value::Number(n) => n.as_u64().map(number),
                Value::String(s) => Some(CellValue::Text(s.clone())),
                _ => None,
            }
        }
        Slot::Variable {
            indicator,
            variable,
        } => match variable_value(values, indicator, variable)? {
            VariableValue::Count(n) | VariableValue::Money(n) => Some(number(*n)),
            VariableValue::Flag(b) => Some(CellValue::Text(if *b { yes } else { no }.to_owned())),
            VariableValue::Choice(s) | VariableValue::Text(s) => Some(CellValue::Text(s.clone())),
            VariableValue::Decimal(d) => {
                d.to_decimal_string(12).parse().ok().map(CellValue::Number)
            }
            VariableValue::Activities(_) => None,
        },
        Slot::ActivityCount {
            indicator,
            variable,
        } => {
            let activities = variable_value(values, indicator, variable)?.as_activities()?;
            Some(number(u64::try_from(activities.len()).unwrap_or(u64::MAX)))
        }
        Slot::Activity {
            indicator,
            variable,
            number: at,
            field,
        } => {
            let activities = variable_value(values, indicator, variable)?.as_activities()?;
            let activity = activities.get(at - 1)?;
            Some(number(if *field == "reports" {
                activity.reports
            } else {
                activity.resolved
            }))
        }
        Slot::NotApplicable { indicator } => values
            .not_applicable
            .iter()
            .any(|code| code.as_str() == indicator)
            .then(|| CellValue::Text(yes.to_owned())),
        Slot::Evidence { indicator } => filled
            .evidence
            .get(indicator)
            .map(|reference| CellValue::Text(reference.clone())),
    }
}

/// The value of one variable of one indicator.
fn variable_value<'v>(
    values: &'v UnitValues,
    indicator: &str,
    variable: &str,
) -> Option<&'v VariableValue> {
    values
        .values
        .iter()
        .find(|(code, _)| code.as_str() == indicator)?
        .1
        .iter()
        .find(|(name, _)| name.as_str() == variable)
        .map(|(_, value)| value)
}
