//! A unit's submitted indicator values, decoded and validated against a framework.
//!
//! The same checks back `dtictl`, the submission service and every other caller, so a unit
//! sees the same message wherever it sends a value. Each [`InputIssue`] names the unit, the
//! indicator and the variable. Errors stop scoring and storing; warnings (for example a
//! general-information count that differs from the indicator variable restating it) are shown
//! to the unit and the verifier but change nothing.
//!
//! Modules:
//! - `model`: the typed values ([`VariableValue`], [`IndicatorValues`], [`UnitValues`],
//!   [`Cohort`]);
//! - `issues`: problems found ([`InputIssue`], [`Severity`]) and a decode's outcome
//!   ([`Decoded`]);
//! - `variable`: one JSON value decoded as a variable of its type ([`decode_variable`]);
//! - `indicator`: one indicator's variables decoded and validated
//!   ([`decode_indicator_values`], [`check_indicator_values`]);
//! - `general_info`: unscored general information and its cross-check
//!   ([`cross_check_general_info`]), and all the warnings of a unit's values
//!   ([`unit_warnings`]);
//! - `unit`: one unit object of a cohort document ([`UnitDocument`], [`DecodedUnit`]);
//! - `cohort`: a whole cohort document ([`decode_cohort`], [`decode_cohort_with`]).

mod cohort;
mod general_info;
mod indicator;
mod issues;
mod model;
mod unit;
mod variable;

pub use cohort::{decode_cohort, decode_cohort_with};
pub use general_info::{
    cross_check_general_info, decode_general_info_fields, unit_warnings, CONTACT_FIELDS,
};
pub use indicator::{check_indicator_values, decode_indicator_values};
pub use issues::{Decoded, InputIssue, Severity, GENERAL_INFO_PLACE};
pub use model::{Activity, Cohort, IndicatorValues, UnitValues, VariableValue};
pub use unit::{DecodedUnit, UnitDocument};
pub use variable::{
    decode_variable, MAX_ACTIVITIES, MAX_DECIMAL_FRACTION_DIGITS, MAX_DECIMAL_WHOLE_DIGITS,
    MAX_WHOLE,
};
