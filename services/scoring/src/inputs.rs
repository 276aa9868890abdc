//! A unit's current input to scoring, read from PostgreSQL: the values of its latest submitted
//! version (self-assessed), and those values with the verifiers' decisions on that version
//! applied (verified). Events only say that something changed; the input is always read here,
//! so a stale or redelivered event scores the same input again.
//!
//! Verified input, per indicator (table `verified_values`): `accepted` keeps the submitted
//! value; `overridden` replaces it with the verifier's values (or not applicable);
//! `evidence_insufficient` removes it (the indicator scores 0 as missing); no decision keeps the
//! submitted value.

use std::collections::HashMap;
use std::sync::Arc;

use dti_domain::framework::Framework;
use dti_domain::values::{decode_indicator_values, UnitValues};
use dti_domain::{RoundRef, UnitId};
use dti_scores::tables::stored_year;
use dti_scores::Basis;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use crate::ScoringError;

/// The SQL digest of the verifier decisions on submission `$s`, version `$v` (`''` without
/// decisions). The same expression is used where decisions are read and where the reconciler
/// looks for scores older than their decisions.
macro_rules! decisions_digest {
    ($s:literal, $v:literal) => {
        concat!(
            "(SELECT coalesce(md5(string_agg(dd.indicator_code || '|' || dd.decision || '|' || ",
            "coalesce(dd.variables::text, '') || '|' || dd.not_applicable::text, E'\\n' ",
            "ORDER BY dd.indicator_code)), '') FROM verified_values dd ",
            "WHERE dd.submission_id = ",
            $s,
            " AND dd.version = ",
            $v,
            ")"
        )
    };
}
pub(crate) use decisions_digest;

/// What identifies an input: scores computed from equal identities are equal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputIdentity {
    /// The unit's submission, none before it submitted.
    pub submission_id: Option<Uuid>,
    /// Submitted version, 0 before the first.
    pub version: i32,
    /// Digest of the verifier decisions applied ('' on the self-assessed basis).
    pub decisions_digest: String,
}

/// A unit's current input on one basis.
#[derive(Debug, Clone)]
pub struct UnitInput {
    /// Where it comes from.
    pub identity: InputIdentity,
    /// The values, validated against the round's framework.
    pub values: UnitValues,
}

impl UnitInput {
    /// The input of a unit that has submitted nothing: every indicator missing.
    pub fn nothing_submitted(unit: UnitId) -> Self {
        Self {
            identity: InputIdentity::default(),
            values: UnitValues::new(unit),
        }
    }
}

/// The current inputs of `units` of `round` on each of `bases`: one list per basis (in the
/// order of `bases`), each with every unit in the order of `units`. The submitted values are
/// read and validated once; the verified inputs apply the decisions to them.
pub async fn read_inputs(
    conn: &mut sqlx::PgConnection,
    framework: &Arc<Framework>,
    round: &RoundRef,
    units: &[UnitId],
    bases: &[Basis],
) -> Result<Vec<Vec<UnitInput>>, ScoringError> {
    let (heads, mut values) = read_submitted(conn, round, units).await?;
    let ids: Vec<Uuid> = heads.values().map(|(id, _)| *id).collect();
    let versions: Vec<i32> = heads.values().map(|(_, version)| *version).collect();
    let mut decisions = match bases.contains(&Basis::Verified) {
        true => read_decisions(conn, &ids, &versions).await?,
        false => HashMap::new(),
    };
    let mut submitted = units
        .iter()
        .map(|unit| {
            let Some(&(submission_id, version)) = heads.get(unit.as_str()) else {
                return Ok(UnitInput::nothing_submitted(unit.clone()));
            };
            let place = format!("round {round}, unit {unit}, version {version}");
            let decoded = decode_values(framework, unit, &place, values.remove(&submission_id))?;
            Ok(UnitInput {
                identity: InputIdentity {
                    submission_id: Some(submission_id),
                    version,
                    decisions_digest: String::new(),
                },
                values: decoded,
            })
        })
        .collect::<Result<Vec<_>, ScoringError>>()?;
    let mut per_basis = Vec::with_capacity(bases.len());
    for (i, basis) in bases.iter().enumerate() {
        let inputs = if i + 1 == bases.len() {
            std::mem::take(&mut submitted)
        } else {
            submitted.clone()
        };
        per_basis.push(match basis {
            Basis::SelfAssessed => inputs,
            Basis::Verified => inputs
                .into_iter()
                .map(|input| verified_input(framework, round, input, &mut decisions))
                .collect::<Result<Vec<_>, _>>()?,
        });
    }
    Ok(per_basis)
}

/// A unit's submitted input with the verifier decisions on its version applied.
fn verified_input(
    framework: &Framework,
    round: &RoundRef,
    mut input: UnitInput,
    decisions: &mut HashMap<Uuid, (String, Vec<DecisionRow>)>,
) -> Result<UnitInput, ScoringError> {
    let Some(submission_id) = input.identity.submission_id else {
        return Ok(input);
    };
    let Some((digest, unit_decisions)) = decisions.remove(&submission_id) else {
        return Ok(input);
    };
    let place = format!(
        "round {round}, unit {}, version {}",
        input.values.unit, input.identity.version
    );
    apply_decisions(framework, &mut input.values, &place, unit_decisions)?;
    input.identity.decisions_digest = digest;
    Ok(input)
}

/// An indicator's stored variables (none when it is declared not applicable).
type StoredVariables = Option<Json<Value>>;

/// One stored indicator value: code, variables, not-applicable reason.
type ValueRow = (String, StoredVariables, Option<String>);

/// A submission's latest version joined with one of its values (none for a version without
/// values).
type SubmittedRow = (
    String,
    Uuid,
    i32,
    Option<String>,
    StoredVariables,
    Option<String>,
);

/// Submission id and latest version of each unit that submitted (by unit id), and the values
/// of those versions (by submission), read in one statement.
async fn read_submitted(
    conn: &mut sqlx::PgConnection,
    round: &RoundRef,
    units: &[UnitId],
) -> Result<(HashMap<String, (Uuid, i32)>, HashMap<Uuid, Vec<ValueRow>>), ScoringError> {
    let names: Vec<&str> = units.iter().map(UnitId::as_str).collect();
    let rows: Vec<SubmittedRow> = sqlx::query_as(
        "SELECT s.unit_id, s.id, s.latest_version, v.indicator_code, v.variables, \
           v.not_applicable_reason \
         FROM submissions s LEFT JOIN submission_version_values v \
           ON v.submission_id = s.id AND v.version = s.latest_version \
         WHERE s.year = $1 AND s.framework = $2 AND s.unit_id = ANY($3) AND s.latest_version > 0",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(&names)
    .fetch_all(&mut *conn)
    .await
    .map_err(ScoringError::database("reading submitted values"))?;
    let mut heads = HashMap::new();
    let mut values: HashMap<Uuid, Vec<ValueRow>> = HashMap::new();
    for (unit, id, version, code, variables, reason) in rows {
        heads.entry(unit).or_insert((id, version));
        if let Some(code) = code {
            values
                .entry(id)
                .or_default()
                .push((code, variables, reason));
        }
    }
    Ok((heads, values))
}

/// One verifier decision: code, decision, variables, not applicable.
type DecisionRow = (String, String, StoredVariables, bool);

/// The decisions on each (submission, version) with their digest (read in one statement, so
/// the digest is the digest of exactly these decisions), by submission.
async fn read_decisions(
    conn: &mut sqlx::PgConnection,
    ids: &[Uuid],
    versions: &[i32],
) -> Result<HashMap<Uuid, (String, Vec<DecisionRow>)>, ScoringError> {
    let rows: Vec<(Uuid, String, String, String, StoredVariables, bool)> = sqlx::query_as(concat!(
        "SELECT d.submission_id, ",
        decisions_digest!("d.submission_id", "d.version"),
        ", d.indicator_code, d.decision, d.variables, d.not_applicable \
         FROM verified_values d \
         JOIN unnest($1::uuid[], $2::int[]) AS t(id, version) \
           ON d.submission_id = t.id AND d.version = t.version"
    ))
    .bind(ids)
    .bind(versions)
    .fetch_all(&mut *conn)
    .await
    .map_err(ScoringError::database("reading verifier decisions"))?;
    let mut by_submission: HashMap<Uuid, (String, Vec<DecisionRow>)> = HashMap::new();
    for (id, digest, code, decision, variables, not_applicable) in rows {
        let entry = by_submission
            .entry(id)
            .or_insert_with(|| (digest, Vec::new()));
        entry.1.push((code, decision, variables, not_applicable));
    }
    Ok(by_submission)
}

/// Decodes stored values with the validation `dtictl` uses.
fn decode_values(
    framework: &Framework,
    unit: &UnitId,
    place: &str,
    rows: Option<Vec<ValueRow>>,
) -> Result<UnitValues, ScoringError> {
    let mut decoded = UnitValues::new(unit.clone());
    let mut problems = Vec::new();
    for (code, variables, reason) in rows.unwrap_or_default() {
        match (reason, variables) {
            (Some(_), _) => match framework.indicator_by_str(&code) {
                Some(indicator) => {
                    decoded.not_applicable.insert(indicator.code.clone());
                }
                None => problems.push(format!("indicator {code} is not in {}", framework.id)),
            },
            (None, Some(Json(variables))) => {
                match decode_indicator(framework, unit, &code, &variables) {
                    Ok((code, values)) => {
                        decoded.values.insert(code, values);
                    }
                    Err(problem) => problems.push(problem),
                }
            }
            (None, None) => {
                problems.push(format!("indicator {code} has neither values nor a reason"))
            }
        }
    }
    if problems.is_empty() {
        Ok(decoded)
    } else {
        Err(ScoringError::StoredInput {
            place: place.to_owned(),
            problems: problems.join("; "),
        })
    }
}

/// Decodes one indicator's stored JSON variables.
fn decode_indicator(
    framework: &Framework,
    unit: &UnitId,
    code: &str,
    variables: &Value,
) -> Result<
    (
        dti_domain::IndicatorCode,
        dti_domain::values::IndicatorValues,
    ),
    String,
> {
    let indicator = framework
        .indicator_by_str(code)
        .ok_or_else(|| format!("indicator {code} is not in {}", framework.id))?;
    let object = variables
        .as_object()
        .ok_or_else(|| format!("indicator {code}: values are not an object"))?;
    let decoded = decode_indicator_values(
        unit.as_str(),
        indicator,
        object.iter().map(|(k, v)| (k.clone(), v.clone())),
    );
    let errors: Vec<String> = decoded
        .issues
        .iter()
        .filter(|issue| issue.is_error())
        .map(ToString::to_string)
        .collect();
    match decoded.value {
        Some(values) if errors.is_empty() => Ok((indicator.code.clone(), values)),
        _ => Err(errors.join("; ")),
    }
}

/// Applies the verifier decisions to the submitted values.
fn apply_decisions(
    framework: &Framework,
    values: &mut UnitValues,
    place: &str,
    decisions: Vec<DecisionRow>,
) -> Result<(), ScoringError> {
    let unit = values.unit.clone();
    let fail = |problem: String| ScoringError::StoredInput {
        place: place.to_owned(),
        problems: problem,
    };
    for (code, decision, variables, not_applicable) in decisions {
        let indicator = framework.indicator_by_str(&code).ok_or_else(|| {
            fail(format!(
                "decision on indicator {code}, which is not in {}",
                framework.id
            ))
        })?;
        let code = indicator.code.clone();
        match decision.as_str() {
            "accepted" => {}
            "evidence_insufficient" => {
                values.values.remove(&code);
                values.not_applicable.remove(&code);
            }
            "overridden" => {
                values.values.remove(&code);
                values.not_applicable.remove(&code);
                if not_applicable {
                    values.not_applicable.insert(code);
                } else {
                    let Json(variables) = variables
                        .ok_or_else(|| fail(format!("override of {code} has no values")))?;
                    let (code, decoded) =
                        decode_indicator(framework, &unit, code.as_str(), &variables)
                            .map_err(fail)?;
                    values.values.insert(code, decoded);
                }
            }
            other => return Err(fail(format!("unknown decision {other:?} on {code}"))),
        }
    }
    Ok(())
}
