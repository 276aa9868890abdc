//! The submission and verification services in-process on one test database and NATS prefix,
//! the results site in front of the verification service on port 0, steps that publish a
//! round through the services' real gRPC APIs, and an HTTP client with small readers of the
//! site's HTML (the `<data value>` numbers of a table row).
//!
//! Each test starts its own [`Platform`]; tests never share one.

#![allow(
    dead_code,
    reason = "the tests and the bench use different parts of the platform"
)]

use std::time::Duration;

use dti_auth::Role;
use dti_proto::dti::common::v1::{IndicatorValue, RoundRef};
use dti_proto::dti::verification::v1::approval_service_client::ApprovalServiceClient;
use dti_proto::dti::verification::v1::publication_service_client::PublicationServiceClient;
use dti_proto::dti::verification::v1::verification_service_client::VerificationServiceClient;
use dti_proto::dti::verification::v1::{
    ApproveRoundRequest, CompleteRoundVerificationRequest, CompleteSubmissionRequest,
    DecideIndicatorsRequest, IndicatorDecision, OpenSubmissionRequest, PublishCorrectionRequest,
    PublishRoundRequest, StartRoundVerificationRequest,
};
use dti_service_kit::RunningService;
pub use dti_testkit::values::{count, district_values as values, round_ref};
use dti_testkit::{with_auth, SubmissionApi, TestBackends};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

/// The district framework every test publishes.
pub const FRAMEWORK: &str = "hcm-2023-district";

/// The path of the published ranking page of [`FRAMEWORK`] in 2023.
pub const RANKING: &str = "/2023/hcm-2023-district";

/// The snapshot as the site serves it, checked against its hash headers.
pub async fn snapshot(platform: &Platform, query: &str) -> (Value, String) {
    let answer = platform
        .get(&format!("{RANKING}/snapshot.json{query}"))
        .await;
    answer.expect(200);
    let hash = hex::encode(Sha256::digest(&answer.body));
    assert_eq!(
        answer.header("x-content-sha256"),
        hash,
        "the download hashes to its header"
    );
    assert_eq!(answer.header("etag"), format!("\"{hash}\""));
    (
        serde_json::from_slice(&answer.body).expect("the snapshot is JSON"),
        hash,
    )
}

/// The services, the site and a client.
pub struct Platform {
    /// The test's database and prefixes.
    pub backends: TestBackends,
    /// `http://<site address>`.
    pub base_url: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    submission: RunningService,
    verification: RunningService,
    site: RunningService,
}

/// An answer of the site.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body.
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }
}

impl Platform {
    /// Starts both services and the site (which lists a round's revisions on every page).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Starts both services and the site with its test settings changed by `tune`.
    pub async fn start_with(
        tune: impl FnOnce(&mut dti_results_site::Settings),
    ) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let backends = TestBackends::create().await?;
        let submission =
            dti_submission::build(&backends.service_config(dti_submission::Settings {
                deadline_check_interval_secs: 3600,
                ..dti_submission::Settings::default()
            }))
            .await?
            .spawn()?;
        let verification = dti_verification::build(
            &backends.service_config(dti_verification::Settings::default()),
        )
        .await?
        .spawn()?;
        let mut settings = dti_results_site::Settings {
            http_listen_addr: "127.0.0.1:0".parse()?,
            verification_endpoint: verification.endpoint(),
            submission_endpoint: Some(submission.endpoint()),
            latest_check_interval_ms: 0,
            ..dti_results_site::Settings::default()
        };
        tune(&mut settings);
        let built = dti_results_site::build_site(&backends.service_config(settings)).await?;
        let base_url = format!("http://{}", built.http_addr);
        let site = built.kit.spawn()?;
        Ok(Self {
            backends,
            base_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            submission,
            verification,
            site,
        })
    }

    /// GET `path` with `headers`.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base_url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the site answers");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("the body arrives"),
        }
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[]).await
    }

    /// The submission service's channel (its `RegistryService` too).
    pub fn submission_channel(&self) -> Channel {
        self.submission.channel()
    }

    fn submission_api(&self) -> SubmissionApi<'_> {
        SubmissionApi::new(&self.backends, self.submission.channel())
    }

    fn verification_client(&self) -> VerificationServiceClient<Channel> {
        VerificationServiceClient::new(self.verification.channel())
    }

    /// The verification service's `PublicationService`.
    pub fn publications(&self) -> PublicationServiceClient<Channel> {
        PublicationServiceClient::new(self.verification.channel())
    }

    /// Opens `year`'s district round for the units of `values`, submits each unit's values,
    /// closes it, verifies every submission (accepting everything) and completes the round's
    /// verification. Returns each unit's submission id.
    pub async fn verified_round(
        &self,
        year: u32,
        values: &[(&str, Vec<IndicatorValue>)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        self.verified_round_of(year, FRAMEWORK, values).await
    }

    /// [`Platform::verified_round`] of another district framework.
    pub async fn verified_round_of(
        &self,
        year: u32,
        framework: &str,
        values: &[(&str, Vec<IndicatorValue>)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let round = round_ref(year, framework);
        let api = self.submission_api();
        let units: Vec<&str> = values.iter().map(|(unit, _)| *unit).collect();
        api.open_round(round.clone(), &units, Duration::from_secs(3600))
            .await?;
        let mut ids = Vec::new();
        for (unit, unit_values) in values {
            let draft = api.create_draft(round.clone(), unit).await?;
            api.set_values(unit, &draft.submission_id, unit_values.clone())
                .await?;
            api.submit(
                unit,
                &draft.submission_id,
                &uuid::Uuid::new_v4().to_string(),
            )
            .await?;
            ids.push(((*unit).to_owned(), draft.submission_id));
        }
        api.close_round(round.clone()).await?;
        let verifier = self.backends.token(Role::Verifier);
        let mut client = self.verification_client();
        client
            .start_round_verification(with_auth(
                StartRoundVerificationRequest {
                    round: Some(round.clone()),
                },
                &verifier,
            ))
            .await?;
        for (_, id) in &ids {
            client
                .open_submission(with_auth(
                    OpenSubmissionRequest {
                        submission_id: id.clone(),
                    },
                    &verifier,
                ))
                .await?;
            client
                .complete_submission(with_auth(
                    CompleteSubmissionRequest {
                        submission_id: id.clone(),
                        version: 1,
                        accept_undecided: true,
                    },
                    &verifier,
                ))
                .await?;
        }
        client
            .complete_round_verification(with_auth(
                CompleteRoundVerificationRequest { round: Some(round) },
                &verifier,
            ))
            .await?;
        Ok(ids)
    }

    /// A verified round, approved and published (revision 1, provisional).
    pub async fn published_round(
        &self,
        year: u32,
        values: &[(&str, Vec<IndicatorValue>)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        self.published_round_of(year, FRAMEWORK, values).await
    }

    /// [`Platform::published_round`] of another district framework.
    pub async fn published_round_of(
        &self,
        year: u32,
        framework: &str,
        values: &[(&str, Vec<IndicatorValue>)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let ids = self.verified_round_of(year, framework, values).await?;
        let round = round_ref(year, framework);
        let approver = self.backends.token(Role::Approver);
        ApprovalServiceClient::new(self.verification.channel())
            .approve_round(with_auth(
                ApproveRoundRequest {
                    round: Some(round.clone()),
                },
                &approver,
            ))
            .await?;
        self.publications()
            .publish_round(with_auth(
                PublishRoundRequest { round: Some(round) },
                &approver,
            ))
            .await?;
        Ok(ids)
    }

    /// Corrects `unit`'s indicator 1.2 to `a` of 10 (submission `id`, version 1) and
    /// publishes the correction with `reason`.
    pub async fn correct(&self, year: u32, id: &str, a: u64, reason: &str) -> anyhow::Result<()> {
        let verifier = self.backends.token(Role::Verifier);
        let decision = IndicatorDecision {
            indicator_code: "1.2".into(),
            kind: dti_proto::dti::verification::v1::DecisionKind::Overridden as i32,
            variables: [("a".to_owned(), count(a)), ("b".to_owned(), count(10))]
                .into_iter()
                .collect(),
            reason: reason.to_owned(),
            ..IndicatorDecision::default()
        };
        self.verification_client()
            .decide_indicators(with_auth(
                DecideIndicatorsRequest {
                    submission_id: id.to_owned(),
                    version: 1,
                    decisions: vec![decision],
                },
                &verifier,
            ))
            .await?;
        self.publications()
            .publish_correction(with_auth(
                PublishCorrectionRequest {
                    round: Some(round_ref(year, FRAMEWORK)),
                    reason: reason.to_owned(),
                },
                &self.backends.token(Role::Approver),
            ))
            .await?;
        Ok(())
    }

    /// Stops the site and the services, then drops the test database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.site.stop().await?;
        self.verification.stop().await?;
        self.submission.stop().await?;
        self.backends.close().await?;
        Ok(())
    }
}

/// The round of `year` as the services name it.
pub fn round(year: u32) -> RoundRef {
    round_ref(year, FRAMEWORK)
}

/// The part of `html` from the element opening with `marker` to the end of its table row.
pub fn row<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)?;
    let rest = &html[start..];
    let end = rest.find("</tr>")?;
    Some(&rest[..end])
}

/// The `value`s of every `<data value="…">` in `fragment`, in order.
pub fn data_values(fragment: &str) -> Vec<String> {
    fragment
        .split("<data value=\"")
        .skip(1)
        .filter_map(|part| part.split('"').next().map(str::to_owned))
        .collect()
}

/// The shown text of every `<data …>text</data>` in `fragment`, in order.
pub fn data_texts(fragment: &str) -> Vec<String> {
    fragment
        .split("<data value=\"")
        .skip(1)
        .filter_map(|part| {
            let text = part.split_once("\">")?.1;
            Some(text.split("</data>").next()?.to_owned())
        })
        .collect()
}
