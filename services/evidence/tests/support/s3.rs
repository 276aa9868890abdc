//! A real S3 endpoint for the tests: `moto[server]` from PyPI, installed on first use into a
//! virtual environment under `${XDG_CACHE_HOME:-/var/tmp}/dti-moto-venv` and run as a child
//! process on a free port, killed when dropped. Without python3, venv, pip or PyPI the tests
//! fail with a message saying so; they never skip.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dti_evidence::config::S3Settings;

/// The pinned moto release.
pub const MOTO_VERSION: &str = "5.2.5";
/// Longest wait for the virtual environment and the moto installation.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest wait for a started server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The `moto_server` executable, installed if missing (once per test process).
pub fn moto_server_executable() -> anyhow::Result<PathBuf> {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| install().map_err(|error| format!("{error:#}")))
        .clone()
        .map_err(|error| {
            anyhow::anyhow!(
                "moto[server]=={MOTO_VERSION} is needed for the S3 tests and could not be \
                 installed: {error}. They need python3 with the venv module, pip, and access \
                 to PyPI (or a prepared venv at {})",
                venv_dir().display()
            )
        })
}

fn venv_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from("/var/tmp"), PathBuf::from)
        .join("dti-moto-venv")
}

fn install() -> anyhow::Result<PathBuf> {
    let venv = venv_dir();
    let executable = venv.join("bin").join("moto_server");
    let marker = venv.join(format!(".dti-moto-{MOTO_VERSION}"));
    if marker.exists() && executable.exists() {
        return Ok(executable);
    }
    if !venv.join("bin").join("pip").exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("moto[server]=={MOTO_VERSION}")))?;
    anyhow::ensure!(
        executable.exists(),
        "pip succeeded but {} is missing",
        executable.display()
    );
    std::fs::write(&marker, MOTO_VERSION)?;
    Ok(executable)
}

/// Runs `command` to completion within [`INSTALL_TIMEOUT`], failing with its stderr.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| anyhow::anyhow!("{shown}: {error}"))?;
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                pipe.read_to_string(&mut stderr)?;
            }
            anyhow::ensure!(status.success(), "{shown} failed ({status}): {stderr}");
            return Ok(());
        }
        if Instant::now() > deadline {
            child.kill()?;
            child.wait()?;
            anyhow::bail!("{shown} took longer than {INSTALL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A moto server with one bucket, killed when dropped.
pub struct MotoBucket {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    http: reqwest::Client,
}

impl MotoBucket {
    /// Installs moto if needed, starts it on a free port, waits until it answers and creates
    /// the bucket.
    pub async fn start() -> anyhow::Result<Self> {
        let executable = tokio::task::spawn_blocking(moto_server_executable).await??;
        // Everything that can fail before the server is owned by its guard happens first, so
        // a failure never leaves a server running.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        // reqwest is built without a TLS provider of its own; the service uses ring (and
        // installs it the same way), so this only matters when the bucket is listed first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let child = Command::new(&executable)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| anyhow::anyhow!("starting {}: {error}", executable.display()))?;
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "dti-evidence-test".into(),
            http,
        };
        server.wait_until_answering().await?;
        let created = server
            .http
            .put(format!("{}/{}", server.endpoint, server.bucket))
            .send()
            .await?;
        anyhow::ensure!(
            created.status().is_success(),
            "creating the bucket: {}",
            created.status()
        );
        Ok(server)
    }

    async fn wait_until_answering(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("moto_server exited at start ({status})");
            }
            let answer = self.http.get(format!("{}/", self.endpoint)).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "moto_server did not answer on {} within {START_TIMEOUT:?}",
                self.endpoint
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The service's settings for this bucket (moto accepts any credentials).
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            endpoint: Some(self.endpoint.clone()),
            allow_http: true,
            access_key_id: Some("dti-test".into()),
            secret_access_key: Some("dti-test-secret".into()),
            ..S3Settings::default()
        }
    }

    /// Keys of the bucket's objects (ListObjectsV2), sorted.
    pub async fn object_keys(&self) -> anyhow::Result<Vec<String>> {
        let listing = self
            .get_text(&format!("{}/{}?list-type=2", self.endpoint, self.bucket))
            .await?;
        Ok(xml_values(&listing, "Key"))
    }

    /// Keys of the bucket's multipart uploads in progress (ListMultipartUploads), sorted.
    pub async fn multipart_upload_keys(&self) -> anyhow::Result<Vec<String>> {
        let listing = self
            .get_text(&format!("{}/{}?uploads", self.endpoint, self.bucket))
            .await?;
        Ok(xml_values(&listing, "Key"))
    }

    async fn get_text(&self, url: &str) -> anyhow::Result<String> {
        let answer = self.http.get(url).send().await?;
        let status = answer.status();
        let text = answer.text().await?;
        anyhow::ensure!(status.is_success(), "GET {url}: {status}: {text}");
        Ok(text)
    }
}

impl Drop for MotoBucket {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The texts of every `<tag>…</tag>` element in `xml`, sorted.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values: Vec<String> = xml
        .split(open.as_str())
        .skip(1)
        .filter_map(|rest| {
            rest.split_once(close.as_str())
                .map(|(value, _)| value.to_owned())
        })
        .collect();
    values.sort();
    values
}
