//! Protobuf values a test sends: rounds, units, variable values, indicator values and
//! general-information values of `dti.common.v1`, built from plain Rust values.

use dti_proto::dti::common::v1::{
    general_info_value, variable_value, Contact, GeneralInfoValue, IndicatorValue, RoundRef,
    UnitRef, VariableValue,
};

/// The round of `year` and `framework`.
pub fn round_ref(year: u32, framework: &str) -> RoundRef {
    RoundRef {
        year,
        framework: framework.to_owned(),
    }
}

/// The unit `unit_id`.
pub fn unit_ref(unit_id: &str) -> UnitRef {
    UnitRef {
        unit_id: unit_id.to_owned(),
    }
}

/// A count.
pub fn count(n: u64) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Count(n)),
    }
}

/// A yes/no flag.
pub fn flag(b: bool) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Flag(b)),
    }
}

/// One of a variable's choices.
pub fn choice(c: &str) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Choice(c.to_owned())),
    }
}

/// An indicator value from (variable, value) pairs.
pub fn indicator(code: &str, variables: &[(&str, VariableValue)]) -> IndicatorValue {
    IndicatorValue {
        indicator_code: code.to_owned(),
        variables: variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect(),
    }
}

/// District values (`hcm-2023-district`): 1.1 the head's role, 1.2 `a` of 10, 2.1 yes, and
/// 5.1 `systems` (a min-max count), so two units differ where the test chooses.
pub fn district_values(a: u64, systems: u64) -> Vec<IndicatorValue> {
    vec![
        indicator("1.1", &[("head_role", choice("head"))]),
        indicator("1.2", &[("a", count(a)), ("b", count(10))]),
        indicator("2.1", &[("yes", flag(true))]),
        indicator("5.1", &[("a", count(systems))]),
    ]
}

/// A general-information number (a count or an amount of đồng).
pub fn info_number(n: u64) -> GeneralInfoValue {
    GeneralInfoValue {
        value: Some(general_info_value::Value::Number(n)),
    }
}

/// A general-information text.
pub fn info_text(text: &str) -> GeneralInfoValue {
    GeneralInfoValue {
        value: Some(general_info_value::Value::Text(text.to_owned())),
    }
}

/// A general-information contact with a name and a phone.
pub fn info_contact(name: &str, phone: &str) -> GeneralInfoValue {
    GeneralInfoValue {
        value: Some(general_info_value::Value::Contact(Contact {
            name: name.to_owned(),
            phone: phone.to_owned(),
            ..Contact::default()
        })),
    }
}
