//! Frameworks as operator data (`RegistryService.AddFramework`, `ListFrameworks`): a stored
//! framework is announced once by `framework.added.v1`, a round opened with it pins its content
//! hash, and every bad file, changed content under a known id and caller without the right is
//! refused, naming the problem, storing nothing.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{
    AddFrameworkRequest, AddFrameworkResponse, FrameworkOrigin, KnownFramework,
    ListFrameworksRequest,
};
use dti_service_kit::status::field_violations;
use dti_testkit::with_auth;
use support::{round_ref, Stack};
use tonic::transport::Channel;
use tonic::Code;

const BUILT_IN: &str = include_str!("../../../shared/domain/frameworks/hcm-2023-district.toml");

fn client(stack: &Stack) -> RegistryServiceClient<Channel> {
    RegistryServiceClient::new(stack.channel())
}

async fn add(
    stack: &Stack,
    token: &str,
    document: &str,
) -> Result<AddFrameworkResponse, tonic::Status> {
    let request = AddFrameworkRequest {
        document_toml: document.to_owned(),
        reason: "test".to_owned(),
    };
    Ok(client(stack)
        .add_framework(with_auth(request, token))
        .await?
        .into_inner())
}

async fn known(stack: &Stack, token: &str, id: &str) -> anyhow::Result<Option<KnownFramework>> {
    let list = client(stack)
        .list_frameworks(with_auth(
            ListFrameworksRequest {
                include_documents: true,
            },
            token,
        ))
        .await?
        .into_inner();
    Ok(list.frameworks.into_iter().find(|f| f.framework_id == id))
}

/// The built-in district set under another id and year.
fn issued_again(id: &str, year: u16) -> String {
    BUILT_IN
        .replacen("id = \"hcm-2023-district\"", &format!("id = \"{id}\""), 1)
        .replacen("year = 2023", &format!("year = {year}"), 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_framework_is_announced_once_and_pinned_by_the_round_opened_with_it(
) -> anyhow::Result<()> {
    let mut stack = Stack::start().await?;
    let operator = stack.operator_token();
    let document = issued_again("hcm-2024-district", 2024);

    let stored = add(&stack, &operator, &document).await?;
    assert!(stored.changed);
    assert_eq!(stored.framework_id, "hcm-2024-district");
    assert_eq!(stored.content_hash.len(), 64);
    // The same framework again, even laid out otherwise, stores nothing (a safe retry).
    let relaid = document.replace("\n\n", "\n\n# a comment\n\n");
    let again = add(&stack, &operator, &relaid).await?;
    assert!(!again.changed);
    assert_eq!(again.content_hash, stored.content_hash);
    assert_eq!(stack.count("stored_frameworks").await?, 1);
    stack.wait_outbox_drained().await?;
    assert_eq!(
        stack.published_ids("framework.added.v1").await?,
        vec!["framework/hcm-2024-district".to_owned()]
    );

    // A round opened with it pins its content hash; any authenticated caller lists it.
    let round_2024 = round_ref(2024, "hcm-2024-district");
    stack
        .api()
        .open_round(round_2024.clone(), &["quan-1"], Duration::from_secs(3600))
        .await?;
    let round = stack.read_round(&round_2024, &operator).await?;
    assert_eq!(round.framework_hash, stored.content_hash);
    let listed = known(&stack, &stack.unit_token("quan-1"), "hcm-2024-district")
        .await?
        .expect("listed");
    assert_eq!(listed.origin(), FrameworkOrigin::Stored);
    assert_eq!(listed.content_hash, stored.content_hash);
    assert_eq!(listed.pinned_by_rounds, vec!["2024/hcm-2024-district"]);
    assert_eq!(listed.document_toml, document);
    assert_eq!(listed.added_by, "test-operator");
    let built_in = known(&stack, &operator, "hcm-2023-district")
        .await?
        .expect("built in");
    assert_eq!(built_in.origin(), FrameworkOrigin::BuiltIn);
    assert!(built_in.document_toml.is_empty());

    // After a restart the stored framework is loaded again: a unit of the round drafts in it.
    stack.restart().await?;
    let draft = stack.api().create_draft(round_2024, "quan-1").await?;
    assert_eq!(
        draft.unit.map(|unit| unit.unit_id).as_deref(),
        Some("quan-1")
    );
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_changed_content_and_other_callers_are_refused_and_nothing_is_stored(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let operator = stack.operator_token();
    let valid = issued_again("hcm-2024-district", 2024);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "not TOML",
            "schema = ".to_owned(),
            "not a valid framework file",
        ),
        ("empty", String::new(), "not a valid framework file"),
        (
            "group sum",
            valid.replacen("points = 10\n", "points = 11\n", 1),
            "add up to",
        ),
        (
            "duplicate code",
            valid.replacen("code = \"1.3\"\ngroup", "code = \"1.2\"\ngroup", 1),
            "indicator code is used twice",
        ),
        (
            "rule input",
            valid.replacen("numerator = [\"a\"]", "numerator = [\"z\"]", 1),
            "rule uses variable z, which is not declared",
        ),
    ];
    for (case, document, named) in cases {
        let status = add(&stack, &operator, &document).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let violations = field_violations(&status);
        assert!(
            violations
                .iter()
                .any(|v| v.field == "document_toml" && v.description.contains(named)),
            "{case}: {violations:?}"
        );
    }

    // Other content under a built-in id is refused, naming it.
    let changed = BUILT_IN
        .replacen("points = 10\n", "points = 15\n", 1)
        .replacen("points = 10\n", "points = 5\n", 1);
    let status = add(&stack, &operator, &changed)
        .await
        .expect_err("other content under a built-in id");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("hcm-2023-district"), "{status:?}");

    // Only an operator stores; nobody without a token lists.
    for role in [Role::Verifier, Role::Approver, Role::PublicReader] {
        let denied = add(&stack, &stack.backends.token(role), &valid)
            .await
            .expect_err("not an operator");
        assert_eq!(
            denied.code(),
            Code::PermissionDenied,
            "{role:?}: {denied:?}"
        );
    }
    let unit = add(&stack, &stack.unit_token("quan-1"), &valid)
        .await
        .expect_err("a unit");
    assert_eq!(unit.code(), Code::PermissionDenied, "{unit:?}");
    let anonymous = client(&stack)
        .list_frameworks(tonic::Request::new(ListFrameworksRequest::default()))
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    assert_eq!(stack.count("stored_frameworks").await?, 0);
    assert!(known(&stack, &operator, "hcm-2024-district")
        .await?
        .is_none());
    stack.close().await
}
