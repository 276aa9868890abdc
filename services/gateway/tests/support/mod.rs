//! The six services in-process on one test database, NATS prefix and Redis prefix, and the
//! gateway in front of them on port 0; an HTTP client for the tests, with the test tokens.
//!
//! Each test starts its own [`Platform`]; tests never share one, so they may run in parallel.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the platform"
)]

use std::time::Duration;

use dti_auth::Role;
use dti_service_kit::RunningService;
use dti_testkit::TestBackends;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The services and the gateway, running until [`Platform::stop`].
pub struct Platform {
    /// The test's database and prefixes.
    pub backends: TestBackends,
    /// `http://<gateway address>`.
    pub base_url: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The services' gRPC endpoints (to compare with calling them directly).
    pub backend_endpoints: dti_gateway::config::Backends,
    services: Vec<RunningService>,
    gateway: RunningService,
    evidence_root: tempfile::TempDir,
}

/// An answer of the gateway: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The fields named by the error body's violations.
    pub fn violated_fields(&self) -> Vec<String> {
        self.json()["fieldViolations"]
            .as_array()
            .map(|violations| {
                violations
                    .iter()
                    .filter_map(|violation| violation["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }
}

impl Platform {
    /// Starts the six services (one after another, so their migrations never race) and the
    /// gateway with the default settings changed by `tune`.
    pub async fn start(tune: impl FnOnce(&mut dti_gateway::Settings)) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let backends = TestBackends::create().await?;
        let evidence_root = tempfile::tempdir()?;
        let mut services = Vec::new();
        let mut settings = dti_gateway::Settings {
            http_listen_addr: "127.0.0.1:0".parse()?,
            ..dti_gateway::Settings::default()
        };

        let config = backends.service_config(dti_submission::Settings::default());
        let service = dti_submission::build(&config).await?.spawn()?;
        settings.backends.submission = service.endpoint();
        services.push(service);

        let evidence = dti_evidence::Settings::local(evidence_root.path(), false);
        let service = dti_evidence::build(&backends.service_config(evidence))
            .await?
            .spawn()?;
        settings.backends.evidence = service.endpoint();
        services.push(service);

        let config = backends.service_config(dti_scoring::Settings::default());
        let service = dti_scoring::build(&config).await?.spawn()?;
        settings.backends.scoring = service.endpoint();
        services.push(service);

        let config = backends.service_config(dti_ranking::Settings::default());
        let service = dti_ranking::build(&config).await?.spawn()?;
        settings.backends.ranking = service.endpoint();
        services.push(service);

        let config = backends.service_config(dti_verification::Settings::default());
        let service = dti_verification::build(&config).await?.spawn()?;
        settings.backends.verification = service.endpoint();
        services.push(service);

        let config = backends.service_config(dti_national_sync::Settings::default());
        let service = dti_national_sync::build(&config).await?.spawn()?;
        settings.backends.national_sync = service.endpoint();
        services.push(service);

        let backend_endpoints = settings.backends.clone();
        tune(&mut settings);
        let built = dti_gateway::build_gateway(&backends.service_config(settings)).await?;
        let base_url = format!("http://{}", built.http_addr);
        let gateway = built.kit.spawn()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            backends,
            base_url,
            http,
            backend_endpoints,
            services,
            gateway,
            evidence_root,
        })
    }

    /// The gateway's `/metrics` address.
    pub fn gateway_metrics_url(&self) -> String {
        let addr = self
            .gateway
            .metrics_addr
            .expect("metrics are enabled in tests");
        format!("http://{addr}/metrics")
    }

    /// A bearer header value of `role`, city-wide.
    pub fn token(&self, role: Role) -> String {
        self.backends.token(role)
    }

    /// A bearer header value of `unit`'s submitter.
    pub fn unit_token(&self, unit: &str) -> String {
        self.backends.unit_token(unit)
    }

    /// A bearer header value of `department`'s data owner.
    pub fn department_token(&self, department: &str) -> String {
        self.backends.department_token(department)
    }

    /// Sends `method path` with `body` (raw) and the `authorization` value `bearer`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(bearer) = bearer {
            request = request.header("authorization", bearer);
        }
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("the body arrives");
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `POST /v1/<rpc>` with the JSON `body` as `bearer`.
    pub async fn call(&self, rpc: &str, bearer: &str, body: &Value) -> Answer {
        let body = serde_json::to_vec(body).expect("JSON serializes");
        self.send(
            Method::POST,
            &format!("/v1/{rpc}"),
            Some(bearer),
            Some(("application/json", body)),
            &[],
        )
        .await
    }

    /// `POST /v1/<rpc>` with a raw body as `bearer`.
    pub async fn call_raw(&self, rpc: &str, bearer: &str, body: &[u8]) -> Answer {
        self.send(
            Method::POST,
            &format!("/v1/{rpc}"),
            Some(bearer),
            Some(("application/json", body.to_vec())),
            &[],
        )
        .await
    }

    /// Stops the gateway and every service, then drops the test database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.gateway.stop().await?;
        for service in self.services.into_iter().rev() {
            service.stop().await?;
        }
        drop(self.evidence_root);
        self.backends.close().await?;
        Ok(())
    }
}

/// A round of the district cohort, as JSON.
pub fn round_json() -> Value {
    serde_json::json!({"year": 2023, "framework": "hcm-2023-district"})
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = probe().await {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
