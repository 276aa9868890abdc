//! Everything the chaos suite started (the stack, its database, the servers, the files), with
//! the operations on it: SQL on its database, `start.sh` again, SIGKILL of a service.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::processes::Own;
use anyhow::{ensure, Context};
use dti_tests::{text, IsolatedStack};

/// Everything the test started; stopped (stack, database, servers, files) on drop, on failure
/// too.
pub struct Chaos {
    pub stack: Option<IsolatedStack>,
    pub nats: Mutex<Option<Own>>,
    pub redis: Mutex<Option<Own>>,
    pub nats_port: u16,
    pub redis_port: u16,
    pub nats_store: tempfile::TempDir,
    pub files: tempfile::TempDir,
}

impl Drop for Chaos {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            if let Err(error) = stack.stop() {
                eprintln!("stopping the chaos stack: {error:#}");
            }
        }
        for server in [&self.nats, &self.redis] {
            if let Some(mut own) = server.lock().unwrap_or_else(|p| p.into_inner()).take() {
                own.kill();
            }
        }
    }
}

impl Chaos {
    pub fn stack(&self) -> &IsolatedStack {
        self.stack.as_ref().expect("the stack runs")
    }

    pub fn psql(&self, sql: &str) -> anyhow::Result<String> {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d"])
            .arg(&self.stack().database)
            .args(["-Atqc", sql])
            .output()?;
        ensure!(out.status.success(), "{sql}: {}", text(&out.stderr));
        Ok(text(&out.stdout).trim().to_owned())
    }

    pub fn count(&self, sql: &str) -> anyhow::Result<u64> {
        self.psql(sql)?
            .parse()
            .with_context(|| format!("a number from {sql}"))
    }

    /// `deploy/local/start.sh` again: it starts what is down and leaves the rest alone.
    pub fn start_what_is_down(&self) -> anyhow::Result<()> {
        let out = self.stack().script("deploy/local/start.sh", &[])?;
        ensure!(
            out.status.success(),
            "start.sh exited {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        );
        Ok(())
    }

    pub fn service_pid(&self, service: &str) -> anyhow::Result<i32> {
        let file = self.stack().run_dir.path().join(format!("{service}.pid"));
        Ok(std::fs::read_to_string(&file)
            .with_context(|| format!("{}", file.display()))?
            .trim()
            .parse()?)
    }

    pub fn kill_service(&self, service: &str) -> anyhow::Result<()> {
        let pid = self.service_pid(service)?;
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        ensure!(killed.success(), "kill -KILL {pid} ({service})");
        // Gone (its ports closed) before start.sh looks at them.
        let started = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists() {
            ensure!(
                started.elapsed() < Duration::from_secs(10),
                "{service} ({pid}) outlived SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn alive(&self, service: &str) -> anyhow::Result<bool> {
        let pid = self.service_pid(service)?;
        Ok(Path::new(&format!("/proc/{pid}")).exists())
    }
}
