//! A submission service started in-process on its own database, NATS prefix and port, with
//! clients for each role; the steps and values themselves come from `dti-testkit`.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test file uses part of the support module"
)]

use std::time::Duration;

use dti_auth::Role;
use dti_config::ServiceConfig;
use dti_proto::dti::common::v1::{IndicatorValue, RoundRef};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{GetRoundRequest, Round, Submission};
use dti_service_kit::RunningService;
use dti_submission::Settings;
pub use dti_testkit::values::{choice, count, flag, indicator, round_ref};
use dti_testkit::{SubmissionApi, TestBackends};
use tonic::transport::Channel;

pub const FRAMEWORK: &str = "hcm-2023-district";
pub const YEAR: u32 = 2023;

/// The running service and its backends.
pub struct Stack {
    pub backends: TestBackends,
    pub config: ServiceConfig<Settings>,
    pub service: Option<RunningService>,
}

impl Stack {
    /// Backends and a started service.
    pub async fn start() -> anyhow::Result<Self> {
        let backends = TestBackends::create().await?;
        let config = backends.service_config(Settings {
            deadline_check_interval_secs: 1,
            ..Settings::default()
        });
        let service = dti_submission::build(&config).await?.spawn()?;
        Ok(Self {
            backends,
            config,
            service: Some(service),
        })
    }

    pub fn channel(&self) -> Channel {
        self.service.as_ref().expect("service running").channel()
    }

    /// Stops the service (gracefully) and starts a new one on the same configuration.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if let Some(service) = self.service.take() {
            service.stop().await?;
        }
        self.service = Some(dti_submission::build(&self.config).await?.spawn()?);
        Ok(())
    }

    pub fn submissions(&self) -> SubmissionServiceClient<Channel> {
        SubmissionServiceClient::new(self.channel())
    }

    pub fn operators(&self) -> RoundOperatorServiceClient<Channel> {
        RoundOperatorServiceClient::new(self.channel())
    }

    pub fn operator_token(&self) -> String {
        self.backends.token(Role::Operator)
    }

    pub fn unit_token(&self, unit: &str) -> String {
        self.backends.unit_token(unit)
    }

    /// The submission API on this service, with the test's tokens.
    pub fn api(&self) -> SubmissionApi<'_> {
        SubmissionApi::new(&self.backends, self.channel())
    }

    /// The round `round` as the holder of `token` reads it.
    pub async fn read_round(&self, round: &RoundRef, token: &str) -> anyhow::Result<Round> {
        let request = GetRoundRequest {
            round: Some(round.clone()),
        };
        Ok(self
            .operators()
            .get_round(dti_testkit::with_auth(request, token))
            .await?
            .into_inner())
    }

    /// Opens the 2023 district round for `units` until `deadline_in` from now.
    pub async fn open_round(&self, units: &[&str], deadline_in: Duration) -> anyhow::Result<()> {
        Ok(self.api().open_round(round(), units, deadline_in).await?)
    }

    /// Opens the round for `unit` alone for an hour, creates its draft and sets
    /// `some_values(7)` on it; returns the draft's id.
    pub async fn drafted_with_values(&self, unit: &str) -> anyhow::Result<String> {
        self.open_round(&[unit], Duration::from_secs(3600)).await?;
        let id = self.draft(unit).await?.submission_id;
        self.set(unit, &id, some_values(7)).await?;
        Ok(id)
    }

    /// Creates the draft of `unit` as its submitter.
    pub async fn draft(&self, unit: &str) -> anyhow::Result<Submission> {
        Ok(self.api().create_draft(round(), unit).await?)
    }

    /// Sets `values` on `unit`'s submission as its submitter.
    pub async fn set(
        &self,
        unit: &str,
        id: &str,
        values: Vec<IndicatorValue>,
    ) -> anyhow::Result<()> {
        Ok(self.api().set_values(unit, id, values).await?)
    }

    /// Submits `unit`'s submission with `request_id`; returns the version.
    pub async fn submit(
        &self,
        unit: &str,
        id: &str,
        request_id: &str,
    ) -> Result<u32, tonic::Status> {
        self.api().submit(unit, id, request_id).await
    }

    /// Rows of `table` (for "nothing was stored" checks).
    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        self.backends.count_rows(table).await
    }

    /// Waits until the outbox has no pending row.
    pub async fn wait_outbox_drained(&self) -> anyhow::Result<()> {
        self.backends.wait_outbox_drained().await
    }

    /// The `Nats-Msg-Id`s of every message on `event` in the test's stream.
    pub async fn published_ids(&self, event: &str) -> anyhow::Result<Vec<String>> {
        self.backends.published_ids(event).await
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(service) = self.service.take() {
            service.stop().await?;
        }
        self.backends.close().await?;
        Ok(())
    }
}

/// The round every test uses.
pub fn round() -> RoundRef {
    round_ref(YEAR, FRAMEWORK)
}

/// A few valid district values: 1.1 head role, 1.2 a/b, 2.1 a boolean.
pub fn some_values(a: u64) -> Vec<IndicatorValue> {
    vec![
        indicator("1.1", &[("head_role", choice("deputy"))]),
        indicator("1.2", &[("a", count(a)), ("b", count(34))]),
        indicator("2.1", &[("yes", flag(true))]),
    ]
}
