//! `dtictl sync report` as an operator meets it: bad input exits 2 with a message; on a real
//! database it prints, per item, the owner, local value, last pushed value and outcome.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use dti_auth::{Principal, Role};
use dti_domain::UnitId;
use dti_national_receiver::{Faults, Receiver, ReceiverSettings};
use dti_national_sync::dispatch::{Dispatcher, RetryPolicy};
use dti_national_sync::events::EventSubjects;
use dti_national_sync::national_api::{HttpNationalApi, HttpSettings};
use dti_national_sync::national_set::{ItemKey, NationalSet};
use dti_national_sync::owner_values::{self, RequestedPart, RequestedValue};
use dti_national_sync::sync_runs::{self, SyncContext, Trigger};
use serde_json::json;

fn dtictl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dtictl"))
        .args(args)
        .env_remove("DTI_DATABASE_URL")
        .env("DTI_LANG", "en")
        .output()
        .expect("dtictl runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_years_and_urls_exit_2_with_a_message() {
    let url = "postgres://postgres@127.0.0.1:5432/unused";
    for (args, expected) in [
        (
            vec!["sync", "report", "--year", "twenty", "--database-url", url],
            "--year",
        ),
        (
            vec!["sync", "report", "--year", "2019", "--database-url", url],
            "applies from 2022",
        ),
        (
            vec!["sync", "report", "--year", "1800", "--database-url", url],
            "--year",
        ),
        (
            vec![
                "sync",
                "report",
                "--year",
                "2024",
                "--database-url",
                "mysql://x",
            ],
            "--database-url",
        ),
        (vec!["sync", "report", "--year", "2024"], "--database-url"),
        (
            vec![
                "sync",
                "report",
                "--year",
                "2024",
                "--framework",
                "hcm-2023-district",
                "--database-url",
                url,
            ],
            "framework",
        ),
    ] {
        let output = dtictl(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}

#[tokio::test]
async fn the_report_shows_local_and_pushed_values_and_the_national_answer() -> anyhow::Result<()> {
    let db = dti_testkit::TestDatabase::create().await?;
    let pool = db.pool().clone();
    let set = Arc::new(NationalSet::builtin("mic-2022-province")?);
    let subjects = EventSubjects::new("t_report");
    let owner = Principal::data_owner("owner", "cuc-thong-ke");
    let parts = vec![
        RequestedPart {
            item: ItemKey::general_info("population"),
            field: "general_info[0]".into(),
            value: RequestedValue::Field(json!(9_389_720)),
            evidence: vec![],
        },
        RequestedPart {
            item: ItemKey::general_info("households"),
            field: "general_info[1]".into(),
            value: RequestedValue::Field(json!(2_500_000)),
            evidence: vec![],
        },
    ];
    owner_values::submit(
        &pool,
        &set,
        &subjects,
        &owner,
        &UnitId::parse("cuc-thong-ke")?,
        2024,
        parts,
    )
    .await?;

    let mut faults = Faults::default();
    faults
        .reject
        .insert("households".into(), "differs from the census".into());
    let receiver = Receiver::bind(
        "127.0.0.1:0".parse()?,
        None,
        ReceiverSettings {
            faults,
            ..ReceiverSettings::default()
        },
    )
    .await?;
    let url = receiver.base_url()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(receiver.serve(async move {
        let _ = stopped.await;
    }));
    let operator = Principal::city("op", Role::Operator);
    let context = SyncContext {
        set: &set,
        subjects: &subjects,
        province: "79",
    };
    let year = set.year(2024).map_err(anyhow::Error::msg)?;
    let run = sync_runs::start(&pool, context, &operator, year, Trigger::Operator, None).await?;
    assert_eq!(run.items, 2);
    let api = HttpNationalApi::new(&HttpSettings {
        endpoint: url,
        ca_file: None,
        api_token: None,
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let policy = RetryPolicy {
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retries: 2,
        requeue_delay: Duration::from_millis(100),
        max_requeue_delay: Duration::from_millis(200),
        lease: Duration::from_secs(30),
    };
    let dispatcher = Dispatcher::new(
        pool.clone(),
        set.clone(),
        subjects,
        Arc::new(api),
        policy,
        Duration::from_millis(100),
    );
    while dispatcher.push_next().await? {}
    let _ = stop.send(());
    serving.await??;

    let output = tokio::task::spawn_blocking({
        let url = db.url().to_owned();
        move || dtictl(&["sync", "report", "--year", "2024", "--database-url", &url])
    })
    .await?;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = String::from_utf8(output.stdout)?;
    let line = |needle: &str| {
        table
            .lines()
            .find(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no line for {needle} in:\n{table}"))
            .to_owned()
    };
    let population = line("general information population ");
    assert!(population.contains("owner cuc-thong-ke"), "{population}");
    assert!(population.contains("local v1 9389720"), "{population}");
    assert!(
        population.contains("pushed v1 9389720 accepted (receipt NAT-2024-"),
        "{population}"
    );
    let households = line("general information households ");
    assert!(
        households.contains("rejected: differs from the census"),
        "{households}"
    );
    assert!(households.contains("[disputed]"), "{households}");
    let tax = line("indicator 6.22 ");
    assert!(
        tax.contains("missing from so-tai-chinh, so-ke-hoach-dau-tu, so-tttt"),
        "{tax}"
    );
    assert!(tax.contains("never pushed"), "{tax}");

    let json_output = tokio::task::spawn_blocking({
        let url = db.url().to_owned();
        move || {
            dtictl(&[
                "sync",
                "report",
                "--year",
                "2024",
                "--format",
                "json",
                "--database-url",
                &url,
            ])
        }
    })
    .await?;
    assert_eq!(
        json_output.status.code(),
        Some(0),
        "{}",
        stderr(&json_output)
    );
    let report: serde_json::Value = serde_json::from_slice(&json_output.stdout)?;
    let items = report["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), set.items().len());
    let households = items
        .iter()
        .find(|i| i["code"] == "households")
        .cloned()
        .unwrap_or_default();
    assert_eq!(households["last_pushed"]["outcome"], "rejected");
    assert_eq!(
        households["last_pushed"]["detail"],
        "differs from the census"
    );
    pool.close().await;
    db.close().await?;
    Ok(())
}
