//! Spreadsheet forms of the city's DTI assessment, generated from framework data and read back
//! with the domain's own validation, and the .xlsx reports the city attaches to its report.
//!
//! This crate owns:
//! - [`layout`]: the form's layout (sheets, label cells, input cells and what each holds),
//!   computed from a framework, a round, a unit and a language;
//! - [`meta`]: the hidden metadata sheet (framework id and content hash, year, unit, language,
//!   form format version);
//! - [`template`]: writing a form (empty, or with a unit's values) with `rust_xlsxwriter`;
//! - [`cell`]: reading a spreadsheet cell as a value exactly (whole numbers, decimals, yes/no,
//!   choices, text);
//! - [`import`]: reading a filled form with `calamine`, every problem placed at its sheet, cell,
//!   indicator and variable;
//! - [`export`]: report workbooks (tables with Vietnamese headings, scores as numbers with two
//!   decimals).
//!
//! Texts come from the message catalogues of `dti-i18n`; values are validated by `dti-domain`.

#![warn(missing_docs)]

pub mod cell;
pub mod export;
pub mod import;
pub mod layout;
pub mod meta;
pub mod template;

pub use import::{import_form, FormProblem, ImportOptions, ImportedForm};
pub use layout::{FormLayout, FormSpec};
pub use meta::{FormMeta, FORM_FORMAT_VERSION, META_SHEET};
pub use template::{write_form, FilledValues, WriteError};
