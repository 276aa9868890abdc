//! `dtictl what-if`: scores a hypothetical change to a unit's own values on the scoring
//! service (as the unit's submitter); nothing is saved.
//!
//! Each change (`--set INDICATOR.VARIABLE=VALUE`) is merged into the unit's latest submitted
//! values of that indicator and checked against the framework before the call; every bad
//! expression, unknown indicator or variable and invalid value is listed at once (exit 2).

use std::collections::BTreeMap;

use dti_domain::framework::Framework;
use dti_domain::values::{decode_indicator_values, InputIssue};
use dti_domain::FrameworkCatalog;
use dti_proto::dti::common::v1::IndicatorValue;
use dti_proto::dti::scoring::v1::scoring_service_client::ScoringServiceClient;
use dti_proto::dti::scoring::v1::{Scorecard, WhatIfRequest, WhatIfResponse};
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::ListVersionsRequest;
use serde_json::Value;

use super::results::cents;
use super::unit::find;
use super::unit_common::{scored_indicator, Target, UnitRound};
use crate::remote::{call, table, unit_submitter, Output, Remote, Service};
use crate::runtime;
use crate::{tr, Failure};

/// `dtictl what-if`.
#[derive(Debug, clap::Args)]
pub struct WhatIfArgs {
    /// The unit and round.
    #[command(flatten)]
    pub target: UnitRound,
    /// A changed value, `INDICATOR.VARIABLE=VALUE` (e.g. 6.13.a=40); repeat for more.
    #[arg(long = "set", value_name = "INDICATOR.VARIABLE=VALUE")]
    pub set: Vec<String>,
    /// An indicator declared not applicable; repeat for more.
    #[arg(long = "not-applicable", value_name = "INDICATOR")]
    pub not_applicable: Vec<String>,
    /// An indicator whose values are removed; repeat for more.
    #[arg(long = "clear", value_name = "INDICATOR")]
    pub clear: Vec<String>,
    /// How to reach the services.
    #[command(flatten)]
    pub connection: Remote,
}

/// A change in hundredths of a point for people: `+7.90`, `-0.05`, `0.00`.
fn change(value: i64) -> String {
    if value > 0 {
        format!("+{}", cents(value))
    } else {
        cents(value)
    }
}

/// One parsed `--set`: the indicator, the variable and the value as the contract's JSON.
fn parse_set(
    framework: &Framework,
    unit: &str,
    expression: &str,
) -> Result<(String, String, Value), String> {
    let bad = |why: String| tr!("dtictl-set-shape", expression = expression, why = why);
    let (place, raw) = expression
        .split_once('=')
        .ok_or_else(|| bad(tr!("dtictl-set-no-equals")))?;
    let (code, name) = place
        .trim()
        .rsplit_once('.')
        .ok_or_else(|| bad(tr!("dtictl-set-no-variable")))?;
    let indicator = scored_indicator(framework, code).ok_or_else(|| {
        tr!(
            "dtictl-set-not-scored",
            expression = expression,
            unit = unit,
            indicator = code,
            framework = framework.id.to_string()
        )
    })?;
    let variable = indicator.variable(name).ok_or_else(|| {
        let known: Vec<&str> = indicator
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        tr!(
            "dtictl-set-not-variable",
            expression = expression,
            unit = unit,
            indicator = code,
            variable = name,
            known = known.join(", ")
        )
    })?;
    use dti_domain::framework::VariableType as T;
    let raw = raw.trim();
    let value = match variable.ty {
        T::Count | T::Money | T::Bool | T::Activities => {
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
        }
        T::Choice { .. } | T::Decimal | T::Text => Value::String(raw.trim_matches('"').to_owned()),
    };
    dti_domain::values::decode_variable(&variable.ty, &value).map_err(|problem| {
        tr!(
            "dtictl-set-bad-value",
            expression = expression,
            unit = unit,
            indicator = code,
            variable = name,
            problem = problem.to_string()
        )
    })?;
    Ok((indicator.code.to_string(), variable.name.to_string(), value))
}

/// Runs `dtictl what-if`.
pub fn run(catalog: &FrameworkCatalog, args: &WhatIfArgs, output: Output) -> Result<(), Failure> {
    let target = args.target.resolve(catalog)?;
    let framework = target.framework();
    let unit = target.unit.as_str();
    let mut problems = Vec::new();
    let mut changes: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    for expression in &args.set {
        match parse_set(framework, unit, expression) {
            Ok((code, name, value)) => changes.entry(code).or_default().push((name, value)),
            Err(problem) => problems.push(problem),
        }
    }
    for (flag, codes) in [
        ("--not-applicable", &args.not_applicable),
        ("--clear", &args.clear),
    ] {
        for code in codes {
            if scored_indicator(framework, code).is_none() {
                let problem = tr!(
                    "dtictl-draft-not-scored",
                    unit = unit,
                    indicator = code,
                    framework = framework.id.to_string()
                );
                problems.push(problem.replacen("--indicator", flag, 1));
            }
        }
    }
    if args.set.is_empty() && args.not_applicable.is_empty() && args.clear.is_empty() {
        problems.push(tr!("dtictl-set-nothing"));
    }
    if !problems.is_empty() {
        return Err(Failure::InvalidInput(problems));
    }
    let connection = &args.connection;
    let principal = unit_submitter(unit);
    runtime()?.block_on(async {
        let base = latest_values(connection, &target).await?;
        let values = merged(&target, &base, &changes)?;
        let mut client = ScoringServiceClient::new(connection.channel(Service::Scoring).await?);
        let request = WhatIfRequest {
            round: Some(target.round.clone()),
            unit: Some(target.unit_ref()),
            values,
            not_applicable: args.not_applicable.clone(),
            cleared: args.clear.clone(),
        };
        let response = call(
            &tr!("dtictl-what-unit", unit = unit),
            client.what_if(connection.request(request, &principal)?),
        )
        .await?;
        output.emit(&response, |r| describe_what_if(&target, args, r))
    })
}

/// The unit's latest submitted values by indicator (none before its first submission).
async fn latest_values(
    connection: &Remote,
    target: &Target,
) -> Result<BTreeMap<String, IndicatorValue>, Failure> {
    let mut client = SubmissionServiceClient::new(connection.channel(Service::Submission).await?);
    let submission = find(&mut client, connection, target).await?;
    if submission.latest_version == 0 {
        return Ok(BTreeMap::new());
    }
    let request = ListVersionsRequest {
        submission_id: submission.submission_id,
    };
    let principal = unit_submitter(target.unit.as_str());
    let versions = call(
        &tr!("dtictl-what-unit", unit = target.unit.as_str()),
        client.list_versions(connection.request(request, &principal)?),
    )
    .await?;
    Ok(versions
        .versions
        .into_iter()
        .max_by_key(|v| v.version)
        .map(|v| {
            v.values
                .into_iter()
                .map(|i| (i.indicator_code.clone(), i))
                .collect()
        })
        .unwrap_or_default())
}

/// Each changed indicator: its latest values with the `--set` variables replaced, checked
/// against the framework (every problem names unit, indicator and variable).
fn merged(
    target: &Target,
    base: &BTreeMap<String, IndicatorValue>,
    changes: &BTreeMap<String, Vec<(String, Value)>>,
) -> Result<Vec<IndicatorValue>, Failure> {
    let unit = target.unit.as_str();
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for (code, set) in changes {
        let Some(indicator) = scored_indicator(target.framework(), code) else {
            continue;
        };
        let mut variables: BTreeMap<String, Value> = base
            .get(code)
            .map(|value| {
                value
                    .variables
                    .iter()
                    .filter_map(|(name, v)| {
                        Some((name.clone(), dti_proto::convert::variable_to_json(v).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        variables.extend(set.iter().cloned());
        let decoded = decode_indicator_values(unit, indicator, variables);
        problems.extend(
            decoded
                .issues
                .iter()
                .filter(|i| i.is_error())
                .map(InputIssue::to_string),
        );
        if let Some(decoded) = decoded.value {
            values.push(dti_proto::convert::indicator_to_proto(code, &decoded));
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(Failure::InvalidInput(problems))
    }
}

/// A what-if for people: the indicators whose score changes, and the total.
fn describe_what_if(target: &Target, args: &WhatIfArgs, response: &WhatIfResponse) -> String {
    let empty = Scorecard::default();
    let current = response.current.as_ref().unwrap_or(&empty);
    let hypothetical = response.hypothetical.as_ref().unwrap_or(&empty);
    let before: BTreeMap<&str, i64> = current
        .indicators
        .iter()
        .map(|i| (i.indicator_code.as_str(), i.score_cents))
        .collect();
    let rows = hypothetical.indicators.iter().filter_map(|after| {
        let code = after.indicator_code.as_str();
        let was = before.get(code).copied().unwrap_or(0);
        let touched = args
            .set
            .iter()
            .any(|s| s.trim().starts_with(&format!("{code}.")))
            || args
                .not_applicable
                .iter()
                .chain(&args.clear)
                .any(|c| c == code);
        (touched || was != after.score_cents).then(|| {
            [
                code.to_owned(),
                target.names.indicator_in_table(code),
                cents(was),
                after.score.clone(),
                change(after.score_cents - was),
            ]
        })
    });
    let changes = args
        .set
        .iter()
        .cloned()
        .chain(
            args.not_applicable
                .iter()
                .map(|c| tr!("dtictl-what-if-not-applicable", indicator = c)),
        )
        .chain(
            args.clear
                .iter()
                .map(|c| tr!("dtictl-what-if-cleared", indicator = c)),
        )
        .collect::<Vec<_>>()
        .join(", ");
    let header = [
        tr!("dtictl-col-indicator"),
        tr!("dtictl-col-name"),
        tr!("dtictl-col-now"),
        tr!("dtictl-col-what-if"),
        tr!("dtictl-col-change"),
    ];
    format!(
        "{}\n{}\n{}",
        tr!(
            "dtictl-what-if-head",
            unit = target.describe(),
            changes = changes
        ),
        table(header, rows),
        tr!(
            "dtictl-what-if-total",
            now = &current.total,
            after = &hypothetical.total,
            change = change(response.total_change_cents)
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn framework() -> std::sync::Arc<Framework> {
        let catalog = FrameworkCatalog::builtin().expect("built-in frameworks");
        catalog
            .get_str("hcm-2023-district")
            .expect("framework")
            .clone()
    }

    #[test]
    fn a_set_names_indicator_variable_and_value_by_type() {
        let framework = framework();
        let parsed = parse_set(&framework, "quan-1", "6.13.a=40").expect("valid");
        assert_eq!(parsed, ("6.13".to_owned(), "a".to_owned(), json!(40)));
        let parsed = parse_set(&framework, "quan-1", "2.2.yes=true").expect("valid");
        assert_eq!(parsed.2, json!(true));
        let parsed = parse_set(&framework, "quan-1", "1.5.frequency=monthly").expect("valid");
        assert_eq!(parsed.2, json!("monthly"));
    }

    #[test]
    fn a_bad_set_names_what_is_wrong() {
        // The problems are the English catalogue's (the only language this binary's tests set).
        crate::text::set_lang(dti_i18n::Lang::En);
        let framework = framework();
        for (expression, expected) in [
            ("6.13.a", "no '='"),
            ("6=1", "no variable"),
            ("99.1.a=1", "indicator 99.1"),
            ("6.13.zz=1", "variable zz"),
            ("6.13.a=-5", "indicator 6.13, variable a"),
            ("2.2.yes=maybe", "indicator 2.2, variable yes"),
        ] {
            let problem = parse_set(&framework, "quan-1", expression).expect_err(expression);
            assert!(problem.contains(expected), "{expression}: {problem}");
        }
    }
}
