//! A submission service started in-process on its own database, NATS prefix and port, with
//! clients for each role and small builders of requests.

#![allow(dead_code, reason = "each test file uses part of the support module")]

use std::collections::HashMap;
use std::time::Duration;

use dti_auth::Role;
use dti_config::ServiceConfig;
use dti_proto::dti::common::v1::{
    variable_value, IndicatorValue, RoundRef, UnitRef, VariableValue,
};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{
    CreateDraftRequest, OpenRoundRequest, SetValuesRequest, Submission, SubmitRequest,
};
use dti_service_kit::RunningService;
use dti_submission::Settings;
use dti_testkit::{with_auth, TestBackends};
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

    /// Opens the 2023 district round for `units` until `deadline_in` from now.
    pub async fn open_round(&self, units: &[&str], deadline_in: Duration) -> anyhow::Result<()> {
        let deadline = std::time::SystemTime::now() + deadline_in;
        let request = OpenRoundRequest {
            round: Some(round()),
            deadline: Some(deadline.into()),
            unit_ids: units.iter().map(|u| (*u).to_owned()).collect(),
        };
        self.operators()
            .open_round(with_auth(request, &self.operator_token()))
            .await?;
        Ok(())
    }

    /// Creates the draft of `unit` as its submitter.
    pub async fn draft(&self, unit: &str) -> anyhow::Result<Submission> {
        let request = CreateDraftRequest {
            round: Some(round()),
            unit: Some(UnitRef {
                unit_id: unit.to_owned(),
            }),
        };
        Ok(self
            .submissions()
            .create_draft(with_auth(request, &self.unit_token(unit)))
            .await?
            .into_inner())
    }

    /// Sets `values` on `unit`'s submission as its submitter.
    pub async fn set(
        &self,
        unit: &str,
        id: &str,
        values: Vec<IndicatorValue>,
    ) -> anyhow::Result<()> {
        let request = SetValuesRequest {
            submission_id: id.to_owned(),
            values,
        };
        self.submissions()
            .set_values(with_auth(request, &self.unit_token(unit)))
            .await?;
        Ok(())
    }

    /// Submits `unit`'s submission with `request_id`; returns the version.
    pub async fn submit(
        &self,
        unit: &str,
        id: &str,
        request_id: &str,
    ) -> Result<u32, tonic::Status> {
        let request = SubmitRequest {
            submission_id: id.to_owned(),
            client_request_id: request_id.to_owned(),
        };
        Ok(self
            .submissions()
            .submit(with_auth(request, &self.unit_token(unit)))
            .await?
            .into_inner()
            .version)
    }

    /// Rows of `table` (for "nothing was stored" checks).
    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(self.backends.db.pool())
                .await?,
        )
    }

    /// Waits until the outbox has no pending row.
    pub async fn wait_outbox_drained(&self) -> anyhow::Result<()> {
        for _ in 0..150 {
            let pending: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL",
            )
            .fetch_one(self.backends.db.pool())
            .await?;
            if pending == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the outbox did not drain")
    }

    /// The `Nats-Msg-Id`s of every message on `event` in the test's stream.
    pub async fn published_ids(&self, event: &str) -> anyhow::Result<Vec<String>> {
        use futures::StreamExt;
        let js = dti_bus::connect(&dti_testkit::nats_url()).await?;
        let stream = js
            .get_stream(self.backends.nats_prefix.to_ascii_uppercase())
            .await?;
        let consumer = stream
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                filter_subject: format!("{}.{event}", self.backends.nats_prefix),
                ..Default::default()
            })
            .await?;
        let mut batch = consumer
            .fetch()
            .max_messages(10_000)
            .expires(Duration::from_secs(1))
            .messages()
            .await?;
        let mut ids = Vec::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            ids.push(id);
        }
        ids.sort();
        Ok(ids)
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(service) = self.service.take() {
            service.stop().await?;
        }
        self.backends.close().await?;
        Ok(())
    }
}

pub fn round() -> RoundRef {
    RoundRef {
        year: YEAR,
        framework: FRAMEWORK.to_owned(),
    }
}

pub fn count(n: u64) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Count(n)),
    }
}

pub fn flag(b: bool) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Flag(b)),
    }
}

pub fn choice(c: &str) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Choice(c.to_owned())),
    }
}

/// An indicator value from (variable, value) pairs.
pub fn indicator(code: &str, variables: &[(&str, VariableValue)]) -> IndicatorValue {
    IndicatorValue {
        indicator_code: code.to_owned(),
        variables: variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect::<HashMap<_, _>>(),
    }
}

/// A few valid district values: 1.1 head role, 1.2 a/b, 2.1 a boolean.
pub fn some_values(a: u64) -> Vec<IndicatorValue> {
    vec![
        indicator("1.1", &[("head_role", choice("deputy"))]),
        indicator("1.2", &[("a", count(a)), ("b", count(34))]),
        indicator("2.1", &[("yes", flag(true))]),
    ]
}
