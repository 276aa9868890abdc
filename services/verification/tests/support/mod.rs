//! The submission and verification services started in-process on one test's database, NATS
//! prefix and ports, with a client per service and role, and steps that bring a round to each
//! stage through the real gRPC APIs.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test file uses part of the support module"
)]

use std::collections::BTreeMap;
use std::time::Duration;

use dti_auth::Role;
use dti_config::ServiceConfig;
use dti_domain::values::decode_cohort;
use dti_domain::FrameworkCatalog;
use dti_engine::{score_cohort, Explain};
use dti_proto::dti::common::v1::{IndicatorValue, RoundRef, VariableValue};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::verification::v1::approval_service_client::ApprovalServiceClient;
use dti_proto::dti::verification::v1::publication_service_client::PublicationServiceClient;
use dti_proto::dti::verification::v1::verification_service_client::VerificationServiceClient;
use dti_proto::dti::verification::v1::{
    ApproveRoundRequest, CompleteRoundVerificationRequest, CompleteSubmissionRequest,
    DecideIndicatorsRequest, DecideIndicatorsResponse, DecisionKind, GetVerifiedRankingRequest,
    IndicatorDecision, OpenSubmissionRequest, Publication, PublishRoundRequest, SideBySide,
    StartRoundVerificationRequest, SubmissionReview, VerifiedRanking,
};
use dti_service_kit::RunningService;
pub use dti_testkit::values::{
    choice, count, district_values as values, flag, indicator, round_ref, unit_ref,
};
use dti_testkit::{with_auth, SubmissionApi, TestBackends};
use dti_verification::Settings;
use serde_json::json;
use tonic::transport::Channel;

pub const FRAMEWORK: &str = "hcm-2023-district";
pub const YEAR: u32 = 2023;

/// Both services and their backends.
pub struct Stack {
    pub backends: TestBackends,
    pub submission: Option<RunningService>,
    pub verification: Option<RunningService>,
}

impl Stack {
    /// Backends and both services, the verification service with its default settings.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Settings::default()).await
    }

    /// Backends and both services, the verification service with `settings`.
    pub async fn start_with(settings: Settings) -> anyhow::Result<Self> {
        let backends = TestBackends::create().await?;
        let submission_config = backends.service_config(dti_submission::Settings {
            deadline_check_interval_secs: 3600,
            ..dti_submission::Settings::default()
        });
        let submission = dti_submission::build(&submission_config).await?.spawn()?;
        let config: ServiceConfig<Settings> = backends.service_config(settings);
        let verification = dti_verification::build(&config).await?.spawn()?;
        Ok(Self {
            backends,
            submission: Some(submission),
            verification: Some(verification),
        })
    }

    fn submission_channel(&self) -> Channel {
        self.submission.as_ref().expect("running").channel()
    }

    fn verification_channel(&self) -> Channel {
        self.verification.as_ref().expect("running").channel()
    }

    pub fn submissions(&self) -> SubmissionServiceClient<Channel> {
        SubmissionServiceClient::new(self.submission_channel())
    }

    pub fn operators(&self) -> RoundOperatorServiceClient<Channel> {
        RoundOperatorServiceClient::new(self.submission_channel())
    }

    pub fn verification(&self) -> VerificationServiceClient<Channel> {
        VerificationServiceClient::new(self.verification_channel())
    }

    pub fn approval(&self) -> ApprovalServiceClient<Channel> {
        ApprovalServiceClient::new(self.verification_channel())
    }

    pub fn publication(&self) -> PublicationServiceClient<Channel> {
        PublicationServiceClient::new(self.verification_channel())
    }

    pub fn verifier(&self) -> String {
        self.backends.token(Role::Verifier)
    }

    pub fn approver(&self) -> String {
        self.backends.token(Role::Approver)
    }

    pub fn operator(&self) -> String {
        self.backends.token(Role::Operator)
    }

    pub fn unit(&self, unit: &str) -> String {
        self.backends.unit_token(unit)
    }

    /// The submission API on the submission service, with the test's tokens.
    pub fn submission_api(&self) -> SubmissionApi<'_> {
        SubmissionApi::new(&self.backends, self.submission_channel())
    }

    /// Opens the district round for `units` for an hour.
    pub async fn open_round(&self, units: &[&str]) -> anyhow::Result<()> {
        let api = self.submission_api();
        Ok(api
            .open_round(round(), units, Duration::from_secs(3600))
            .await?)
    }

    /// Closes the round as an operator.
    pub async fn close_round(&self) -> anyhow::Result<()> {
        Ok(self.submission_api().close_round(round()).await?)
    }

    /// Creates `unit`'s draft; returns its id.
    pub async fn draft(&self, unit: &str) -> anyhow::Result<String> {
        let draft = self.submission_api().create_draft(round(), unit).await?;
        Ok(draft.submission_id)
    }

    /// Sets `values` on `unit`'s draft.
    pub async fn set(
        &self,
        unit: &str,
        id: &str,
        values: Vec<IndicatorValue>,
    ) -> anyhow::Result<()> {
        Ok(self.submission_api().set_values(unit, id, values).await?)
    }

    /// Submits `unit`'s draft; returns the version.
    pub async fn submit(&self, unit: &str, id: &str) -> anyhow::Result<u32> {
        let request_id = uuid::Uuid::new_v4().to_string();
        Ok(self.submission_api().submit(unit, id, &request_id).await?)
    }

    /// Opens a round for every unit of `values`, submits each unit's values (units with `None`
    /// submit nothing) and closes the round. Returns the submission ids of the units that
    /// submitted.
    pub async fn submitted_round(
        &self,
        values: &[(&str, Option<Vec<IndicatorValue>>)],
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let units: Vec<&str> = values.iter().map(|(unit, _)| *unit).collect();
        self.open_round(&units).await?;
        let mut ids = BTreeMap::new();
        for (unit, unit_values) in values {
            let Some(unit_values) = unit_values else {
                continue;
            };
            let id = self.draft(unit).await?;
            self.set(unit, &id, unit_values.clone()).await?;
            self.submit(unit, &id).await?;
            ids.insert((*unit).to_owned(), id);
        }
        self.close_round().await?;
        Ok(ids)
    }

    /// quan-1 and quan-3 submit (`values(7, 4)` and `values(9, 8)`), the round's verification
    /// starts and a verifier opens quan-1's submission, whose id is returned.
    pub async fn opened_first_of_two(&self) -> anyhow::Result<String> {
        let ids = self
            .submitted_round(&[
                ("quan-1", Some(values(7, 4))),
                ("quan-3", Some(values(9, 8))),
            ])
            .await?;
        let q1 = ids["quan-1"].clone();
        self.start_verification().await?;
        self.open(&q1).await?;
        Ok(q1)
    }

    /// Starts the round's verification as a verifier.
    pub async fn start_verification(&self) -> Result<(), tonic::Status> {
        self.verification()
            .start_round_verification(with_auth(
                StartRoundVerificationRequest {
                    round: Some(round()),
                },
                &self.verifier(),
            ))
            .await?;
        Ok(())
    }

    /// Opens a submission as a verifier.
    pub async fn open(&self, id: &str) -> Result<SubmissionReview, tonic::Status> {
        Ok(self
            .verification()
            .open_submission(with_auth(
                OpenSubmissionRequest {
                    submission_id: id.to_owned(),
                },
                &self.verifier(),
            ))
            .await?
            .into_inner())
    }

    /// Records `decisions` on `version` as a verifier.
    pub async fn decide(
        &self,
        id: &str,
        version: u32,
        decisions: Vec<IndicatorDecision>,
    ) -> Result<DecideIndicatorsResponse, tonic::Status> {
        Ok(self
            .verification()
            .decide_indicators(with_auth(
                DecideIndicatorsRequest {
                    submission_id: id.to_owned(),
                    version,
                    decisions,
                },
                &self.verifier(),
            ))
            .await?
            .into_inner())
    }

    /// Completes a submission as a verifier, accepting what is undecided.
    pub async fn complete(&self, id: &str, version: u32) -> Result<(), tonic::Status> {
        self.verification()
            .complete_submission(with_auth(
                CompleteSubmissionRequest {
                    submission_id: id.to_owned(),
                    version,
                    accept_undecided: true,
                },
                &self.verifier(),
            ))
            .await?;
        Ok(())
    }

    /// Completes the round's verification as a verifier.
    pub async fn complete_round(&self) -> Result<(), tonic::Status> {
        self.verification()
            .complete_round_verification(with_auth(
                CompleteRoundVerificationRequest {
                    round: Some(round()),
                },
                &self.verifier(),
            ))
            .await?;
        Ok(())
    }

    /// Approves the round as an approver.
    pub async fn approve(&self) -> Result<(), tonic::Status> {
        self.approval()
            .approve_round(with_auth(
                ApproveRoundRequest {
                    round: Some(round()),
                },
                &self.approver(),
            ))
            .await?;
        Ok(())
    }

    /// The round's verified ranking, as an approver reads it.
    pub async fn verified_ranking(&self) -> Result<VerifiedRanking, tonic::Status> {
        Ok(self
            .approval()
            .get_verified_ranking(with_auth(
                GetVerifiedRankingRequest {
                    round: Some(round()),
                },
                &self.approver(),
            ))
            .await?
            .into_inner())
    }

    /// Publishes the round as an approver.
    pub async fn publish(&self) -> Result<Publication, tonic::Status> {
        Ok(self
            .publication()
            .publish_round(with_auth(
                PublishRoundRequest {
                    round: Some(round()),
                },
                &self.approver(),
            ))
            .await?
            .into_inner())
    }

    /// Submits, opens and verifies every unit as given, then completes the round's
    /// verification: the round is `verified`. Returns the submission ids.
    pub async fn verified_round(
        &self,
        values: &[(&str, Option<Vec<IndicatorValue>>)],
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let ids = self.submitted_round(values).await?;
        self.start_verification().await?;
        for id in ids.values() {
            self.open(id).await?;
            self.complete(id, 1).await?;
        }
        self.complete_round().await?;
        Ok(ids)
    }

    /// The round's state as stored.
    pub async fn round_state(&self) -> anyhow::Result<String> {
        Ok(sqlx::query_scalar("SELECT state FROM rounds")
            .fetch_one(self.backends.db.pool())
            .await?)
    }

    /// Rows of `table` (for "nothing was stored" checks).
    pub async fn count(&self, table: &str) -> anyhow::Result<i64> {
        self.backends.count_rows(table).await
    }

    /// Counts of every table a refused request must leave alone.
    pub async fn footprint(&self) -> anyhow::Result<Vec<i64>> {
        let mut counts = Vec::new();
        for table in [
            "audit_log",
            "verified_values",
            "verification_batches",
            "submission_clarifications",
            "publications",
            "verification_objections",
            "outbox_messages",
        ] {
            counts.push(self.count(table).await?);
        }
        let states: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM submissions WHERE updated_at > now() - interval '1 hour'",
        )
        .fetch_one(self.backends.db.pool())
        .await?;
        counts.push(states);
        Ok(counts)
    }

    /// Attaches a document to `unit`'s indicator as the evidence service would record it
    /// (its table; the evidence service itself is not part of these tests).
    pub async fn attach_evidence(&self, unit: &str, code: &str, file: &str) -> anyhow::Result<()> {
        use sha2::Digest;
        let sha = sha2::Sha256::digest(format!("{unit}/{code}/{file}").as_bytes()).to_vec();
        let pool = self.backends.db.pool();
        sqlx::query(
            "INSERT INTO evidence_objects (sha256, size_bytes, content_type, storage_key) \
             VALUES ($1, 1234, 'application/pdf', $2) ON CONFLICT DO NOTHING",
        )
        .bind(&sha)
        .bind(format!("sha256/{}", hex::encode(&sha)))
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO evidence_attachments (id, year, framework, unit_id, indicator_code, \
             file_name, sha256, uploaded_by) VALUES ($1, 2023, $2, $3, $4, $5, $6, 'test')",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(FRAMEWORK)
        .bind(unit)
        .bind(code)
        .bind(file)
        .bind(&sha)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Waits until the outbox has no pending row.
    pub async fn wait_outbox_drained(&self) -> anyhow::Result<()> {
        self.backends.wait_outbox_drained().await
    }

    /// The `Nats-Msg-Id`s of every message on `event` in the test's stream, sorted.
    pub async fn published_ids(&self, event: &str) -> anyhow::Result<Vec<String>> {
        self.backends.published_ids(event).await
    }

    /// The audit chains of the round every test uses, verified link by link.
    pub async fn audit_report(&self) -> anyhow::Result<dti_audit::ChainReport> {
        let round = dti_domain::RoundRef::try_from(&round())?;
        Ok(dti_audit::verify_round(self.backends.db.pool(), &round).await?)
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(service) = self.verification.take() {
            service.stop().await?;
        }
        if let Some(service) = self.submission.take() {
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

/// The same values as a cohort document's `values` object (what `dtictl score` reads).
pub fn values_json(a: u64, systems: u64) -> serde_json::Value {
    serde_json::json!({
        "1.1": {"head_role": "head"},
        "1.2": {"a": a, "b": 10},
        "2.1": {"yes": true},
        "5.1": {"a": systems},
    })
}

pub fn accept(code: &str) -> IndicatorDecision {
    IndicatorDecision {
        indicator_code: code.to_owned(),
        kind: DecisionKind::Accepted as i32,
        ..IndicatorDecision::default()
    }
}

pub fn overridden(
    code: &str,
    variables: &[(&str, VariableValue)],
    reason: &str,
) -> IndicatorDecision {
    IndicatorDecision {
        indicator_code: code.to_owned(),
        kind: DecisionKind::Overridden as i32,
        variables: variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect(),
        reason: reason.to_owned(),
        ..IndicatorDecision::default()
    }
}

pub fn insufficient(code: &str, reason: &str) -> IndicatorDecision {
    IndicatorDecision {
        indicator_code: code.to_owned(),
        kind: DecisionKind::EvidenceInsufficient as i32,
        reason: reason.to_owned(),
        ..IndicatorDecision::default()
    }
}

/// Totals (two decimals) of each unit of a cohort document, as `dtictl score` computes them.
pub fn engine_totals(units: serde_json::Value) -> BTreeMap<String, (String, u32)> {
    let catalog = FrameworkCatalog::builtin().expect("frameworks");
    let document = json!({"framework": "hcm-2023-district", "units": units});
    let cohort = decode_cohort(&document.to_string(), &catalog)
        .value
        .expect("a valid cohort");
    score_cohort(&cohort, Explain::ScoresOnly)
        .expect("scores")
        .units
        .into_iter()
        .map(|unit| (unit.unit.to_string(), (unit.total.to_string(), unit.rank)))
        .collect()
}

/// The side-by-side row of indicator `code`.
pub fn row<'a>(
    view: &'a SideBySide,
    code: &str,
) -> &'a dti_proto::dti::verification::v1::SideBySideRow {
    view.rows
        .iter()
        .find(|row| row.indicator_code == code)
        .expect("a row per indicator")
}

/// The value of variable `a` of indicator `code` among `values`.
pub fn a_of(values: &[dti_proto::dti::common::v1::IndicatorValue], code: &str) -> Option<u64> {
    let value = values
        .iter()
        .find(|v| v.indicator_code == code)?
        .variables
        .get("a")?;
    match value.value {
        Some(dti_proto::dti::common::v1::variable_value::Value::Count(n)) => Some(n),
        _ => None,
    }
}
