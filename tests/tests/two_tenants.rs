//! Two tenants (provinces) side by side on one machine: two stacks of the local scripts, each
//! with `DTI_LOCAL_TENANT` (its own database, NATS prefix, Redis keys and tenant claim), run
//! their whole 2023 year at the same time (`deploy/run.sh` twice in parallel), and each one's
//! own checks hold: published scores and served ranks equal the engine, the audit chains hold,
//! the national receiver accepted each owner item once.
//!
//! Then isolation, on every API: every gRPC method of every service (all of the descriptor set,
//! as the gateway lists them), called on one tenant's services with an operator's token of the
//! other tenant, is refused `Unauthenticated` naming both tenants, and changes nothing stored;
//! the same method with the tenant's own token gets past authentication. Every route of the
//! HTTP/JSON gateway answers 401 to the other tenant's token. Each database names its tenant,
//! and a service of one tenant refuses to start on the other's database.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::thread;

use anyhow::{bail, Context};
use dti_auth::{Principal, Role, TokenMinter};
use dti_gateway::catalog::Catalog;
use dti_gateway::codec::{DynamicCodec, Outbound};
use dti_gateway::config::Backends;
use dti_tests::{text, IsolatedStack, SERVICE_PORTS};
use prost_reflect::DynamicMessage;
use tonic::metadata::MetadataValue;
use tonic::Code;

const TENANTS: [&str; 2] = ["hcm", "hn"];

/// Tables whose rows every kind of change adds to: the same counts before and after the other
/// tenant's calls mean nothing was stored.
const WRITTEN_TABLES: &[&str] = &[
    "rounds",
    "submissions",
    "submission_versions",
    "audit_log",
    "outbox_messages",
    "verification_decision_history",
    "publications",
    "evidence_objects",
    "stored_frameworks",
    "registry_revisions",
];

#[test]
fn two_tenants_run_their_years_side_by_side_and_neither_reaches_the_other() -> anyhow::Result<()> {
    let stacks = TENANTS.map(IsolatedStack::for_tenant);
    let [hcm, hn] = match stacks {
        [Ok(hcm), Ok(hn)] => [hcm, hn],
        [Err(error), _] | [_, Err(error)] => return Err(error),
    };
    // A failed assertion stops both stacks as well: `IsolatedStack` stops itself when dropped.
    let result = run_and_check(&hcm, &hn);
    let stopped = [hcm.stop(), hn.stop()];
    result?;
    stopped.into_iter().collect()
}

fn run_and_check(hcm: &IsolatedStack, hn: &IsolatedStack) -> anyhow::Result<()> {
    let [hcm_run, hn_run] = thread::scope(|scope| {
        [hcm, hn]
            .map(|stack| {
                scope.spawn(move || {
                    stack.script_with("deploy/run.sh", &["--keep"], &[("DTI_LANG", "en")])
                })
            })
            .map(|running| running.join().expect("the run's thread"))
    });
    for (stack, run) in [(hcm, hcm_run?), (hn, hn_run?)] {
        let tenant = stack.tenant.as_deref().unwrap_or_default();
        dti_tests::check_year_run(&run).with_context(|| {
            format!(
                "tenant {tenant}; errors its services logged:\n{}",
                logged_errors(stack)
            )
        })?;
        let stderr = text(&run.stderr);
        assert!(
            stderr.contains(&format!("of tenant {tenant}")),
            "the stack served tenant {tenant}:\n{stderr}"
        );
        stack.check_national_receiver("2023")?;
        let owner = stack.psql("SELECT tenant FROM platform_tenant")?;
        assert_eq!(
            text(&owner.stdout).trim(),
            tenant,
            "the database names its tenant"
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        refused_on_every_method(hcm, hn).await?;
        refused_on_every_method(hn, hcm).await?;
        refused_on_every_gateway_route(hcm, hn).await?;
        refused_on_every_gateway_route(hn, hcm).await
    })?;
    a_service_refuses_the_other_tenants_database(hcm, hn)
}

/// The last lines at level ERROR of each service log of `stack`.
fn logged_errors(stack: &IsolatedStack) -> String {
    let mut errors = String::new();
    let logs = std::fs::read_dir(stack.run_dir.path())
        .into_iter()
        .flatten()
        .flatten();
    for log in logs.filter(|entry| entry.path().extension().is_some_and(|e| e == "log")) {
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|line| line.contains("ERROR")).collect();
        for line in &lines[lines.len().saturating_sub(5)..] {
            errors.push_str(&format!("{}: {line}\n", log.file_name().to_string_lossy()));
        }
    }
    errors
}

/// `Bearer` token of an operator of `stack`'s tenant, signed with `signer`'s development secret
/// (so only the tenant claim can tell the tenants apart where the secrets are the same).
fn operator_token(stack: &IsolatedStack, signer: &IsolatedStack) -> anyhow::Result<String> {
    let secret = std::fs::read_to_string(signer.run_dir.path().join("hs256-secret"))?;
    let token = TokenMinter::hs256(secret.trim().as_bytes(), "dti-platform", "dti")
        .for_tenant(stack.tenant.as_deref())
        .mint(
            &Principal::city("tenant-test", Role::Operator),
            std::time::Duration::from_secs(600),
        )?;
    Ok(format!("Bearer {token}"))
}

/// The gateway's backend settings pointing at `stack`'s services.
fn backends_of(stack: &IsolatedStack) -> Backends {
    let url = |variable: &str| format!("http://127.0.0.1:{}", stack.port(variable));
    let ports: BTreeMap<&str, &str> = SERVICE_PORTS.into_iter().collect();
    Backends {
        submission: url(ports["SUBMISSION"]),
        evidence: url(ports["EVIDENCE"]),
        scoring: url(ports["SCORING"]),
        ranking: url(ports["RANKING"]),
        verification: url(ports["VERIFICATION"]),
        national_sync: url(ports["NATIONAL_SYNC"]),
    }
}

/// The status a call of `rpc` with an empty request and `bearer` ends in (OK when it answered).
async fn call(rpc: &dti_gateway::catalog::Rpc, bearer: &str) -> anyhow::Result<tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(rpc.channel.clone());
    grpc.ready().await.context("the service is ready")?;
    let empty = DynamicMessage::new(rpc.method.input());
    let mut request = tonic::Request::new(futures::stream::iter([Outbound::Message(empty)]));
    request
        .metadata_mut()
        .insert("authorization", MetadataValue::try_from(bearer)?);
    let codec = DynamicCodec::new(rpc.method.output());
    let answer = grpc.streaming(request, rpc.grpc_path.clone(), codec).await;
    Ok(match answer {
        Err(status) => status,
        Ok(response) => match response.into_inner().message().await {
            Err(status) => status,
            Ok(_) => tonic::Status::ok(""),
        },
    })
}

/// Rows of the tables every change writes to, in `stack`'s database.
fn stored_rows(stack: &IsolatedStack) -> anyhow::Result<String> {
    let counts: Vec<String> = WRITTEN_TABLES
        .iter()
        .map(|table| format!("(SELECT count(*) FROM {table})"))
        .collect();
    let out = stack.psql(&format!("SELECT {}", counts.join(", ")))?;
    if !out.status.success() {
        bail!("psql: {}", text(&out.stderr));
    }
    Ok(text(&out.stdout).trim().to_owned())
}

/// Every method of every service of `stack` refuses an operator token of `other`'s tenant, and
/// changes nothing; with a token of its own tenant each gets past authentication.
async fn refused_on_every_method(
    stack: &IsolatedStack,
    other: &IsolatedStack,
) -> anyhow::Result<()> {
    let tenant = stack.tenant.as_deref().unwrap_or_default();
    let foreign = other.tenant.as_deref().unwrap_or_default();
    let catalog = Catalog::load(&backends_of(stack), None)?;
    let foreign_token = operator_token(other, stack)?;
    let own_token = operator_token(stack, stack)?;
    let before = stored_rows(stack)?;
    let mut methods = 0;
    for rpc in catalog.rpcs() {
        let status = call(rpc, &foreign_token).await?;
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{} on tenant {tenant} with a token of {foreign}: {status:?}",
            rpc.name()
        );
        assert!(
            status.message().contains(&format!("`{foreign}`"))
                && status.message().contains(&format!("`{tenant}`")),
            "{}: the refusal names both tenants: {}",
            rpc.name(),
            status.message()
        );
        methods += 1;
    }
    let pool = dti_gateway::catalog::descriptor_pool()?;
    let declared: usize = dti_gateway::catalog::public_services(&pool)
        .iter()
        .map(|service| service.methods().len())
        .sum();
    assert_eq!(
        methods, declared,
        "every method of the descriptor set was called"
    );
    assert_eq!(
        stored_rows(stack)?,
        before,
        "the other tenant's calls stored nothing on tenant {tenant}"
    );
    for rpc in catalog.rpcs() {
        let status = call(rpc, &own_token).await?;
        assert_ne!(
            status.code(),
            Code::Unauthenticated,
            "{} on tenant {tenant} with its own token: {status:?}",
            rpc.name()
        );
    }
    println!("tenant {tenant}: {methods} methods refuse a token of {foreign}");
    Ok(())
}

const BOUNDARY: &str = "tenant-test-boundary";

/// A well-formed evidence upload: its header (empty) and a one-line PDF.
fn upload_body() -> String {
    let part = |disposition: &str, content_type: &str, content: &str| {
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\
             Content-Type: {content_type}\r\n\r\n{content}\r\n"
        )
    };
    format!(
        "{}{}--{BOUNDARY}--\r\n",
        part("name=\"header\"", "application/json", "{}"),
        part(
            "name=\"file\"; filename=\"evidence.pdf\"",
            "application/pdf",
            "%PDF-1.4"
        )
    )
}

/// Every route of `stack`'s HTTP/JSON gateway answers 401 to `other`'s token.
async fn refused_on_every_gateway_route(
    stack: &IsolatedStack,
    other: &IsolatedStack,
) -> anyhow::Result<()> {
    let catalog = Catalog::load(&backends_of(stack), None)?;
    let token = operator_token(other, stack)?;
    let gateway = stack.port("DTI_LOCAL_GATEWAY_PORT");
    // reqwest is built without a default TLS provider (plain HTTP here, but it asks for one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut routes = 0;
    for rpc in catalog.rpcs() {
        // A client-streaming upload is served as multipart at its own route.
        let (url, content_type, body) = if rpc.method.is_client_streaming() {
            (
                format!("http://127.0.0.1:{gateway}/v1/evidence/upload"),
                format!("multipart/form-data; boundary={BOUNDARY}"),
                upload_body(),
            )
        } else {
            (
                format!("http://127.0.0.1:{gateway}/v1/{}", rpc.name()),
                "application/json".to_owned(),
                "{}".to_owned(),
            )
        };
        let response = client
            .post(&url)
            .header("authorization", &token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 401, "POST {url}");
        routes += 1;
    }
    println!(
        "the gateway of {:?}: {routes} routes refuse the other tenant",
        stack.tenant
    );
    Ok(())
}

/// A submission service of `stack`'s tenant started on `other`'s database exits at once,
/// naming the database's tenant.
fn a_service_refuses_the_other_tenants_database(
    stack: &IsolatedStack,
    other: &IsolatedStack,
) -> anyhow::Result<()> {
    let tenant = stack.tenant.as_deref().unwrap_or_default();
    let foreign = other.tenant.as_deref().unwrap_or_default();
    let nats_prefix = format!("{}_{tenant}", stack.database);
    let started = Command::new(stack.bin.join("dti-submission"))
        .env("DTI_SUBMISSION_DATABASE_URL", other.database_url())
        .env("DTI_SUBMISSION_NATS_PREFIX", &nats_prefix)
        .env("DTI_SUBMISSION_AUTH_TENANT", tenant)
        .env("DTI_SUBMISSION_AUTH_HS256_SECRET", "x".repeat(32))
        .env("DTI_SUBMISSION_GRPC_LISTEN_ADDR", "127.0.0.1:0")
        .env("DTI_SUBMISSION_METRICS_LISTEN_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null())
        .output()?;
    let stderr = text(&started.stderr);
    assert!(!started.status.success(), "it refused to start: {stderr}");
    assert!(
        stderr.contains(&format!("belongs to tenant `{foreign}`")),
        "the refusal names the database's tenant: {stderr}"
    );
    Ok(())
}
