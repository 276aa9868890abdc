//! The local stack's script variables never collide with the services' settings: a service
//! reads every variable of its prefix (`DTI_SUBMISSION_…`) as a setting and refuses unknown
//! ones, so a stack variable of that prefix would stop it from starting.

use std::path::Path;

fn repository_file(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The env prefixes of the services `deploy/local/start.sh` starts (third word of each entry
/// of its `SERVICES` list).
fn service_prefixes(start_script: &str) -> Vec<String> {
    let list = start_script
        .split("SERVICES=(")
        .nth(1)
        .and_then(|rest| rest.split("\n)").next())
        .expect("start.sh has a SERVICES=( … ) list");
    list.lines()
        .filter_map(|line| line.trim().trim_matches('"').split_whitespace().nth(2))
        .map(str::to_owned)
        .collect()
}

/// The variables `deploy/local/stack.env` defines (`: "${NAME:=value}"`).
fn stack_variables(stack_env: &str) -> Vec<String> {
    stack_env
        .lines()
        .filter_map(|line| line.trim().strip_prefix(": \"${"))
        .filter_map(|rest| rest.split(":=").next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_stack_variable_is_read_as_a_service_setting() {
    let prefixes = service_prefixes(&repository_file("deploy/local/start.sh"));
    assert_eq!(
        prefixes.len(),
        8,
        "the six services, the gateway and the results site: {prefixes:?}"
    );
    assert!(prefixes
        .iter()
        .all(|p| p.starts_with("DTI_") && p.ends_with('_')));
    let variables = stack_variables(&repository_file("deploy/local/stack.env"));
    assert!(variables.len() >= 10, "{variables:?}");
    let colliding: Vec<(&String, &String)> = variables
        .iter()
        .flat_map(|v| prefixes.iter().map(move |p| (v, p)))
        .filter(|(variable, prefix)| variable.starts_with(prefix.as_str()))
        .collect();
    assert!(
        colliding.is_empty(),
        "stack variables read as service settings: {colliding:?}"
    );
}

/// A port the stack needs that another process already answers on stops `start.sh` with a
/// message naming the variable to change, instead of a stack half talking to someone else's
/// services (which would refuse this stack's tokens).
#[test]
fn a_port_taken_by_another_process_stops_the_stack_with_the_variable_to_change(
) -> anyhow::Result<()> {
    let stack = dti_tests::IsolatedStack::new()?;
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port().to_string();
    let out = stack.script_with(
        "deploy/local/start.sh",
        &[],
        &[("DTI_LOCAL_VERIFICATION_PORT", &port)],
    )?;
    let stderr = dti_tests::text(&out.stderr);
    let stopped = stack.stop();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use"))
            && stderr.contains("DTI_LOCAL_VERIFICATION_PORT"),
        "{stderr}"
    );
    drop(taken);
    stopped
}

/// A replica count that is not a whole number of at least 1 stops `start.sh` with exit code 2
/// and the setting's name, before anything is started or created.
#[test]
fn a_bad_replica_count_is_refused_naming_the_setting() -> anyhow::Result<()> {
    let stack = dti_tests::IsolatedStack::new()?;
    let refused = |replicas: &str| -> anyhow::Result<()> {
        let out = stack.script_with(
            "deploy/local/start.sh",
            &[],
            &[("DTI_LOCAL_REPLICAS", replicas)],
        )?;
        let stderr = dti_tests::text(&out.stderr);
        anyhow::ensure!(
            out.status.code() == Some(2)
                && stderr.contains("DTI_LOCAL_REPLICAS")
                && !stderr.contains("starting"),
            "{replicas:?}: exit {:?}, {stderr}",
            out.status.code()
        );
        Ok(())
    };
    let result = ["0", "two", "-1", "1.5"]
        .into_iter()
        .try_for_each(refused)
        .and_then(|()| {
            let created = stack.psql("SELECT 1")?;
            anyhow::ensure!(!created.status.success(), "a database was created");
            Ok(())
        });
    let stopped = stack.stop();
    result?;
    stopped
}
