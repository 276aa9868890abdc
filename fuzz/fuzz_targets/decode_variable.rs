//! Any JSON value decoded as a variable of every type: a value of that type or a message,
//! never a panic; counts and money are never above the bound.
#![no_main]

use dti_domain::framework::VariableType;
use dti_domain::values::{decode_variable, MAX_WHOLE};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let types = [
        VariableType::Count,
        VariableType::Money,
        VariableType::Bool,
        VariableType::Choice {
            choices: vec!["head".into(), "none".into()],
        },
        VariableType::Activities,
        VariableType::Decimal,
        VariableType::Text,
    ];
    for ty in &types {
        match decode_variable(ty, &raw) {
            Ok(value) => {
                assert_eq!(value.type_name(), ty.name());
                if let Some(n) = value.as_count() {
                    assert!(n <= MAX_WHOLE);
                }
            }
            Err(message) => assert!(!message.is_empty()),
        }
    }
});
