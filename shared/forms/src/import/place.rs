//! Where a problem with a form is: a cell of a sheet, a sheet, or the workbook, and for an
//! input the indicator and variable it belongs to; the problem in the caller's language.

use dti_domain::values::InputIssue;
use dti_i18n::{Arg, Catalog};

use super::FormProblem;
use crate::layout::{cell_name, FormLayout, Slot};

/// Places problems: a cell of a sheet, a sheet, or the workbook.
pub(super) struct Place<'c> {
    pub(super) catalog: &'c Catalog,
}

impl Place<'_> {
    pub(super) fn workbook(&self, problem: String) -> FormProblem {
        FormProblem {
            sheet: None,
            cell: None,
            indicator: None,
            variable: None,
            text: self
                .catalog
                .format("import-in-workbook", &[("problem", Arg::from(problem))]),
        }
    }

    pub(super) fn sheet(&self, sheet: &str, problem: String) -> FormProblem {
        FormProblem {
            sheet: Some(sheet.to_owned()),
            text: self.catalog.format(
                "import-in-sheet",
                &[("sheet", Arg::from(sheet)), ("problem", Arg::from(problem))],
            ),
            ..self.workbook(String::new())
        }
    }

    pub(super) fn cell(
        &self,
        sheet: &str,
        row: u32,
        col: u16,
        slot: Option<&Slot>,
        problem: String,
    ) -> FormProblem {
        let cell = cell_name(row, col);
        FormProblem {
            sheet: Some(sheet.to_owned()),
            indicator: slot.and_then(Slot::indicator).map(str::to_owned),
            variable: slot.and_then(Slot::variable).map(str::to_owned),
            text: self.catalog.format(
                "import-at-cell",
                &[
                    ("sheet", Arg::from(sheet)),
                    ("cell", Arg::from(&cell)),
                    ("problem", Arg::from(problem)),
                ],
            ),
            cell: Some(cell),
        }
    }

    /// A problem at the input cell of `slot`.
    pub(super) fn slot(&self, layout: &FormLayout, slot: &Slot, problem: String) -> FormProblem {
        match layout.find(|s| s == slot) {
            Some((sheet, input)) => {
                self.cell(&sheet.name, input.row, input.col, Some(slot), problem)
            }
            None => self.workbook(problem),
        }
    }

    /// A domain issue at the cell of its indicator and variable (the first variable of a sum
    /// such as `a+b`; the indicator's row when it names no variable).
    pub(super) fn issue(&self, layout: &FormLayout, issue: &InputIssue) -> FormProblem {
        let indicator = issue
            .indicator
            .as_deref()
            .map(|i| i.trim_start_matches("general information ").to_owned());
        let variable = issue
            .variable
            .as_deref()
            .and_then(|v| v.split('+').next())
            .map(str::to_owned);
        let found = layout
            .find(|slot| {
                slot.indicator() == indicator.as_deref()
                    && match (&variable, slot) {
                        (Some(v), Slot::Variable { variable, .. })
                        | (Some(v), Slot::ActivityCount { variable, .. }) => v == variable,
                        (None, Slot::NotApplicable { .. }) => true,
                        (None, Slot::GeneralInfo { .. }) => true,
                        _ => false,
                    }
            })
            .or_else(|| {
                layout.find(|slot| {
                    slot.indicator() == indicator.as_deref()
                        && matches!(slot, Slot::NotApplicable { .. } | Slot::GeneralInfo { .. })
                })
            });
        let subject = [issue.indicator.as_deref(), issue.variable.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let problem = self.catalog.format(
            "import-domain",
            &[
                ("subject", Arg::from(subject)),
                ("message", Arg::from(issue.message.clone())),
            ],
        );
        match found {
            Some((sheet, input)) => {
                let mut placed = self.cell(&sheet.name, input.row, input.col, None, problem);
                placed.indicator = indicator;
                placed.variable = issue.variable.clone();
                placed
            }
            None => self.workbook(problem),
        }
    }
}
