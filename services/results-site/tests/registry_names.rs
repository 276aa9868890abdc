//! The site names units with the unit registry in force, read from the submission service: a
//! unit an operator renames in the registry is shown under its new name, with no restart, and
//! a page cached under the old name is not answered 304.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_domain::units::Unit;
use dti_domain::{UnitId, UnitRegistry};
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::ImportRegistryRequest;
use dti_testkit::{eventually, with_auth, Poll};
use support::{values, Platform, RANKING};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_renamed_in_the_registry_shows_its_new_name() -> anyhow::Result<()> {
    let platform =
        Platform::start_with(|settings| settings.registry_check_interval_secs = 1).await?;
    platform
        .published_round(2023, &[("quan-1", values(7, 4)), ("quan-3", values(9, 8))])
        .await?;
    let page = platform.get(RANKING).await;
    page.expect(200);
    assert!(page.text().contains("Quận 3"));
    let before = page.header("etag");

    let seed = UnitRegistry::builtin()?;
    let quan_3 = UnitId::parse("quan-3")?;
    let renamed = seed.with_unit(Unit {
        name: "Quận Ba".to_owned(),
        ..seed.unit(&quan_3).expect("quan-3").clone()
    })?;
    RegistryServiceClient::new(platform.submission_channel())
        .import_registry(with_auth(
            ImportRegistryRequest {
                document_toml: renamed.to_toml(),
                expected_revision: Some(1),
                reason: "renamed".to_owned(),
            },
            &platform.backends.token(Role::Operator),
        ))
        .await?;

    eventually(
        "the site to name quan-3 as the registry in force does",
        Poll::new(Duration::from_secs(15), Duration::from_millis(200)),
        || {
            let platform = &platform;
            async move {
                let ranking = platform.get(RANKING).await.text();
                let scorecard = platform
                    .get(&format!("{RANKING}/units/quan-3"))
                    .await
                    .text();
                Ok((ranking.contains("Quận Ba") && scorecard.contains("Quận Ba")).then_some(()))
            }
        },
    )
    .await?;
    // The names are part of what the validator covers: the old ETag no longer matches.
    let after = platform
        .get_with(RANKING, &[("if-none-match", before.as_str())])
        .await;
    after.expect(200);
    assert_ne!(after.header("etag"), before);
    platform.stop().await
}
