//! A framework an operator stores on the platform is added to the site's catalogue with the
//! registry, with no restart: the published results of a round opened with it are shown with
//! its groups and indicators.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::AddFrameworkRequest;
use dti_testkit::{eventually, with_auth, Poll};
use support::{values, Platform};

const STORED: &str = "hcm-2024-district";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_results_of_a_round_of_a_stored_framework_are_shown() -> anyhow::Result<()> {
    let platform =
        Platform::start_with(|settings| settings.registry_check_interval_secs = 1).await?;
    let document = include_str!("../../../shared/domain/frameworks/hcm-2023-district.toml")
        .replacen(
            "id = \"hcm-2023-district\"",
            &format!("id = \"{STORED}\""),
            1,
        )
        .replacen("year = 2023", "year = 2024", 1)
        .replacen(
            "name = \"Nhận thức số\"",
            "name = \"Nhận thức số (bộ 2024)\"",
            1,
        );
    assert!(
        document.contains("(bộ 2024)"),
        "the district set names group 1"
    );
    RegistryServiceClient::new(platform.submission_channel())
        .add_framework(with_auth(
            AddFrameworkRequest {
                document_toml: document,
                reason: "the 2024 set".to_owned(),
            },
            &platform.backends.token(Role::Operator),
        ))
        .await?;
    platform
        .published_round_of(
            2024,
            STORED,
            &[("quan-1", values(7, 4)), ("quan-3", values(9, 8))],
        )
        .await?;

    let path = format!("/2024/{STORED}");
    let page = eventually(
        "the site to show the stored framework's published ranking",
        Poll::new(Duration::from_secs(15), Duration::from_millis(200)),
        || {
            let platform = &platform;
            let path = path.clone();
            async move {
                let page = platform.get(&path).await;
                let text = page.text();
                Ok((text.contains("Quận 3") && text.contains("(bộ 2024)")).then_some(text))
            }
        },
    )
    .await?;
    assert!(page.contains("Quận 1"), "{page}");
    platform.stop().await
}
