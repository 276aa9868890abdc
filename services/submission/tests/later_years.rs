//! Rounds of years the unit registry lists no cohort for: opened with no units named, they
//! take every unit of the framework's kind active that year, and those units submit.

mod support;

use std::time::Duration;

use support::{round_ref, some_values, Stack, FRAMEWORK};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2024_round_opened_without_units_takes_the_active_districts_and_they_submit(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let api = stack.api();
    let round_2024 = round_ref(2024, FRAMEWORK);
    api.open_round(round_2024.clone(), &[], Duration::from_secs(3600))
        .await?;

    let round = stack
        .read_round(&round_2024, &stack.operator_token())
        .await?;
    let registry = dti_domain::UnitRegistry::builtin()?;
    let mut expected: Vec<String> = registry
        .units()
        .filter(|unit| unit.kind == dti_domain::units::UnitType::District)
        .filter(|unit| unit.is_active_in(2024))
        .map(|unit| unit.id.to_string())
        .collect();
    expected.sort();
    let mut cohort = round.unit_ids.clone();
    cohort.sort();
    assert_eq!(cohort, expected);
    assert_eq!(cohort.len(), 22, "Thủ Đức City and the 21 districts");
    assert!(cohort.iter().any(|unit| unit == "quan-1"));
    assert!(
        !cohort.iter().any(|unit| unit == "quan-2"),
        "merged into Thủ Đức City in 2021"
    );

    let draft = api.create_draft(round_2024.clone(), "quan-1").await?;
    api.set_values("quan-1", &draft.submission_id, some_values(5))
        .await?;
    let version = api
        .submit("quan-1", &draft.submission_id, "quan-1-2024")
        .await?;
    assert_eq!(version, 1);

    // A unit outside the derived cohort cannot draft in it.
    let refused = api
        .create_draft(round_2024, "quan-2")
        .await
        .expect_err("quan-2 is not in the 2024 cohort");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");
    stack.close().await
}
