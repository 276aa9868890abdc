//! The chaos: every service killed and started again, nats-server killed and started again on
//! its store, redis-server killed and started again empty, the database's connections dropped.

use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{start_nats, start_redis, Acknowledged, Chaos};

/// The chaos, one thing at a time with short pauses, while the burst runs.
pub fn havoc(chaos: &Chaos, acknowledged: &Mutex<Acknowledged>) -> anyhow::Result<()> {
    let began = Instant::now();
    let so_far = || {
        let acknowledged = acknowledged.lock().unwrap_or_else(|p| p.into_inner());
        let n: usize = acknowledged.values().map(Vec::len).sum();
        format!(
            "{:>5.1} s, {n:>3} acknowledged",
            began.elapsed().as_secs_f64()
        )
    };
    let pause = || std::thread::sleep(Duration::from_millis(1500));
    pause();
    for service in [
        "scoring",
        "ranking",
        "submission",
        "evidence",
        "verification",
        "national-sync",
    ] {
        chaos.kill_service(service)?;
        println!("{}: {service} killed (SIGKILL)", so_far());
        pause();
        chaos.start_what_is_down()?;
        println!("{}: {service} started again", so_far());
        pause();
    }
    // nats-server killed and started again on its store.
    {
        let mut nats = chaos.nats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut own) = nats.take() {
            let pid = own.0.id();
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            own.kill();
        }
        println!("{}: nats-server killed (SIGKILL)", so_far());
        std::thread::sleep(Duration::from_secs(2));
        *nats = Some(start_nats(chaos.nats_port, chaos.nats_store.path())?);
        println!("{}: nats-server started again on its store", so_far());
    }
    pause();
    // redis-server killed and started again empty.
    {
        let mut redis = chaos.redis.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut own) = redis.take() {
            own.kill();
        }
        println!("{}: redis-server killed", so_far());
        std::thread::sleep(Duration::from_secs(1));
        *redis = Some(start_redis(chaos.redis_port)?);
        println!("{}: redis-server started again, empty", so_far());
    }
    pause();
    // PostgreSQL drops every connection of the database.
    let terminated = chaos.psql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' \
         AND pid <> pg_backend_pid()",
        chaos.stack().database
    ))?;
    println!(
        "{}: {terminated} database connection(s) terminated",
        so_far()
    );
    pause();
    Ok(())
}
