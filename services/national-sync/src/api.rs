//! The gRPC handlers of `dti.nationalsync.v1`: each checks the caller's role and scope
//! ([`crate::access`]), converts the request (`wire`, [`dti_proto::request`]), calls the
//! domain modules and maps their errors.

use std::sync::Arc;

use dti_auth::grpc::principal;
use dti_db::PgPool;
use dti_i18n::Message;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_proto::dti::nationalsync::v1::national_sync_service_server::NationalSyncService;
use dti_proto::dti::nationalsync::v1::owner_data_service_server::OwnerDataService;
use dti_proto::request::parse_id;
use dti_service_kit::status::InvalidRequest;
use tonic::{Request, Response, Status};

use crate::access::{
    department_to_read, require_owner_of, require_role, DISPUTERS, READERS, RUN_READERS,
    SYNC_RUNNERS,
};
use crate::completeness;
use crate::events::EventSubjects;
use crate::national_set::{NationalSet, NationalYear};
use crate::owner_values;
use crate::plan;
use crate::push_log::{self, LogFilter};
use crate::snapshot;
use crate::sync_runs::{self, SyncContext, Trigger};
use crate::wire;
use crate::NationalSyncError;

/// Default and largest page of the push log.
const DEFAULT_LOG_LIMIT: u32 = 500;
const MAX_LOG_LIMIT: u32 = 5000;

/// What the handlers share.
#[derive(Debug)]
pub struct ApiState {
    /// Database.
    pub pool: PgPool,
    /// Routed set.
    pub set: Arc<NationalSet>,
    /// Event subjects.
    pub subjects: EventSubjects,
    /// The city's code in the national system.
    pub province: String,
    /// Whether a national endpoint is configured (pushes can be delivered).
    pub can_push: bool,
}

/// The handlers of both services.
#[derive(Debug, Clone)]
pub struct NationalSyncApi {
    state: Arc<ApiState>,
}

impl NationalSyncApi {
    /// Handlers over `state`.
    pub fn new(state: ApiState) -> Self {
        Self {
            state: Arc::new(state),
        }
    }

    fn year(&self, year: u32) -> Result<NationalYear, Status> {
        self.state
            .set
            .year(year)
            .map_err(|problem| NationalSyncError::invalid_field("year", problem).into())
    }

    fn context(&self) -> SyncContext<'_> {
        SyncContext {
            set: &self.state.set,
            subjects: &self.state.subjects,
            province: &self.state.province,
        }
    }
}

#[tonic::async_trait]
impl OwnerDataService for NationalSyncApi {
    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn submit_owner_values(
        &self,
        request: Request<pb::SubmitOwnerValuesRequest>,
    ) -> Result<Response<pb::SubmitOwnerValuesResponse>, Status> {
        let caller = principal(&request)?.clone();
        let department = require_owner_of(&caller, &self.state.set)?;
        let request = request.into_inner();
        let requested = wire::requested_parts(&request);
        let state = &self.state;
        let outcome = owner_values::submit(
            &state.pool,
            &state.set,
            &state.subjects,
            &caller,
            &department,
            request.year,
            requested,
        )
        .await?;
        let year = self.year(request.year)?;
        Ok(Response::new(pb::SubmitOwnerValuesResponse {
            parts: outcome
                .parts
                .iter()
                .map(|part| wire::owner_part(&state.set, year, part))
                .collect(),
            changed: outcome.changed,
            warnings: outcome
                .warnings
                .iter()
                .map(|issue| {
                    let violation = dti_service_kit::status::FieldViolation::from(issue);
                    pb::ValidationWarning {
                        field: violation.field,
                        description: violation.description,
                    }
                })
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn get_owner_values(
        &self,
        request: Request<pb::GetOwnerValuesRequest>,
    ) -> Result<Response<pb::GetOwnerValuesResponse>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, READERS)?;
        let request = request.into_inner();
        let year = self.year(request.year)?;
        let department =
            department_to_read(&caller, &self.state.set, &request.department_id, false)?
                .ok_or_else(|| {
                    Status::from(NationalSyncError::invalid_field(
                        "department_id",
                        Message::new("sync-department-needed"),
                    ))
                })?;
        let (parts, missing) =
            owner_values::department_parts(&self.state.pool, &self.state.set, year, &department)
                .await?;
        Ok(Response::new(pb::GetOwnerValuesResponse {
            parts: parts
                .iter()
                .map(|part| wire::owner_part(&self.state.set, year, part))
                .collect(),
            missing: missing.iter().map(wire::item_ref).collect(),
        }))
    }
}

#[tonic::async_trait]
impl NationalSyncService for NationalSyncApi {
    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn get_completeness(
        &self,
        request: Request<pb::GetCompletenessRequest>,
    ) -> Result<Response<pb::Completeness>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, READERS)?;
        let request = request.into_inner();
        let year = self.year(request.year)?;
        let department =
            department_to_read(&caller, &self.state.set, &request.department_id, true)?;
        let snapshot = snapshot::load(&self.state.pool, &self.state.set, year).await?;
        let computed = completeness::compute(&self.state.set, &snapshot, department.as_ref());
        Ok(Response::new(wire::completeness(
            &self.state.set,
            year,
            &computed,
        )))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn dispute_value(
        &self,
        request: Request<pb::DisputeValueRequest>,
    ) -> Result<Response<pb::OwnerPart>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, DISPUTERS)?;
        let request = request.into_inner();
        let item = wire::item_key(request.item.as_ref(), "item")?;
        let part = owner_values::dispute(
            &self.state.pool,
            &self.state.set,
            &caller,
            request.year,
            item,
            &request.department_id,
            &request.reason,
        )
        .await?;
        let year = self.year(request.year)?;
        Ok(Response::new(wire::owner_part(
            &self.state.set,
            year,
            &part,
        )))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn plan_sync(
        &self,
        request: Request<pb::PlanSyncRequest>,
    ) -> Result<Response<pb::SyncPlan>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, SYNC_RUNNERS)?;
        let year = self.year(request.get_ref().year)?;
        let snapshot = snapshot::load(&self.state.pool, &self.state.set, year).await?;
        let planned = plan::plan(&self.state.set, &snapshot, year, &self.state.province);
        Ok(Response::new(wire::plan(&self.state.set, &planned)))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn start_sync(
        &self,
        request: Request<pb::StartSyncRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, SYNC_RUNNERS)?;
        let request = request.into_inner();
        let year = self.year(request.year)?;
        let digest = request.plan_digest.trim();
        if digest.is_empty() {
            return Err(NationalSyncError::invalid_field(
                "plan_digest",
                Message::new("sync-plan-digest-needed"),
            )
            .into());
        }
        if !self.state.can_push {
            return Err(NationalSyncError::not_now(Message::new("sync-no-endpoint").into()).into());
        }
        let run = sync_runs::start(
            &self.state.pool,
            self.context(),
            &caller,
            year,
            Trigger::Operator,
            Some(digest),
        )
        .await?;
        Ok(Response::new(wire::run(&run)))
    }

    #[tracing::instrument(skip_all, fields(run_id = %request.get_ref().run_id))]
    async fn get_sync_run(
        &self,
        request: Request<pb::GetSyncRunRequest>,
    ) -> Result<Response<pb::SyncRun>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, RUN_READERS)?;
        let id = parse_id("run_id", &request.get_ref().run_id).map_err(InvalidRequest::from)?;
        let run = sync_runs::find(&self.state.pool, id)
            .await?
            .ok_or_else(|| {
                Status::from(NationalSyncError::not_found(
                    Message::new("sync-run-not-found")
                        .arg("run", id.to_string())
                        .into(),
                ))
            })?;
        Ok(Response::new(wire::run(&run)))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().year))]
    async fn list_push_log(
        &self,
        request: Request<pb::ListPushLogRequest>,
    ) -> Result<Response<pb::ListPushLogResponse>, Status> {
        let caller = principal(&request)?.clone();
        require_role(&caller, READERS)?;
        let request = request.into_inner();
        let year = self.year(request.year)?;
        let limit = match request.limit {
            0 => DEFAULT_LOG_LIMIT,
            n if n > MAX_LOG_LIMIT => {
                return Err(NationalSyncError::invalid_field(
                    "limit",
                    Message::new("sync-log-limit").arg("max", MAX_LOG_LIMIT),
                )
                .into())
            }
            n => n,
        };
        let run_id = match request.run_id.trim() {
            "" => None,
            text => Some(parse_id("run_id", text).map_err(InvalidRequest::from)?),
        };
        let department =
            department_to_read(&caller, &self.state.set, &request.department_id, true)?;
        let filter = LogFilter {
            run_id,
            department: department.map(|d| d.to_string()),
            limit: i64::from(limit),
        };
        let entries =
            push_log::list(&self.state.pool, &self.state.set, year.stored(), &filter).await?;
        Ok(Response::new(pb::ListPushLogResponse {
            entries: entries.iter().map(wire::log_entry).collect(),
        }))
    }
}
