//! What-if scoring: the caller's own latest submitted values with a hypothetical change
//! (values replaced, indicators declared not applicable or cleared), validated like any
//! submitted value and scored by the engine against the current cohort — each min-max range
//! taken over the other units' stored x and the unit's hypothetical x. Nothing is stored.

use std::collections::BTreeMap;

use dti_auth::Principal;
use dti_domain::framework::Framework;
use dti_domain::ids::IndicatorCode;
use dti_domain::values::{decode_indicator_values, UnitValues};
use dti_domain::{RoundRef, UnitId};
use dti_engine::cohort::unit_x;
use dti_engine::rules::MinMaxRange;
use dti_engine::{score_unit, CohortStats, Explain};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::scoring::v1 as pb;
use dti_scores::visibility::Reader;
use dti_scores::{Basis, FrameworkLayout};
use dti_service_kit::status::{FieldViolation, InvalidRequest};

use crate::inputs::{read_inputs, UnitInput};
use crate::scorecard::{Card, ScoreReader};
use crate::store;
use crate::ScoringError;

/// A hypothetical change to a unit's values.
#[derive(Debug, Clone, Default)]
pub struct WhatIfChange {
    /// Indicators whose values are replaced.
    pub values: Vec<common::IndicatorValue>,
    /// Indicators declared not applicable.
    pub not_applicable: Vec<String>,
    /// Indicators whose values or not-applicable mark are removed.
    pub cleared: Vec<String>,
}

impl ScoreReader {
    /// Scores `unit`'s self-assessed values as they are and with `change`; only the unit's own
    /// submitter may ask, once the round shows units their scores.
    #[tracing::instrument(skip(self, principal, change), fields(round = %round, unit = %unit))]
    pub async fn what_if(
        &self,
        principal: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        change: &WhatIfChange,
    ) -> Result<pb::WhatIfResponse, ScoringError> {
        if Reader::of(principal)?.own_unit() != Some(unit.as_str()) {
            return Err(ScoringError::permission_denied(
                dti_i18n::Message::new("scoring-what-if-unit-only")
                    .arg("unit", unit.to_string())
                    .into(),
            ));
        }
        let layout = self.authorized_layout(principal, round, unit).await?;
        let framework = layout.framework();
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(ScoringError::database("reading a unit's values"))?;
        let head = dti_scores::tables::read_head(&mut *conn, round, Basis::SelfAssessed).await?;
        let cohort_version = head.map_or(0, |head| head.version);
        let input = read_inputs(
            &mut conn,
            framework,
            round,
            std::slice::from_ref(unit),
            &[Basis::SelfAssessed],
        )
        .await?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_else(|| UnitInput::nothing_submitted(unit.clone()));
        let changed = apply_change(framework, &input.values, change)?;
        let mut cards = Vec::with_capacity(2);
        for values in [input.values.as_ref(), &changed] {
            let stats = stats_with(&mut conn, &layout, round, values).await?;
            let scored = score_unit(framework, &stats, values, Explain::Full)?;
            let (indicators, groups) = Card::indicators_of(&layout, &scored)?;
            let card = Card {
                round,
                unit,
                basis: Basis::SelfAssessed,
                input_version: u32::try_from(input.identity.version).map_err(|_| {
                    dti_scores::ScoresError::corrupt(
                        format!("round {round}, unit {unit}"),
                        format!("input version {} is not a version", input.identity.version),
                    )
                })?,
                cohort_version,
                indicators,
                groups,
                total: scored.total,
                stats: &stats,
                scored_at: None,
            };
            cards.push(card.into_proto(&layout));
        }
        let hypothetical = cards.pop();
        let current = cards.pop();
        let change_cents = hypothetical.as_ref().map_or(0, |card| card.total_cents)
            - current.as_ref().map_or(0, |card| card.total_cents);
        Ok(pb::WhatIfResponse {
            current,
            hypothetical,
            total_change_cents: change_cents,
        })
    }
}

/// The cohort's ranges with `values` as the unit's input: each range over the other units'
/// stored x and the unit's own x.
async fn stats_with(
    conn: &mut sqlx::PgConnection,
    layout: &FrameworkLayout,
    round: &RoundRef,
    values: &UnitValues,
) -> Result<CohortStats, ScoringError> {
    let unit = &values.unit;
    let mut ranges: BTreeMap<IndicatorCode, MinMaxRange> = BTreeMap::new();
    for (indicator, _) in layout.cohort_indicators() {
        let code = &indicator.code;
        let basis = Basis::SelfAssessed;
        let others = store::x_bounds(conn, round, basis, code, Some(unit)).await?;
        let counted = store::x_count(conn, round, basis, code, Some(unit)).await?;
        let own = unit_x(indicator, values)?;
        let range = match (others, own) {
            (None, None) => continue,
            (None, Some(x)) => MinMaxRange {
                min: x.clone(),
                max: x,
                count: 1,
            },
            (Some((min, max)), None) => MinMaxRange {
                min,
                max,
                count: counted,
            },
            (Some((min, max)), Some(x)) => MinMaxRange {
                min: if x < min { x.clone() } else { min },
                max: if x > max { x } else { max },
                count: counted + 1,
            },
        };
        ranges.insert(code.clone(), range);
    }
    Ok(CohortStats::from_ranges(ranges))
}

/// `base` with `change` applied; every invalid part of the change is reported at once.
fn apply_change(
    framework: &Framework,
    base: &UnitValues,
    change: &WhatIfChange,
) -> Result<UnitValues, ScoringError> {
    let unit = base.unit.as_str();
    let mut violations = Vec::new();
    let mut values = base.clone();
    let mut touched: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |code: &str, field: String, violations: &mut Vec<FieldViolation>| -> bool {
        match touched.insert(code.to_owned(), field.clone()) {
            Some(first) => {
                violations.push(FieldViolation::new(
                    field,
                    format!("indicator {code} is already changed by {first}"),
                ));
                false
            }
            None => true,
        }
    };
    for (i, value) in change.values.iter().enumerate() {
        let field = format!("values[{i}].indicator_code");
        let Some(indicator) =
            scored_indicator(framework, &value.indicator_code, &field, &mut violations)
        else {
            continue;
        };
        if !claim(
            indicator.code.as_str(),
            format!("values[{i}]"),
            &mut violations,
        ) {
            continue;
        }
        let mut variables = Vec::with_capacity(value.variables.len());
        for (name, variable) in &value.variables {
            match dti_proto::convert::variable_to_json(variable) {
                Ok(json) => variables.push((name.clone(), json)),
                Err(problem) => violations.push(FieldViolation::new(
                    format!(
                        "unit {unit} / indicator {} / variable {name}",
                        indicator.code
                    ),
                    problem,
                )),
            }
        }
        let decoded = decode_indicator_values(unit, indicator, variables);
        violations.extend(
            decoded
                .issues
                .iter()
                .filter(|issue| issue.is_error())
                .map(FieldViolation::from),
        );
        if let Some(decoded) = decoded.value {
            values.not_applicable.remove(&indicator.code);
            values.values.insert(indicator.code.clone(), decoded);
        }
    }
    for (i, code) in change.not_applicable.iter().enumerate() {
        let field = format!("not_applicable[{i}]");
        if let Some(indicator) = scored_indicator(framework, code, &field, &mut violations) {
            if claim(indicator.code.as_str(), field, &mut violations) {
                values.values.remove(&indicator.code);
                values.not_applicable.insert(indicator.code.clone());
            }
        }
    }
    for (i, code) in change.cleared.iter().enumerate() {
        let field = format!("cleared[{i}]");
        if let Some(indicator) = scored_indicator(framework, code, &field, &mut violations) {
            if claim(indicator.code.as_str(), field, &mut violations) {
                values.values.remove(&indicator.code);
                values.not_applicable.remove(&indicator.code);
            }
        }
    }
    if violations.is_empty() {
        Ok(values)
    } else {
        Err(ScoringError::from(InvalidRequest {
            summary: format!("the what-if change of unit {unit} is invalid"),
            violations,
        }))
    }
}

/// The scored top-level indicator `code` of `framework`, or a violation of `field`.
fn scored_indicator<'f>(
    framework: &'f Framework,
    code: &str,
    field: &str,
    violations: &mut Vec<FieldViolation>,
) -> Option<&'f dti_domain::framework::Indicator> {
    match framework.indicator_by_str(code) {
        Some(indicator) if indicator.parent.is_none() && indicator.rule.is_some() => {
            Some(indicator)
        }
        _ => {
            violations.push(FieldViolation::new(
                field,
                format!(
                    "{code:?} is not a scored indicator of framework {}",
                    framework.id
                ),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use dti_proto::dti::common::v1::variable_value::Value as ProtoValue;
    use dti_service_kit::service_error::Refusal;
    use std::collections::HashMap;

    fn count(n: u64) -> common::VariableValue {
        common::VariableValue {
            value: Some(ProtoValue::Count(n)),
        }
    }

    #[test]
    fn a_change_is_applied_or_every_problem_is_named() {
        let catalog = FrameworkCatalog::builtin().unwrap();
        let framework = catalog.get_str("hcm-2023-district").unwrap();
        let base = UnitValues::new(UnitId::parse("quan-1").unwrap());
        let good = WhatIfChange {
            values: vec![common::IndicatorValue {
                indicator_code: "1.2".into(),
                variables: HashMap::from([("a".into(), count(3)), ("b".into(), count(4))]),
            }],
            not_applicable: vec!["7.3".into()],
            cleared: vec!["5.1".into()],
        };
        let changed = apply_change(framework, &base, &good).unwrap();
        assert_eq!(changed.values.len(), 1);
        assert_eq!(changed.not_applicable.len(), 1);
        let bad = WhatIfChange {
            values: vec![common::IndicatorValue {
                indicator_code: "1.2".into(),
                variables: HashMap::from([("a".into(), count(3)), ("b".into(), count(0))]),
            }],
            not_applicable: vec!["1.2".into(), "99.9".into()],
            cleared: Vec::new(),
        };
        let ScoringError::Refused(Refusal::Invalid(InvalidRequest { violations, .. })) =
            apply_change(framework, &base, &bad).unwrap_err()
        else {
            panic!("expected invalid input");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert!(
            fields.contains(&"unit quan-1 / indicator 1.2 / variable b"),
            "{fields:?}"
        );
        assert!(fields.contains(&"not_applicable[0]"), "{fields:?}");
        assert!(fields.contains(&"not_applicable[1]"), "{fields:?}");
    }
}
