//! The generated code and the embedded descriptor set.

use std::collections::HashMap;

use dti_proto::dti::common::v1::{
    variable_value, Activity, ActivityList, IndicatorValue, VariableValue,
};
use dti_proto::FILE_DESCRIPTOR_SET;
use prost::Message;

#[test]
fn descriptor_set_holds_every_package_and_its_imports() -> anyhow::Result<()> {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET)?;
    let files: Vec<&str> = set
        .file
        .iter()
        .filter_map(|file| file.name.as_deref())
        .collect();
    for expected in [
        "dti/common/v1/common.proto",
        "dti/events/v1/events.proto",
        "dti/submission/v1/submission.proto",
        "google/protobuf/timestamp.proto",
    ] {
        assert!(
            files.contains(&expected),
            "{expected} missing from {files:?}"
        );
    }
    let services: Vec<&str> = set
        .file
        .iter()
        .flat_map(|file| {
            file.service
                .iter()
                .filter_map(|service| service.name.as_deref())
        })
        .collect();
    assert!(services.contains(&"SubmissionService") && services.contains(&"RoundOperatorService"));
    Ok(())
}

#[test]
fn indicator_values_carry_every_variable_type_through_encoding() -> anyhow::Result<()> {
    let value = |value| VariableValue { value: Some(value) };
    let variables = HashMap::from([
        ("a".to_owned(), value(variable_value::Value::Count(133))),
        (
            "has_section".to_owned(),
            value(variable_value::Value::Flag(true)),
        ),
        (
            "head_role".to_owned(),
            value(variable_value::Value::Choice("deputy".into())),
        ),
        (
            "campaigns".to_owned(),
            value(variable_value::Value::Activities(ActivityList {
                activities: vec![Activity {
                    reports: 4,
                    resolved: 3,
                }],
            })),
        ),
        (
            "budget".to_owned(),
            value(variable_value::Value::Money(1_500_000_000)),
        ),
        (
            "share".to_owned(),
            value(variable_value::Value::Decimal("15.38".into())),
        ),
    ]);
    let indicator = IndicatorValue {
        indicator_code: "1.2".into(),
        variables,
    };
    let decoded = IndicatorValue::decode(indicator.encode_to_vec().as_slice())?;
    assert_eq!(decoded, indicator);
    Ok(())
}
