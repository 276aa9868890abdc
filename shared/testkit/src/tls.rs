//! Certificates made in the test (rcgen) and private backing servers that speak only TLS with
//! them: a `nats-server` and a `redis-server` of the test's own, on free ports, stopped when
//! dropped. Tests of the services' TLS connections use them; the shared servers the other
//! tests use stay plain.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A certificate authority made for one test.
pub struct TestCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new self-signed CA named `name`.
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let pem = params.self_signed(&key)?.pem();
        Ok(Self {
            pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's certificate in PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Writes the CA's certificate to `path`.
    pub fn write_to(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, &self.pem)?;
        Ok(())
    }

    /// Writes a new certificate for `127.0.0.1` and `localhost`, with a fresh key, to `cert`
    /// and `key`: written beside them and renamed in, as a renewal tool does.
    pub fn issue_to(&self, cert: &Path, key: &Path) -> anyhow::Result<()> {
        let server_key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "dti test server");
        let certificate = params.signed_by(&server_key, &self.issuer)?;
        let beside = |path: &Path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            path.with_file_name(format!("{name}.new"))
        };
        let (cert_new, key_new) = (beside(cert), beside(key));
        std::fs::write(&cert_new, certificate.pem())?;
        std::fs::write(&key_new, server_key.serialize_pem())?;
        std::fs::rename(&key_new, key)?;
        std::fs::rename(&cert_new, cert)?;
        Ok(())
    }
}

/// A CA and a certificate it issued for `localhost` and `127.0.0.1`, as files in a directory of
/// their own (removed when dropped): what a service serves ([`ServiceCertificate::listener`])
/// and what its callers trust (`ca_file`).
#[derive(Debug)]
pub struct ServiceCertificate {
    /// The CA's certificate, PEM.
    pub ca_file: PathBuf,
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    dir: PathBuf,
}

impl ServiceCertificate {
    /// A new CA named `ca_name` and a certificate of its own.
    pub fn issue(ca_name: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "dti-tls-service-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let ca = TestCa::new(ca_name)?;
        let (ca_file, cert, key) = (dir.join("ca.crt"), dir.join("tls.crt"), dir.join("tls.key"));
        ca.write_to(&ca_file)?;
        ca.issue_to(&cert, &key)?;
        Ok(Self {
            ca_file,
            cert,
            key,
            dir,
        })
    }

    /// The TLS settings of a listener serving this certificate (e.g. `grpc.tls`).
    pub fn listener(&self) -> dti_config::ListenerTlsConfig {
        dti_config::ListenerTlsConfig {
            cert_path: Some(self.cert.clone()),
            key_path: Some(self.key.clone()),
        }
    }
}

impl Drop for ServiceCertificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; a server started at once gets it).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A server process of the test's own, killed when dropped, with its files.
#[derive(Debug)]
pub struct TlsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA file that signed its certificate (clients trust it).
    pub ca_file: PathBuf,
    /// The CA that signed its certificate.
    pub ca: TestCa,
    child: Child,
    dir: PathBuf,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsServer {
    /// A directory of the test's own with a CA, its file and a server certificate.
    fn prepare(kind: &str) -> anyhow::Result<(PathBuf, TestCa, PathBuf, PathBuf, PathBuf)> {
        let dir = std::env::temp_dir().join(format!(
            "dti-tls-{kind}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let ca = TestCa::new(&format!("DTI test {kind} CA"))?;
        let ca_file = dir.join("ca.pem");
        ca.write_to(&ca_file)?;
        let (cert, key) = (dir.join("server.pem"), dir.join("server-key.pem"));
        ca.issue_to(&cert, &key)?;
        Ok((dir, ca, ca_file, cert, key))
    }

    /// Starts a `nats-server` (with JetStream) that accepts only TLS connections.
    pub async fn nats() -> anyhow::Result<Self> {
        let (dir, ca, ca_file, cert, key) = Self::prepare("nats")?;
        let port = free_port()?;
        let conf = dir.join("nats.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: {:?} }}\n\
                 tls {{ cert_file: {:?}, key_file: {:?}, timeout: 5 }}\n",
                dir.join("js").display().to_string(),
                cert.display().to_string(),
                key.display().to_string(),
            ),
        )?;
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Self::started(child, port, ca, ca_file, dir).await
    }

    /// Starts a `redis-server` that listens only on a TLS port and asks no client certificate.
    pub async fn redis() -> anyhow::Result<Self> {
        let (dir, ca, ca_file, cert, key) = Self::prepare("redis")?;
        let port = free_port()?;
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--tls-port")
            .arg(port.to_string())
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(&ca_file)
            .args(["--tls-auth-clients", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Self::started(child, port, ca, ca_file, dir).await
    }

    /// Waits until `child` accepts connections on `port`.
    async fn started(
        mut child: Child,
        port: u16,
        ca: TestCa,
        ca_file: PathBuf,
        dir: PathBuf,
    ) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("the test's TLS server exited: {status}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!("the test's TLS server did not listen on {addr}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            addr,
            ca_file,
            ca,
            child,
            dir,
        })
    }
}
