//! The roles, tokens and bad input of every sync RPC: missing, expired, forged and
//! wrong-audience tokens are Unauthenticated, roles that may not call an RPC are
//! PermissionDenied, and bad input names its field — and nothing is started.

mod support;

use dti_auth::{Principal, Role, Scope};
use dti_national_sync::Settings;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_testkit::refusals::assert_names_field;
use dti_testkit::{tokens, with_auth, TestBackends};
use support::{clients, start_service, Clients, YEAR};
use tonic::Code;

/// The sync RPCs, each with a valid request (some need data to exist to succeed, but the
/// authentication and role checks come first).
#[derive(Debug, Clone, Copy)]
enum Rpc {
    Completeness,
    Dispute,
    Plan,
    Start,
    GetRun,
    PushLog,
}

impl Rpc {
    const ALL: [Rpc; 6] = [
        Rpc::Completeness,
        Rpc::Dispute,
        Rpc::Plan,
        Rpc::Start,
        Rpc::GetRun,
        Rpc::PushLog,
    ];

    /// Roles that may not call it.
    fn forbidden(self) -> &'static [Role] {
        match self {
            Rpc::Completeness | Rpc::PushLog => &[Role::UnitSubmitter, Role::Approver],
            Rpc::Dispute => &[
                Role::UnitSubmitter,
                Role::Approver,
                Role::NationalSync,
                Role::DataOwner,
            ],
            Rpc::Plan | Rpc::Start => &[
                Role::UnitSubmitter,
                Role::Approver,
                Role::Verifier,
                Role::DataOwner,
            ],
            Rpc::GetRun => &[Role::UnitSubmitter, Role::Approver, Role::DataOwner],
        }
    }

    async fn call(self, c: &mut Clients, bearer: Option<&str>) -> Result<(), tonic::Status> {
        fn request<T>(message: T, bearer: Option<&str>) -> tonic::Request<T> {
            match bearer {
                Some(bearer) => with_auth(message, bearer),
                None => tonic::Request::new(message),
            }
        }
        let item = Some(pb::ItemRef {
            kind: pb::ItemKind::Indicator.into(),
            code: "1.1".into(),
        });
        match self {
            Rpc::Completeness => c
                .sync
                .get_completeness(request(
                    pb::GetCompletenessRequest {
                        year: YEAR,
                        department_id: String::new(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::Dispute => c
                .sync
                .dispute_value(request(
                    pb::DisputeValueRequest {
                        year: YEAR,
                        item,
                        department_id: "so-tttt".into(),
                        reason: "why".into(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::Plan => c
                .sync
                .plan_sync(request(pb::PlanSyncRequest { year: YEAR }, bearer))
                .await
                .map(drop),
            Rpc::Start => c
                .sync
                .start_sync(request(
                    pb::StartSyncRequest {
                        year: YEAR,
                        plan_digest: "abc".into(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::GetRun => c
                .sync
                .get_sync_run(request(
                    pb::GetSyncRunRequest {
                        run_id: uuid::Uuid::nil().to_string(),
                    },
                    bearer,
                ))
                .await
                .map(drop),
            Rpc::PushLog => c
                .sync
                .list_push_log(request(
                    pb::ListPushLogRequest {
                        year: YEAR,
                        ..Default::default()
                    },
                    bearer,
                ))
                .await
                .map(drop),
        }
    }
}

fn principal_of(role: Role) -> Principal {
    let scope = match role {
        Role::DataOwner => Scope::Department {
            department_id: "so-tttt".into(),
        },
        Role::UnitSubmitter => Scope::Unit {
            unit_id: "quan-1".into(),
        },
        _ => Scope::City,
    };
    Principal {
        subject: format!("t-{role}"),
        role,
        scope,
    }
}

#[tokio::test]
async fn sync_rpcs_refuse_bad_tokens_wrong_roles_and_bad_input() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    // No national endpoint: StartSync cannot push.
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let operator = principal_of(Role::Operator);
    let expired = tokens::expired_bearer(&operator);
    let forged = tokens::forged_bearer(&operator);
    let wrong_audience = tokens::wrong_audience_bearer(&operator);
    for rpc in Rpc::ALL {
        for bearer in [
            None,
            Some(expired.as_str()),
            Some(forged.as_str()),
            Some(wrong_audience.as_str()),
        ] {
            let status = rpc.call(&mut c, bearer).await.unwrap_err();
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{rpc:?} with {bearer:?}"
            );
        }
        for role in rpc.forbidden() {
            let bearer = backends.bearer(&principal_of(*role));
            let status = rpc.call(&mut c, Some(&bearer)).await.unwrap_err();
            assert_eq!(
                status.code(),
                Code::PermissionDenied,
                "{rpc:?} as {role}: {}",
                status.message()
            );
        }
    }
    // A data owner reading another department's completeness or push log.
    let owner = backends.department_token("so-noi-vu");
    let other = |department: &str| pb::GetCompletenessRequest {
        year: YEAR,
        department_id: department.into(),
    };
    let status = c
        .sync
        .get_completeness(with_auth(other("so-tttt"), &owner))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = c
        .sync
        .list_push_log(with_auth(
            pb::ListPushLogRequest {
                year: YEAR,
                department_id: "so-tttt".into(),
                ..Default::default()
            },
            &owner,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Bad input, each naming its field.
    let operator = backends.token(Role::Operator);
    let invalid = |status: tonic::Status, field: &str| assert_names_field(&status, field, field);
    invalid(
        c.sync
            .get_completeness(with_auth(
                pb::GetCompletenessRequest {
                    year: 2021,
                    department_id: String::new(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "year",
    );
    invalid(
        c.sync
            .get_completeness(with_auth(other("so-y-te"), &operator))
            .await
            .unwrap_err(),
        "department_id",
    );
    invalid(
        c.sync
            .plan_sync(with_auth(pb::PlanSyncRequest { year: 0 }, &operator))
            .await
            .unwrap_err(),
        "year",
    );
    invalid(
        c.sync
            .start_sync(with_auth(
                pb::StartSyncRequest {
                    year: YEAR,
                    plan_digest: " ".into(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "plan_digest",
    );
    invalid(
        c.sync
            .start_sync(with_auth(
                pb::StartSyncRequest {
                    year: 2500,
                    plan_digest: "x".into(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "year",
    );
    invalid(
        c.sync
            .get_sync_run(with_auth(
                pb::GetSyncRunRequest {
                    run_id: "run-1".into(),
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "run_id",
    );
    invalid(
        c.sync
            .list_push_log(with_auth(
                pb::ListPushLogRequest {
                    year: YEAR,
                    limit: 10_000,
                    ..Default::default()
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "limit",
    );
    invalid(
        c.sync
            .list_push_log(with_auth(
                pb::ListPushLogRequest {
                    year: YEAR,
                    run_id: "x".into(),
                    ..Default::default()
                },
                &operator,
            ))
            .await
            .unwrap_err(),
        "run_id",
    );
    let dispute =
        |item: Option<pb::ItemRef>, department: &str, reason: &str| pb::DisputeValueRequest {
            year: YEAR,
            item,
            department_id: department.into(),
            reason: reason.into(),
        };
    let indicator = |code: &str| {
        Some(pb::ItemRef {
            kind: pb::ItemKind::Indicator.into(),
            code: code.into(),
        })
    };
    let bad_disputes = [
        (dispute(None, "so-tttt", "why"), "item"),
        (
            dispute(
                Some(pb::ItemRef {
                    kind: 0,
                    code: "1.1".into(),
                }),
                "so-tttt",
                "why",
            ),
            "item.kind",
        ),
        (dispute(indicator("99.1"), "so-tttt", "why"), "item.code"),
        (
            dispute(indicator("1.1"), "so-noi-vu", "why"),
            "department_id",
        ),
        (dispute(indicator("1.1"), "so-tttt", " "), "reason"),
    ];
    for (request, field) in bad_disputes {
        invalid(
            c.sync
                .dispute_value(with_auth(request, &operator))
                .await
                .unwrap_err(),
            field,
        );
    }

    // Valid requests about things that do not exist, and a push with no endpoint.
    let status = c
        .sync
        .dispute_value(with_auth(
            dispute(indicator("1.1"), "so-tttt", "why"),
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "nothing supplied yet");
    let status = Rpc::GetRun.call(&mut c, Some(&operator)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let plan = c.dry_run(YEAR, &operator).await?;
    let status = c
        .sync
        .start_sync(with_auth(
            pb::StartSyncRequest {
                year: YEAR,
                plan_digest: plan.plan_digest,
            },
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM national_sync_runs")
        .fetch_one(backends.db.pool())
        .await?;
    assert_eq!(runs, 0, "nothing was started");

    running.stop().await?;
    backends.close().await?;
    Ok(())
}
