//! The servers of the test's own (nats-server, redis-server on free ports), killed on drop,
//! and the tail of a service's log.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};

/// A process of the test's own (nats-server, redis-server), killed on drop.
pub struct Own(pub Child);

impl Own {
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn wait_port(port: u16, what: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not open port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

pub fn start_nats(port: u16, store: &Path) -> anyhow::Result<Own> {
    let child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting nats-server")?;
    let own = Own(child);
    wait_port(port, "nats-server")?;
    Ok(own)
}

pub fn start_redis(port: u16) -> anyhow::Result<Own> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting redis-server")?;
    let own = Own(child);
    wait_port(port, "redis-server")?;
    Ok(own)
}

/// A free loopback port away from the machine's NATS (4222) and Redis (6379) and from the
/// stack's own range (picked before the stack picks its ports, which skip ports in use).
pub fn free_port(skip: &[u16]) -> anyhow::Result<u16> {
    let offset = (std::process::id() % 2000) as u16;
    (0..2000)
        .map(|step| 16_000 + (offset + step) % 2000)
        .find(|port| !skip.contains(port) && TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .context("no free port")
}

pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
