//! The form's layout: every sheet, every label cell with the text the template writes, and
//! every input cell with what it holds. It is computed from the framework, the round, the unit
//! and the language alone, so the template writer and the importer read one description: the
//! importer finds each value where the template put its input cell, and compares every label
//! cell with the text the template wrote there.

use dti_domain::framework::{Framework, GeneralInfoType, Indicator, Rule, VariableType};
use dti_domain::UnitId;
use dti_i18n::{Arg, Catalog, Lang};

/// Columns of a group sheet.
pub mod columns {
    /// Indicator code, or the variable's name.
    pub const CODE: u16 = 0;
    /// Indicator name, or the variable's meaning.
    pub const CONTENT: u16 = 1;
    /// Indicator points.
    pub const POINTS: u16 = 2;
    /// The variable's type.
    pub const TYPE: u16 = 3;
    /// The variable's value (input).
    pub const VALUE: u16 = 4;
    /// Not applicable (input, on the indicator's row).
    pub const NOT_APPLICABLE: u16 = 5;
    /// Evidence reference (input, on the indicator's row).
    pub const EVIDENCE: u16 = 6;
    /// How many columns a group sheet has.
    pub const COUNT: u16 = 7;
}

/// Rows of the header every sheet starts with (title, framework, round, unit or
/// instructions, group), then a blank row, then the column headings.
pub const HEADING_ROW: u32 = 6;

/// The contact parts of a `contact` general-information field, in form order.
pub const CONTACT_PARTS: [(&str, &str); 5] = [
    ("name", "form-contact-name"),
    ("unit", "form-contact-unit"),
    ("position", "form-contact-position"),
    ("phone", "form-contact-phone"),
    ("email", "form-contact-email"),
];

/// What a form is made for: the framework, the round's year, the unit when known, the
/// language of its labels.
#[derive(Debug, Clone)]
pub struct FormSpec<'a> {
    /// The framework of the round.
    pub framework: &'a Framework,
    /// The round's year.
    pub year: u16,
    /// The unit (id and name) when the form is made for one; otherwise the unit writes its id.
    pub unit: Option<(UnitId, String)>,
    /// The language of the labels.
    pub lang: Lang,
}

/// What an input cell accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// A whole number ≥ 0 (counts).
    Whole,
    /// A whole number of đồng ≥ 0 (may exceed what a 32-bit validation rule can hold).
    Money,
    /// A decimal ≥ 0.
    Decimal,
    /// Yes or no, in the form's language.
    YesNo,
    /// One of a list.
    Choice(Vec<String>),
    /// Free text.
    Text,
}

/// What an input cell holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// The unit's id.
    UnitId,
    /// A general-information field, or one part of a contact.
    GeneralInfo {
        /// The field's key.
        key: String,
        /// The code printed in the source.
        code: String,
        /// The contact part (`name`, `phone`…), for contacts.
        part: Option<&'static str>,
    },
    /// A variable of an indicator.
    Variable {
        /// Indicator code.
        indicator: String,
        /// Variable name.
        variable: String,
    },
    /// How many activities an `activities` variable lists (0 says the unit had none).
    ActivityCount {
        /// Indicator code.
        indicator: String,
        /// Variable name.
        variable: String,
    },
    /// One figure of one activity of an `activities` variable.
    Activity {
        /// Indicator code.
        indicator: String,
        /// Variable name.
        variable: String,
        /// The activity's place, from 1.
        number: usize,
        /// `reports` or `resolved`.
        field: &'static str,
    },
    /// Whether the indicator does not apply to the unit.
    NotApplicable {
        /// Indicator code.
        indicator: String,
    },
    /// The reference of the indicator's evidence document.
    Evidence {
        /// Indicator code.
        indicator: String,
    },
}

impl Slot {
    /// The indicator the slot belongs to (for general information: its key).
    pub fn indicator(&self) -> Option<&str> {
        match self {
            Slot::UnitId => None,
            Slot::GeneralInfo { key, .. } => Some(key),
            Slot::Variable { indicator, .. }
            | Slot::Activity { indicator, .. }
            | Slot::ActivityCount { indicator, .. }
            | Slot::NotApplicable { indicator }
            | Slot::Evidence { indicator } => Some(indicator),
        }
    }

    /// The variable the slot belongs to.
    pub fn variable(&self) -> Option<&str> {
        match self {
            Slot::Variable { variable, .. }
            | Slot::Activity { variable, .. }
            | Slot::ActivityCount { variable, .. } => Some(variable),
            Slot::GeneralInfo { part, .. } => *part,
            _ => None,
        }
    }

    /// How a problem names the slot: `3.2 a`, `8.5 activities #3 reports`, `1.4 population`.
    pub fn subject(&self, catalog: &Catalog) -> String {
        match self {
            Slot::UnitId => catalog.text("form-unit-id"),
            Slot::GeneralInfo { key, code, part } => match part {
                Some(part) => format!("{code} {key}.{part}"),
                None => format!("{code} {key}"),
            },
            Slot::Variable {
                indicator,
                variable,
            } => format!("{indicator} {variable}"),
            Slot::Activity {
                indicator,
                variable,
                number,
                field,
            } => format!("{indicator} {variable} #{number} {field}"),
            Slot::ActivityCount {
                indicator,
                variable,
            } => format!("{indicator} {variable}"),
            Slot::NotApplicable { indicator } => {
                format!("{indicator} ({})", catalog.text("form-col-not-applicable"))
            }
            Slot::Evidence { indicator } => {
                format!("{indicator} ({})", catalog.text("form-col-evidence"))
            }
        }
    }
}

/// How a label cell looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelStyle {
    /// The form's title.
    Title,
    /// Framework, round, unit and group lines.
    Header,
    /// Column headings.
    Heading,
    /// An indicator's row.
    Indicator,
    /// A variable's row.
    Plain,
}

/// A locked cell with the text the template writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelCell {
    /// Row, from 0.
    pub row: u32,
    /// Column, from 0.
    pub col: u16,
    /// The text.
    pub text: String,
    /// How it looks.
    pub style: LabelStyle,
    /// Merged across the sheet's columns (title and header lines).
    pub spans_row: bool,
}

/// An unlocked cell the unit fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputCell {
    /// Row, from 0.
    pub row: u32,
    /// Column, from 0.
    pub col: u16,
    /// What it holds.
    pub slot: Slot,
    /// What it accepts.
    pub kind: InputKind,
}

/// One sheet of the form.
#[derive(Debug, Clone)]
pub struct SheetLayout {
    /// The sheet's name.
    pub name: String,
    /// How many columns it uses.
    pub columns: u16,
    /// Its labels.
    pub labels: Vec<LabelCell>,
    /// Its inputs.
    pub inputs: Vec<InputCell>,
}

/// Every sheet of the form, general information first, then one per group.
#[derive(Debug, Clone)]
pub struct FormLayout {
    /// The sheets in order.
    pub sheets: Vec<SheetLayout>,
}

impl FormLayout {
    /// The layout of the form described by `spec`.
    pub fn of(spec: &FormSpec<'_>) -> FormLayout {
        let catalog = spec.lang.catalog();
        let mut sheets = vec![general_sheet(spec, catalog)];
        for group in &spec.framework.groups {
            let heading = catalog.format(
                "form-group-heading",
                &[
                    ("code", Arg::from(group.code.as_str())),
                    ("name", Arg::from(&group.name)),
                    ("points", Arg::from(group.points.to_string())),
                ],
            );
            let mut sheet = Builder::new(
                catalog.format(
                    "form-group-sheet",
                    &[("code", Arg::from(group.code.as_str()))],
                ),
                columns::COUNT,
                spec,
                catalog,
                heading,
            );
            sheet.headings(&[
                "form-col-code",
                "form-col-content",
                "form-col-points",
                "form-col-type",
                "form-col-value",
                "form-col-not-applicable",
                "form-col-evidence",
            ]);
            for indicator in spec
                .framework
                .indicators
                .iter()
                .filter(|i| i.group == group.code)
            {
                indicator_rows(&mut sheet, indicator);
            }
            sheets.push(sheet.done());
        }
        FormLayout { sheets }
    }

    /// The sheet with this name.
    pub fn sheet(&self, name: &str) -> Option<&SheetLayout> {
        self.sheets.iter().find(|s| s.name == name)
    }

    /// The sheet and input cell of a slot.
    pub fn find(&self, wanted: impl Fn(&Slot) -> bool) -> Option<(&SheetLayout, &InputCell)> {
        self.sheets.iter().find_map(|sheet| {
            sheet
                .inputs
                .iter()
                .find(|input| wanted(&input.slot))
                .map(|input| (sheet, input))
        })
    }
}

/// Builds one sheet row by row.
struct Builder<'c> {
    sheet: SheetLayout,
    catalog: &'c Catalog,
    row: u32,
}

impl<'c> Builder<'c> {
    /// A sheet with the header every sheet shares: title, framework, round, unit, `line`.
    fn new(
        name: String,
        columns: u16,
        spec: &FormSpec<'_>,
        catalog: &'c Catalog,
        line: String,
    ) -> Self {
        let mut builder = Builder {
            sheet: SheetLayout {
                name,
                columns,
                labels: Vec::new(),
                inputs: Vec::new(),
            },
            catalog,
            row: 0,
        };
        let framework = spec.framework;
        let unit = match &spec.unit {
            Some((id, name)) => catalog.format(
                "form-unit",
                &[("name", Arg::from(name)), ("id", Arg::from(id.as_str()))],
            ),
            None => catalog.text("form-unit-unset"),
        };
        let header = [
            (catalog.text("form-title"), LabelStyle::Title),
            (
                catalog.format(
                    "form-framework",
                    &[
                        ("title", Arg::from(&framework.title)),
                        ("source", Arg::from(framework.id.as_str())),
                    ],
                ),
                LabelStyle::Header,
            ),
            (
                catalog.format("form-round", &[("year", Arg::from(spec.year))]),
                LabelStyle::Header,
            ),
            (unit, LabelStyle::Header),
            (line, LabelStyle::Header),
        ];
        for (text, style) in header {
            builder.sheet.labels.push(LabelCell {
                row: builder.row,
                col: 0,
                text,
                style,
                spans_row: true,
            });
            builder.row += 1;
        }
        builder.row = HEADING_ROW;
        builder
    }

    fn headings(&mut self, keys: &[&str]) {
        for (col, key) in (0u16..).zip(keys) {
            let text = self.catalog.text(key);
            self.label(col, text, LabelStyle::Heading);
        }
        self.row += 1;
    }

    fn label(&mut self, col: u16, text: impl Into<String>, style: LabelStyle) {
        let text = text.into();
        if !text.is_empty() {
            self.sheet.labels.push(LabelCell {
                row: self.row,
                col,
                text,
                style,
                spans_row: false,
            });
        }
    }

    fn input(&mut self, col: u16, slot: Slot, kind: InputKind) {
        self.sheet.inputs.push(InputCell {
            row: self.row,
            col,
            slot,
            kind,
        });
    }

    fn next_row(&mut self) {
        self.row += 1;
    }

    fn done(self) -> SheetLayout {
        self.sheet
    }
}

/// The general-information sheet: the unit's id, then each field (a contact on five rows).
fn general_sheet(spec: &FormSpec<'_>, catalog: &Catalog) -> SheetLayout {
    const CODE: u16 = 0;
    const CONTENT: u16 = 1;
    const TYPE: u16 = 2;
    const VALUE: u16 = 3;
    let mut sheet = Builder::new(
        catalog.text("form-general-sheet"),
        4,
        spec,
        catalog,
        catalog.text("form-instructions"),
    );
    sheet.headings(&[
        "form-col-code",
        "form-col-content",
        "form-col-type",
        "form-col-value",
    ]);
    sheet.label(CONTENT, catalog.text("form-unit-id"), LabelStyle::Indicator);
    sheet.label(TYPE, catalog.text("form-type-text"), LabelStyle::Plain);
    sheet.input(VALUE, Slot::UnitId, InputKind::Text);
    sheet.next_row();
    for field in &spec.framework.general_info {
        let (kind, type_key) = match field.ty {
            GeneralInfoType::Text | GeneralInfoType::Contact => (InputKind::Text, "form-type-text"),
            GeneralInfoType::Count => (InputKind::Whole, "form-type-count"),
            GeneralInfoType::Money => (InputKind::Money, "form-type-money"),
        };
        sheet.label(CODE, &field.code, LabelStyle::Indicator);
        sheet.label(CONTENT, &field.name, LabelStyle::Indicator);
        if field.ty == GeneralInfoType::Contact {
            sheet.next_row();
            for (part, key) in CONTACT_PARTS {
                sheet.label(CONTENT, catalog.text(key), LabelStyle::Plain);
                sheet.label(TYPE, catalog.text(type_key), LabelStyle::Plain);
                let slot = Slot::GeneralInfo {
                    key: field.key.clone(),
                    code: field.code.clone(),
                    part: Some(part),
                };
                sheet.input(VALUE, slot, kind.clone());
                sheet.next_row();
            }
        } else {
            sheet.label(TYPE, catalog.text(type_key), LabelStyle::Plain);
            let slot = Slot::GeneralInfo {
                key: field.key.clone(),
                code: field.code.clone(),
                part: None,
            };
            sheet.input(VALUE, slot, kind);
            sheet.next_row();
        }
    }
    sheet.done()
}

/// How many activities an `activities` variable's form offers: enough for every point the
/// indicator can earn, and ten more for activities that do not count.
pub fn activity_rows(indicator: &Indicator) -> usize {
    let points_each = match &indicator.rule {
        Some(Rule::Activities(params)) => Some(&params.points_each),
        _ => None,
    };
    let earning = points_each
        .and_then(|each| {
            let ratio = &indicator.points.0 / &each.0;
            ratio.ceil().to_integer().try_into().ok()
        })
        .unwrap_or(20usize);
    earning + 10
}

/// An indicator's rows: its own (code, name, points, not applicable, evidence), then one per
/// variable (or two per activity).
fn indicator_rows(sheet: &mut Builder<'_>, indicator: &Indicator) {
    use columns::*;
    let catalog = sheet.catalog;
    let code = indicator.code.as_str().to_owned();
    sheet.label(CODE, &code, LabelStyle::Indicator);
    sheet.label(CONTENT, &indicator.name, LabelStyle::Indicator);
    sheet.label(POINTS, indicator.points.to_string(), LabelStyle::Indicator);
    sheet.input(
        NOT_APPLICABLE,
        Slot::NotApplicable {
            indicator: code.clone(),
        },
        InputKind::YesNo,
    );
    sheet.input(
        EVIDENCE,
        Slot::Evidence {
            indicator: code.clone(),
        },
        InputKind::Text,
    );
    sheet.next_row();
    for variable in &indicator.variables {
        let name = variable.name.as_str().to_owned();
        let (kind, type_text) = match &variable.ty {
            VariableType::Count => (InputKind::Whole, catalog.text("form-type-count")),
            VariableType::Money => (InputKind::Money, catalog.text("form-type-money")),
            VariableType::Bool => (InputKind::YesNo, catalog.text("form-type-bool")),
            VariableType::Decimal => (InputKind::Decimal, catalog.text("form-type-decimal")),
            VariableType::Text => (InputKind::Text, catalog.text("form-type-text")),
            VariableType::Choice { choices } => (
                InputKind::Choice(choices.clone()),
                catalog.format(
                    "form-type-choice",
                    &[("choices", Arg::from(choices.join(", ")))],
                ),
            ),
            VariableType::Activities => {
                activity_rows_of(sheet, indicator, &name, &variable.meaning);
                continue;
            }
        };
        sheet.label(CODE, &name, LabelStyle::Plain);
        sheet.label(CONTENT, &variable.meaning, LabelStyle::Plain);
        sheet.label(TYPE, type_text, LabelStyle::Plain);
        let slot = Slot::Variable {
            indicator: code.clone(),
            variable: name,
        };
        sheet.input(VALUE, slot, kind);
        sheet.next_row();
    }
}

/// The variable's row with the number of activities, then two rows per activity: its
/// reports, then its resolved reports.
fn activity_rows_of(sheet: &mut Builder<'_>, indicator: &Indicator, name: &str, meaning: &str) {
    use columns::*;
    let catalog = sheet.catalog;
    sheet.label(CODE, name, LabelStyle::Plain);
    sheet.label(CONTENT, meaning, LabelStyle::Plain);
    sheet.label(TYPE, catalog.text("form-activity-count"), LabelStyle::Plain);
    let slot = Slot::ActivityCount {
        indicator: indicator.code.as_str().to_owned(),
        variable: name.to_owned(),
    };
    sheet.input(VALUE, slot, InputKind::Whole);
    sheet.next_row();
    for number in 1..=activity_rows(indicator) {
        for (field, key) in [
            ("reports", "form-activity-reports"),
            ("resolved", "form-activity-resolved"),
        ] {
            sheet.label(CODE, format!("#{number} {field}"), LabelStyle::Plain);
            let text = catalog.format(key, &[("n", Arg::from(number))]);
            sheet.label(CONTENT, text, LabelStyle::Plain);
            sheet.label(TYPE, catalog.text("form-type-count"), LabelStyle::Plain);
            let slot = Slot::Activity {
                indicator: indicator.code.as_str().to_owned(),
                variable: name.to_owned(),
                number,
                field,
            };
            sheet.input(VALUE, slot, InputKind::Whole);
            sheet.next_row();
        }
    }
}

/// A cell's name as spreadsheets show it (`E12` for row 11, column 4).
pub fn cell_name(row: u32, col: u16) -> String {
    let mut letters = Vec::new();
    let mut n = u32::from(col) + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row + 1).to_string()
}

/// The form's words for yes and no.
pub fn yes_no(lang: Lang) -> (String, String) {
    let catalog = lang.catalog();
    (catalog.text("form-yes"), catalog.text("form-no"))
}

#[cfg(test)]
mod tests {
    use super::cell_name;

    #[test]
    fn cells_are_named_as_spreadsheets_name_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(11, 4), "E12");
        assert_eq!(cell_name(0, 25), "Z1");
        assert_eq!(cell_name(0, 26), "AA1");
    }
}
