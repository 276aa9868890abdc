//! The correctness test of the whole pipeline on the real stack: a random cohort is submitted
//! through the submission service's gRPC API in random order, some units resubmit (changing
//! min-max values, declaring indicators not applicable, clearing others), some events are
//! delivered again or late, and the scoring service is restarted once in the middle; verifier
//! decisions are added for a few units. When the pipeline is idle, every score, total and rank
//! read from the scoring and ranking services equals `dtictl score` on the final inputs, to the
//! cent.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dti_auth::Role;
use dti_domain::framework::{Framework, VariableType};
use dti_domain::sample::{sample_indicator, SampleRng};
use dti_domain::{FrameworkCatalog, RoundRef, UnitRegistry};
use dti_engine::{score_cohort, Explain};
use dti_proto::dti::common::v1::{self as common, variable_value::Value as ProtoValue};
use dti_proto::dti::scoring::v1::Basis;
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{
    ClearIndicatorRequest, CreateDraftRequest, OpenRoundRequest, SetNotApplicableRequest,
    SetValuesRequest, SubmitRequest,
};
use dti_service_kit::RunningService;
use dti_testkit::with_auth;
use prost::Message;
use serde_json::{json, Map, Value};
use support::*;
use tonic::transport::Channel;

const FRAMEWORK: &str = "hcm-2023-district";

/// What a unit's draft holds for one indicator.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Values(Map<String, Value>),
    NotApplicable,
}

/// A unit's draft as the test changed it, i.e. what its next submitted version holds.
#[derive(Debug, Clone, Default)]
struct Draft {
    submission_id: String,
    entries: BTreeMap<String, Entry>,
}

impl Draft {
    fn as_submission(&self, unit: &str) -> UnitSubmission {
        let mut values = Map::new();
        let mut not_applicable = Vec::new();
        for (code, entry) in &self.entries {
            match entry {
                Entry::Values(variables) => {
                    values.insert(code.clone(), Value::Object(variables.clone()));
                }
                Entry::NotApplicable => not_applicable.push(code.clone()),
            }
        }
        UnitSubmission {
            unit: unit.to_owned(),
            values,
            not_applicable,
        }
    }
}

/// A contract JSON value as the protobuf value of its variable's type.
fn proto_value(ty: &VariableType, value: &Value) -> common::VariableValue {
    let value = match ty {
        VariableType::Count => ProtoValue::Count(value.as_u64().expect("count")),
        VariableType::Money => ProtoValue::Money(value.as_u64().expect("money")),
        VariableType::Bool => ProtoValue::Flag(value.as_bool().expect("flag")),
        VariableType::Choice { .. } => {
            ProtoValue::Choice(value.as_str().expect("choice").to_owned())
        }
        VariableType::Decimal => ProtoValue::Decimal(value.as_str().expect("decimal").to_owned()),
        VariableType::Text => ProtoValue::Text(value.as_str().expect("text").to_owned()),
        VariableType::Activities => ProtoValue::Activities(common::ActivityList {
            activities: value
                .as_array()
                .expect("activities")
                .iter()
                .map(|a| common::Activity {
                    reports: a["reports"].as_u64().expect("reports"),
                    resolved: a["resolved"].as_u64().expect("resolved"),
                })
                .collect(),
        }),
    };
    common::VariableValue { value: Some(value) }
}

fn indicator_value(
    framework: &Framework,
    code: &str,
    variables: &Map<String, Value>,
) -> common::IndicatorValue {
    let indicator = framework.indicator_by_str(code).expect("indicator");
    common::IndicatorValue {
        indicator_code: code.to_owned(),
        variables: variables
            .iter()
            .map(|(name, value)| {
                let ty = &indicator.variable(name).expect("variable").ty;
                (name.clone(), proto_value(ty, value))
            })
            .collect(),
    }
}

/// The services of the stack, each on the same backends.
struct Stack {
    pipeline: Pipeline,
    submission: RunningService,
}

impl Stack {
    fn submissions(&self) -> SubmissionServiceClient<Channel> {
        SubmissionServiceClient::new(self.submission.channel())
    }
}

/// Fills a unit's draft through the API with fresh random values, then submits it.
async fn fill_and_submit(
    stack: &Stack,
    framework: &Framework,
    round: &RoundRef,
    unit: &str,
    draft: &mut Draft,
    rng: &mut SampleRng,
    resubmission: bool,
) -> anyhow::Result<u32> {
    let token = stack.pipeline.scoring.backends.unit_token(unit);
    let mut client = stack.submissions();
    if draft.submission_id.is_empty() {
        let request = CreateDraftRequest {
            round: Some(proto_round(round)),
            unit: Some(common::UnitRef {
                unit_id: unit.to_owned(),
            }),
        };
        draft.submission_id = client
            .create_draft(with_auth(request, &token))
            .await?
            .into_inner()
            .submission_id;
    }
    let mut values = Vec::new();
    let mut not_applicable = Vec::new();
    let mut cleared = Vec::new();
    for indicator in framework
        .top_level_indicators()
        .filter(|i| i.rule.is_some())
    {
        let code = indicator.code.to_string();
        let change = if resubmission {
            rng.chance(30) || code == "5.1"
        } else {
            true
        };
        if !change {
            continue;
        }
        match rng.between(1, 100) {
            1..=4 if draft.entries.contains_key(&code) => cleared.push(code),
            1..=4 => {}
            5..=8 => not_applicable.push(code),
            _ => {
                let mut variables = sample_indicator(indicator, rng);
                if code == "5.1" && rng.chance(25) {
                    variables.insert("a".into(), json!(rng.between(0, 400)));
                }
                values.push((code, variables));
            }
        }
    }
    if !values.is_empty() {
        let request = SetValuesRequest {
            submission_id: draft.submission_id.clone(),
            values: values
                .iter()
                .map(|(code, v)| indicator_value(framework, code, v))
                .collect(),
            ..Default::default()
        };
        client.set_values(with_auth(request, &token)).await?;
        for (code, variables) in values {
            draft.entries.insert(code, Entry::Values(variables));
        }
    }
    for code in not_applicable {
        let request = SetNotApplicableRequest {
            submission_id: draft.submission_id.clone(),
            indicator_code: code.clone(),
            reason: "không áp dụng cho đơn vị".into(),
        };
        client
            .set_not_applicable(with_auth(request, &token))
            .await?;
        draft.entries.insert(code, Entry::NotApplicable);
    }
    for code in cleared {
        let request = ClearIndicatorRequest {
            submission_id: draft.submission_id.clone(),
            indicator_code: code.clone(),
        };
        client.clear_indicator(with_auth(request, &token)).await?;
        draft.entries.remove(&code);
    }
    let request_id = format!("{unit}-{}", rng.next_u64());
    let submit = || SubmitRequest {
        submission_id: draft.submission_id.clone(),
        client_request_id: request_id.clone(),
    };
    let version = client
        .submit(with_auth(submit(), &token))
        .await?
        .into_inner()
        .version;
    // A retried submit returns the same version and creates nothing.
    let retried = client
        .submit(with_auth(submit(), &token))
        .await?
        .into_inner()
        .version;
    assert_eq!(retried, version);
    Ok(version)
}

/// `dtictl score`'s output for a cohort, as the command prints it.
fn dtictl_contract(units: &[UnitSubmission]) -> anyhow::Result<HashMap<String, Value>> {
    let document = json!({
        "framework": FRAMEWORK,
        "units": units.iter().map(|unit| json!({
            "unit": unit.unit, "values": unit.values, "not_applicable": unit.not_applicable,
        })).collect::<Vec<_>>(),
    });
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("cohort.json");
    std::fs::write(&path, document.to_string())?;
    let catalog = dtictl::commands::load_catalog(None).map_err(|_| anyhow::anyhow!("catalog"))?;
    let cohort = dtictl::commands::load_cohort(&catalog, &path)
        .map_err(|_| anyhow::anyhow!("invalid cohort"))?;
    let scores = score_cohort(&cohort, Explain::ScoresOnly)?;
    let output = serde_json::to_value(dtictl::commands::score::ContractOutput(&scores))?;
    Ok(output["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|unit| {
            (
                unit["unit"].as_str().expect("unit").to_owned(),
                unit.clone(),
            )
        })
        .collect())
}

/// Checks every scorecard, every ranking (total and groups) and every position on one basis.
async fn assert_matches_dtictl(
    stack: &Stack,
    round: &RoundRef,
    basis: Basis,
    inputs: &[UnitSubmission],
) -> anyhow::Result<()> {
    let contract = dtictl_contract(inputs)?;
    let pipeline = &stack.pipeline;
    for unit in inputs {
        let want = &contract[&unit.unit];
        let card = pipeline.scoring.scorecard(round, &unit.unit, basis).await?;
        for indicator in &card.indicators {
            assert_eq!(
                Value::from(indicator.score.clone()),
                want["indicators"][&indicator.indicator_code],
                "{} {}",
                unit.unit,
                indicator.indicator_code
            );
        }
        for group in &card.groups {
            assert_eq!(
                Value::from(group.score.clone()),
                want["groups"][&group.group_code],
                "{} group {}",
                unit.unit,
                group.group_code
            );
        }
        assert_eq!(
            Value::from(card.total.clone()),
            want["total"],
            "total of {}",
            unit.unit
        );
        let position = pipeline
            .position(round, basis, &unit.unit, "", &pipeline.verifier())
            .await?;
        let ranked = position.position.expect("ranked");
        assert_eq!(
            Value::from(ranked.rank),
            want["rank"],
            "rank of {}",
            unit.unit
        );
        assert_eq!(Value::from(ranked.score), want["total"]);
    }
    let expected = dtictl_scores(FRAMEWORK, inputs);
    let (_, total) = pipeline.ranking(round, basis, "", 7).await?;
    assert_ranking_matches(&total, &expected, "");
    for group in expected
        .values()
        .next()
        .map(|e| e.groups.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let (_, ranked) = pipeline.ranking(round, basis, &group, 1000).await?;
        assert_ranking_matches(&ranked, &expected, &group);
    }
    Ok(())
}

#[tokio::test]
async fn a_random_cohort_submitted_out_of_order_ends_exactly_as_dtictl_scores_it(
) -> anyhow::Result<()> {
    let seed = match std::env::var("DTI_E2E_SEED") {
        Ok(seed) => seed.parse()?,
        Err(_) => SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64,
    };
    println!("random cohort seed: {seed} (set DTI_E2E_SEED to replay it)");
    let mut rng = SampleRng::new(seed);
    let pipeline = Pipeline::start(
        dti_scoring::Settings {
            reconcile_interval_secs: 2,
            ..dti_scoring::Settings::default()
        },
        dti_ranking::Settings {
            reconcile_interval_secs: 2,
            ..dti_ranking::Settings::default()
        },
    )
    .await?;
    let config = pipeline
        .scoring
        .backends
        .service_config(dti_submission::Settings::default());
    let submission = dti_submission::build(&config).await?.spawn()?;
    let catalog = FrameworkCatalog::builtin()?;
    let framework = catalog.get_str(FRAMEWORK).expect("framework").clone();
    let round = round(2023, FRAMEWORK);
    // Units of the registry's district cohort: a round assesses only registered districts.
    let registry = UnitRegistry::builtin()?;
    let districts = &registry
        .cohort(&round)
        .expect("the 2023 district cohort")
        .units;
    let count = usize::try_from(rng.between(16, u64::try_from(districts.len())?))?;
    let units: Vec<String> = districts[..count].iter().map(ToString::to_string).collect();
    let open = OpenRoundRequest {
        round: Some(proto_round(&round)),
        deadline: Some(dti_proto::convert::timestamp(
            chrono::Utc::now() + Duration::from_secs(3600),
        )),
        unit_ids: units.clone(),
    };
    let operator = pipeline.scoring.backends.token(Role::Operator);
    RoundOperatorServiceClient::new(submission.channel())
        .open_round(with_auth(open, &operator))
        .await?;
    let mut stack = Stack {
        pipeline,
        submission,
    };

    // Every unit submits once, in random order; a third of them (and a few twice) resubmit.
    let mut order: Vec<usize> = (0..count).collect();
    for i in (1..order.len()).rev() {
        let j = usize::try_from(rng.between(0, u64::try_from(i)?))?;
        order.swap(i, j);
    }
    let mut plan: Vec<(usize, bool)> = order.iter().map(|&i| (i, false)).collect();
    let resubmitting: Vec<usize> = order.iter().copied().filter(|_| rng.chance(35)).collect();
    for i in resubmitting {
        let at =
            usize::try_from(rng.between(u64::try_from(count / 2)?, u64::try_from(plan.len())?))?;
        plan.insert(at, (i, true));
        if rng.chance(30) {
            plan.push((i, true));
        }
    }
    let mut drafts: Vec<Draft> = vec![Draft::default(); count];
    let mut submitted: Vec<(String, u32)> = Vec::new();
    let restart_at = plan.len() / 2;
    for (step, (i, resubmission)) in plan.iter().enumerate() {
        if step == restart_at {
            // The scoring service stops in the middle and starts again on the same config.
            stack.pipeline.scoring.restart().await?;
        }
        let version = fill_and_submit(
            &stack,
            &framework,
            &round,
            &units[*i],
            &mut drafts[*i],
            &mut rng,
            *resubmission,
        )
        .await?;
        submitted.push((drafts[*i].submission_id.clone(), version));
    }

    // Some events again: earlier versions under new ids (late copies) and current ones
    // under their own ids (inside the duplicate window: dropped by JetStream).
    let js = dti_bus::connect(&dti_testkit::nats_url()).await?;
    let subject = format!(
        "{}.submission.submitted.v1",
        stack.pipeline.scoring.prefix()
    );
    for (n, (id, version)) in submitted.iter().enumerate().filter(|(n, _)| n % 3 == 0) {
        let unit = drafts
            .iter()
            .position(|d| &d.submission_id == id)
            .map(|i| units[i].clone())
            .expect("unit");
        let event = submitted_event(&round, &unit, id.parse()?, i32::try_from(*version)?);
        let payload = bytes::Bytes::from(event.encode_to_vec());
        dti_bus::publish::publish_event(
            &js,
            &subject,
            &format!("again/{n}/{id}/v{version}"),
            payload.clone(),
            Default::default(),
        )
        .await?;
        dti_bus::publish::publish_event(
            &js,
            &subject,
            &format!("submission/{id}/v{version}"),
            payload,
            Default::default(),
        )
        .await?;
    }

    // The final self-assessed inputs, and idle scoring of them.
    let finals: Vec<UnitSubmission> = units
        .iter()
        .zip(&drafts)
        .map(|(unit, draft)| draft.as_submission(unit))
        .collect();
    let latest: Vec<(String, i32)> = units
        .iter()
        .zip(&drafts)
        .map(|(unit, draft)| {
            let version = submitted
                .iter()
                .filter(|(id, _)| *id == draft.submission_id)
                .map(|(_, v)| *v)
                .max()
                .unwrap_or(0);
            (unit.clone(), i32::try_from(version).unwrap_or(0))
        })
        .collect();
    wait_scored(stack.pipeline.pool(), &round, "self", &latest).await?;
    wait_scored(stack.pipeline.pool(), &round, "verified", &latest).await?;

    // A verifier decides on three units (as the verification service writes it); each
    // decision is one change of the verified cohort.
    let verified_before = cohort_version(stack.pipeline.pool(), &round, "verified").await?;
    let decisions_applied = || async {
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM inbox_messages WHERE consumer = $1")
                .bind(dti_scoring::ON_VERIFICATION_CONSUMER)
                .fetch_one(stack.pipeline.pool())
                .await?;
        anyhow::Ok(applied)
    };
    let applied_before = decisions_applied().await?;
    let mut verified_inputs = finals.clone();
    for (i, decisions) in [
        (
            0,
            vec![
                ("5.1", Decision::Overridden(json!({"a": 777}))),
                ("1.2", Decision::EvidenceInsufficient),
            ],
        ),
        (
            1,
            vec![
                ("5.1", Decision::EvidenceInsufficient),
                ("2.1", Decision::Accepted),
            ],
        ),
        (
            2,
            vec![
                ("6.1", Decision::OverriddenNotApplicable),
                ("1.3", Decision::Overridden(json!({"a": 1, "b": 2}))),
            ],
        ),
    ] {
        let id = drafts[i].submission_id.parse()?;
        let decided = DecidedVersion {
            round: &round,
            unit: &units[i],
            submission: (id, latest[i].1),
            revision: 1,
            announce: true,
        };
        decide(
            stack.pipeline.pool(),
            stack.pipeline.scoring.prefix(),
            decided,
            &decisions,
        )
        .await?;
        verified_inputs[i] = verified(&finals[i], &decisions);
    }
    // The three decision events may be scored in one pass (a coalesced batch) or in three.
    wait_until("the verified scores follow the decisions", || async {
        Ok(decisions_applied().await? >= applied_before + 3
            && cohort_version(stack.pipeline.pool(), &round, "verified").await? > verified_before)
    })
    .await?;
    wait_until("the outbox is drained", || async {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
                .fetch_one(stack.pipeline.pool())
                .await?;
        Ok(pending == 0)
    })
    .await?;
    stack
        .pipeline
        .wait_ranked(&round, Basis::SelfAssessed)
        .await?;
    stack.pipeline.wait_ranked(&round, Basis::Verified).await?;

    assert_matches_dtictl(&stack, &round, Basis::SelfAssessed, &finals).await?;
    assert_matches_dtictl(&stack, &round, Basis::Verified, &verified_inputs).await?;
    let resubmitted = latest.iter().filter(|(_, version)| *version > 1).count();
    println!(
        "{count} units, {} submits ({resubmitted} units resubmitted)",
        submitted.len()
    );

    stack.submission.stop().await?;
    stack.pipeline.close().await
}
