//! Two replicas of every service on one machine, as two pods of each Deployment: the local
//! stack started with `DTI_LOCAL_REPLICAS=2` runs each of the six services, the gateway and
//! the results site twice (different ports, one database, the same durable NATS consumers and
//! Redis keys), and the README's main command runs a whole 2023 year through them, the district
//! round through the first replicas and the department round through the second.
//!
//! What must hold is what holds with one replica, and nothing more than once:
//! - the script's own checks pass: every published score and served rank equals the engine on
//!   the verified inputs, both rounds' results site agrees, every audit chain holds;
//! - the national receiver accepted each item of the owners' file exactly once;
//! - each durable consumer applied each event once: the events the replicas of a service
//!   report as applied (`dti_bus_events_consumed_total{outcome="processed"}`) add up to that
//!   consumer's inbox rows, and no event was given up (no dead letter);
//! - the work was shared: both replicas applied events, and both served requests.

use std::collections::BTreeMap;

use dti_tests::{text, IsolatedStack, SERVICE_PORTS};

const YEAR: &str = "2023";
const REPLICAS: u16 = 2;

/// The counters `dti_bus_events_consumed_total` of one scrape: (consumer, outcome) → count.
fn consumed(metrics: &str) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for line in metrics
        .lines()
        .filter(|line| line.starts_with("dti_bus_events_consumed_total{"))
    {
        let label = |name: &str| {
            line.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_owned()
        };
        let value = line
            .rsplit(' ')
            .next()
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or_default();
        // Counters are whole numbers far below 2^53.
        *counts
            .entry((label("consumer"), label("outcome")))
            .or_default() += value as u64;
    }
    counts
}

/// Requests a scrape reports as served (`dti_grpc_server_requests_total`), health checks
/// left out.
fn requests_served(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with("dti_grpc_server_requests_total{"))
        .filter(|line| !line.contains("grpc.health"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Inbox rows per durable consumer: the events each consumer applied, once each.
fn inbox_rows(stack: &IsolatedStack) -> anyhow::Result<BTreeMap<String, u64>> {
    let out = stack.psql("SELECT consumer, count(*) FROM inbox_messages GROUP BY consumer")?;
    anyhow::ensure!(out.status.success(), "psql: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|line| {
            let (consumer, count) = line
                .split_once(' ')
                .ok_or_else(|| anyhow::anyhow!("psql printed {line:?}"))?;
            Ok((consumer.to_owned(), count.parse()?))
        })
        .collect()
}

#[test]
fn two_replicas_of_every_service_run_a_whole_year_doing_each_thing_once() -> anyhow::Result<()> {
    let stack = IsolatedStack::with_replicas(REPLICAS)?;
    let run = stack.script_with("deploy/run.sh", &["--keep"], &[("DTI_LANG", "en")])?;
    let result = check(&stack, &run);
    let stopped = stack.stop();
    result?;
    stopped
}

fn check(stack: &IsolatedStack, run: &std::process::Output) -> anyhow::Result<()> {
    dti_tests::check_year_run(run)?;
    let stdout = text(&run.stdout);
    let stderr = text(&run.stderr);
    for (service, _) in SERVICE_PORTS {
        let name = service.to_lowercase().replace('_', "-");
        assert!(
            stderr.contains(&format!("starting {name}-2 on")),
            "a second {name} was started:\n{stderr}"
        );
    }
    for replica in 1..=REPLICAS {
        assert!(
            stdout.contains(&format!("(through replica {replica} of every service)")),
            "part of the year went through replica {replica}:\n{stdout}"
        );
    }
    stack.check_national_receiver(YEAR)?;

    // Each replica's counters.
    let mut applied_by_replica = BTreeMap::<u16, u64>::new();
    let mut served_by_replica = BTreeMap::<u16, u64>::new();
    let mut applied = BTreeMap::<String, u64>::new();
    let front_ends = [
        ("GATEWAY", "DTI_LOCAL_GATEWAY_GRPC_PORT"),
        ("RESULTS_SITE", "DTI_LOCAL_RESULTS_GRPC_PORT"),
    ];
    for (service, variable) in SERVICE_PORTS.into_iter().chain(front_ends) {
        for replica in 1..=REPLICAS {
            let metrics =
                dti_testkit::metrics::scrape_port(stack.replica_port(variable, replica) + 1000)?;
            for ((consumer, outcome), count) in consumed(&metrics) {
                // A failed attempt (a lock wait cut short, say) is delivered again; what
                // must not happen is an event given up (a dead letter, checked below).
                if outcome == "failed" {
                    eprintln!("{service} replica {replica}: {count} attempts of {consumer} failed");
                }
                if outcome == "processed" {
                    *applied.entry(consumer).or_default() += count;
                    *applied_by_replica.entry(replica).or_default() += count;
                }
            }
            *served_by_replica.entry(replica).or_default() += requests_served(&metrics);
        }
    }
    let dead_letters = stack.psql("SELECT count(*) FROM dead_letters")?;
    assert_eq!(
        text(&dead_letters.stdout).trim(),
        "0",
        "no event was given up: {}",
        text(&dead_letters.stderr)
    );
    let inbox = inbox_rows(stack)?;
    assert!(
        inbox.len() >= 3,
        "the year's events reach scoring's two consumers and ranking's: {inbox:?}"
    );
    assert_eq!(
        applied, inbox,
        "per consumer, the events its replicas applied add up to its inbox: each applied once"
    );
    for replica in 1..=REPLICAS {
        assert!(
            applied_by_replica.get(&replica).copied().unwrap_or(0) > 0,
            "replica {replica} applied events: {applied_by_replica:?}"
        );
        assert!(
            served_by_replica.get(&replica).copied().unwrap_or(0) > 0,
            "replica {replica} served requests: {served_by_replica:?}"
        );
    }
    eprintln!(
        "events applied per replica {applied_by_replica:?}, requests served per replica \
         {served_by_replica:?}, per consumer {applied:?}"
    );
    Ok(())
}
