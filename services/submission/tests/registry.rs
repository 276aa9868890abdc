//! The unit registry as operator data (`RegistryService`): the seed is revision 1, an
//! operator's import is the next revision (announced by `registry.changed.v1`) and is in force
//! at once — a unit added to it is in the next round opened, with no restart — and every bad
//! file, stale edit and caller without the right is refused, naming the entry, storing nothing.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_domain::units::{Unit, UnitType};
use dti_domain::{UnitId, UnitRegistry};
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{
    ExportRegistryRequest, ImportRegistryRequest, ImportRegistryResponse, RegistryDocument,
};
use dti_service_kit::status::field_violations;
use dti_testkit::with_auth;
use support::{round_ref, Stack, FRAMEWORK};
use tonic::transport::Channel;
use tonic::Code;

fn client(stack: &Stack) -> RegistryServiceClient<Channel> {
    RegistryServiceClient::new(stack.channel())
}

async fn export(stack: &Stack, token: &str) -> Result<RegistryDocument, tonic::Status> {
    Ok(client(stack)
        .export_registry(with_auth(ExportRegistryRequest {}, token))
        .await?
        .into_inner())
}

async fn import(
    stack: &Stack,
    token: &str,
    document: &str,
    expected_revision: Option<i64>,
) -> Result<ImportRegistryResponse, tonic::Status> {
    let request = ImportRegistryRequest {
        document_toml: document.to_owned(),
        expected_revision,
        reason: "test".to_owned(),
    };
    Ok(client(stack)
        .import_registry(with_auth(request, token))
        .await?
        .into_inner())
}

/// The seed with a district that exists from 2024.
fn with_new_district() -> anyhow::Result<String> {
    let seed = UnitRegistry::builtin()?;
    let added = seed.with_unit(Unit {
        id: UnitId::parse("huyen-moi")?,
        name: "Huyện Mới".to_owned(),
        kind: UnitType::District,
        active_from: Some(2024),
        active_until: None,
    })?;
    Ok(added.to_toml())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_revision_is_in_force_at_once_and_survives_a_restart() -> anyhow::Result<()> {
    let mut stack = Stack::start().await?;
    let operator = stack.operator_token();

    // The seed is revision 1, readable by any authenticated caller.
    let seed = export(&stack, &stack.unit_token("quan-1")).await?;
    assert_eq!(seed.revision, 1);
    assert_eq!(seed.changed_by, "seed");
    assert_eq!(
        UnitRegistry::parse("seed", &seed.document_toml)?.to_toml(),
        UnitRegistry::builtin()?.to_toml()
    );

    // The file in force imported again stores nothing (a safe retry).
    let again = import(&stack, &operator, &seed.document_toml, Some(1)).await?;
    assert!(!again.changed);
    assert_eq!(again.revision, 1);
    assert_eq!(stack.count("registry_revisions").await?, 1);

    // A new district from 2024: revision 2, announced once.
    let edited = with_new_district()?;
    let stored = import(&stack, &operator, &edited, Some(1)).await?;
    assert!(stored.changed);
    assert_eq!(stored.revision, 2);
    assert_eq!(stored.units, seed_units()? + 1);
    // The same request again (a retry after a lost answer, still naming revision 1) succeeds
    // and stores nothing.
    let retried = import(&stack, &operator, &edited, Some(1)).await?;
    assert!(!retried.changed, "the same file again stores nothing");
    assert_eq!(retried.revision, 2);
    stack.wait_outbox_drained().await?;
    assert_eq!(
        stack.published_ids("registry.changed.v1").await?,
        vec!["registry/2".to_owned()]
    );

    // A 2024 round opened now, without units, holds the new district.
    let round_2024 = round_ref(2024, FRAMEWORK);
    stack
        .api()
        .open_round(round_2024.clone(), &[], Duration::from_secs(3600))
        .await?;
    let round = stack.read_round(&round_2024, &operator).await?;
    assert!(round.unit_ids.iter().any(|unit| unit == "huyen-moi"));
    assert_eq!(round.unit_ids.len(), 23);
    let draft = stack.api().create_draft(round_2024, "huyen-moi").await?;
    assert_eq!(
        draft.unit.map(|unit| unit.unit_id).as_deref(),
        Some("huyen-moi")
    );

    // After a restart the stored revision is in force; the seed is not stored again.
    stack.restart().await?;
    let after = export(&stack, &operator).await?;
    assert_eq!(after.revision, 2);
    assert_eq!(after.document_toml, edited);
    assert_eq!(stack.count("registry_revisions").await?, 2);
    stack.close().await
}

fn seed_units() -> anyhow::Result<u32> {
    Ok(u32::try_from(UnitRegistry::builtin()?.units().count())?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_stale_edits_and_other_callers_are_refused_and_nothing_is_stored(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let operator = stack.operator_token();
    let seed = export(&stack, &operator).await?.document_toml;
    // A round that holds quan-1.
    stack
        .open_round(&["quan-1"], Duration::from_secs(3600))
        .await?;

    let without_quan_1 = {
        let registry = UnitRegistry::parse("seed", &seed)?;
        let mut text = registry.to_toml();
        let entry = "[[units]]\nid = \"quan-1\"\nname = \"Quận 1\"\nkind = \"district\"\n\n";
        assert!(text.contains(entry), "{text}");
        text = text.replace(entry, "");
        // quan-1 is also in the 2023 district cohort; drop it there too.
        text.replace("\"quan-1\",\n", "")
            .replace(", \"quan-1\"", "")
    };
    let cycle = format!(
        "{seed}\n[[lineage]]\nfrom = \"thu-duc\"\nto = \"quan-2\"\neffective_year = 2020\nchange = \"renamed\"\n"
    );
    let unknown_member = seed.replacen("\"quan-3\",", "\"quan-99\",", 1);
    let inactive_member = seed.replacen("\"quan-3\",", "\"quan-2\",", 1);
    // A 2024 round holds quan-4; ending quan-4 in 2023 would take it from that round.
    stack
        .api()
        .open_round(
            round_ref(2024, FRAMEWORK),
            &["quan-4"],
            Duration::from_secs(3600),
        )
        .await?;
    let quan_4_ended = {
        let registry = UnitRegistry::parse("seed", &seed)?;
        let quan_4 = registry
            .unit(&UnitId::parse("quan-4")?)
            .expect("quan-4")
            .clone();
        registry
            .with_unit(Unit {
                active_until: Some(2023),
                ..quan_4
            })?
            .to_toml()
    };
    let unknown_framework = format!(
        "{seed}\n[[cohorts]]\nyear = 2024\nframework = \"hcm-2099-district\"\nunits = [\"quan-1\"]\n"
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "not TOML",
            "schema = ".to_owned(),
            "not a valid registry file",
        ),
        ("empty", String::new(), "not a valid registry file"),
        (
            "unknown member",
            unknown_member,
            "unit quan-99 is not defined",
        ),
        (
            "inactive member",
            inactive_member,
            "unit quan-2 does not exist in 2023",
        ),
        ("lineage cycle", cycle, "form a cycle"),
        (
            "unknown framework",
            unknown_framework,
            "framework is not known",
        ),
        (
            "a round's unit ended before its year",
            quan_4_ended,
            "round 2024/hcm-2023-district holds unit quan-4",
        ),
        (
            "unit held by a round",
            without_quan_1,
            "unit quan-1 is held by round(s) 2023/hcm-2023-district",
        ),
    ];
    for (case, document, named) in cases {
        let status = import(&stack, &operator, &document, None)
            .await
            .expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let violations = field_violations(&status);
        assert!(
            violations
                .iter()
                .any(|v| v.field == "document_toml" && v.description.contains(named)),
            "{case}: {violations:?}"
        );
    }

    // An edit made from an older revision is refused once another is stored.
    let edited = with_new_district()?;
    let stale = import(&stack, &operator, &edited, Some(7))
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), Code::FailedPrecondition, "{stale:?}");
    assert!(stale.message().contains("revision 1"), "{stale:?}");

    // Only an operator imports; nobody without a token reads.
    for role in [Role::Verifier, Role::Approver, Role::PublicReader] {
        let denied = import(&stack, &stack.backends.token(role), &edited, None)
            .await
            .expect_err("not an operator");
        assert_eq!(
            denied.code(),
            Code::PermissionDenied,
            "{role:?}: {denied:?}"
        );
    }
    let unit = import(&stack, &stack.unit_token("quan-1"), &edited, None)
        .await
        .expect_err("a unit");
    assert_eq!(unit.code(), Code::PermissionDenied, "{unit:?}");
    let anonymous = client(&stack)
        .export_registry(tonic::Request::new(ExportRegistryRequest {}))
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    assert_eq!(stack.count("registry_revisions").await?, 1);
    assert_eq!(export(&stack, &operator).await?.revision, 1);
    stack.close().await
}
