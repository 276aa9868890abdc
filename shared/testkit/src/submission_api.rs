//! The submission service driven through its gRPC API the way an operator and the units do:
//! open and close a round, create a unit's draft, set its values and general information,
//! submit it and read its versions. Tests of any service that needs submitted rounds use these
//! steps on a running submission service.

use std::time::Duration;

use dti_auth::Role;
use dti_proto::dti::common::v1::{GeneralInfoValue, IndicatorValue, RoundRef};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{
    CloseRoundRequest, CreateDraftRequest, ListVersionsRequest, OpenRoundRequest, SetValuesRequest,
    Submission, SubmissionVersion, SubmitRequest,
};
use tonic::transport::Channel;
use tonic::Status;

use crate::values::unit_ref;
use crate::{with_auth, TestBackends};

/// A running submission service's API, called with the test's tokens.
#[derive(Debug, Clone)]
pub struct SubmissionApi<'a> {
    backends: &'a TestBackends,
    channel: Channel,
}

impl<'a> SubmissionApi<'a> {
    /// The API served on `channel`, with tokens of `backends`.
    pub fn new(backends: &'a TestBackends, channel: Channel) -> Self {
        Self { backends, channel }
    }

    /// A client of the units' service.
    pub fn submissions(&self) -> SubmissionServiceClient<Channel> {
        SubmissionServiceClient::new(self.channel.clone())
    }

    /// A client of the operators' service.
    pub fn operators(&self) -> RoundOperatorServiceClient<Channel> {
        RoundOperatorServiceClient::new(self.channel.clone())
    }

    /// Opens `round` for `units` until `deadline_in` from now, as an operator.
    pub async fn open_round(
        &self,
        round: RoundRef,
        units: &[&str],
        deadline_in: Duration,
    ) -> Result<(), Status> {
        let deadline = chrono::Utc::now() + deadline_in;
        let request = OpenRoundRequest {
            round: Some(round),
            deadline: Some(dti_proto::convert::timestamp(deadline)),
            unit_ids: units.iter().map(|u| (*u).to_owned()).collect(),
        };
        let operator = self.backends.token(Role::Operator);
        self.operators()
            .open_round(with_auth(request, &operator))
            .await?;
        Ok(())
    }

    /// Closes `round` as an operator.
    pub async fn close_round(&self, round: RoundRef) -> Result<(), Status> {
        let request = CloseRoundRequest { round: Some(round) };
        let operator = self.backends.token(Role::Operator);
        self.operators()
            .close_round(with_auth(request, &operator))
            .await?;
        Ok(())
    }

    /// Creates `unit`'s draft in `round` as its submitter.
    pub async fn create_draft(&self, round: RoundRef, unit: &str) -> Result<Submission, Status> {
        let request = CreateDraftRequest {
            round: Some(round),
            unit: Some(unit_ref(unit)),
        };
        Ok(self
            .submissions()
            .create_draft(with_auth(request, &self.backends.unit_token(unit)))
            .await?
            .into_inner())
    }

    /// Sets `values` on `unit`'s submission `id` as its submitter.
    pub async fn set_values(
        &self,
        unit: &str,
        id: &str,
        values: Vec<IndicatorValue>,
    ) -> Result<(), Status> {
        let request = SetValuesRequest {
            submission_id: id.to_owned(),
            values,
            ..Default::default()
        };
        self.submissions()
            .set_values(with_auth(request, &self.backends.unit_token(unit)))
            .await?;
        Ok(())
    }

    /// Sets general-information `fields` (key → value) on `unit`'s submission `id` as its
    /// submitter.
    pub async fn set_general_info(
        &self,
        unit: &str,
        id: &str,
        fields: Vec<(&str, GeneralInfoValue)>,
    ) -> Result<(), Status> {
        let request = SetValuesRequest {
            submission_id: id.to_owned(),
            general_info: fields
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
            ..Default::default()
        };
        self.submissions()
            .set_values(with_auth(request, &self.backends.unit_token(unit)))
            .await?;
        Ok(())
    }

    /// Submits `unit`'s submission `id` with `request_id` as its submitter; returns the version.
    pub async fn submit(&self, unit: &str, id: &str, request_id: &str) -> Result<u32, Status> {
        let request = SubmitRequest {
            submission_id: id.to_owned(),
            client_request_id: request_id.to_owned(),
        };
        Ok(self
            .submissions()
            .submit(with_auth(request, &self.backends.unit_token(unit)))
            .await?
            .into_inner()
            .version)
    }

    /// The submitted versions of `unit`'s submission `id`, oldest first, read as the unit.
    pub async fn versions(&self, unit: &str, id: &str) -> Result<Vec<SubmissionVersion>, Status> {
        let request = ListVersionsRequest {
            submission_id: id.to_owned(),
        };
        Ok(self
            .submissions()
            .list_versions(with_auth(request, &self.backends.unit_token(unit)))
            .await?
            .into_inner()
            .versions)
    }
}
