//! Deterministic sample cohorts generated from a framework's data: plausible values for every
//! variable (numerators within their denominators, no zero denominators), with a few indicators
//! missing or not applicable. Used by demos, benchmarks and property tests; the same seed always
//! gives the same cohort.

use crate::framework::{Framework, Indicator, Rule, VariableType};
use crate::ids::VariableName;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A small deterministic generator (SplitMix64), enough for sample data.
#[derive(Debug, Clone)]
pub struct SampleRng(u64);

impl SampleRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low + 1)
    }

    /// One of `items`, each as likely, or `None` when there are none; it draws as
    /// `between(0, items.len() - 1)` does.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let last = u64::try_from(items.len().saturating_sub(1)).ok()?;
        let index = usize::try_from(self.between(0, last)).ok()?;
        items.get(index)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.between(1, 100) <= percent
    }
}

/// Options for a generated cohort.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    /// Number of units.
    pub units: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Unit ids are this prefix plus a zero-padded number, unless `unit_ids` is given.
    pub unit_prefix: String,
    /// Explicit unit ids (e.g. a real cohort's members), used before the prefix.
    pub unit_ids: Vec<String>,
    /// Percent of indicators left without values.
    pub missing_percent: u64,
    /// Percent of indicators declared not applicable.
    pub not_applicable_percent: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        Self {
            units: 22,
            seed: 2023,
            unit_prefix: "UNIT-".into(),
            unit_ids: Vec::new(),
            missing_percent: 4,
            not_applicable_percent: 3,
        }
    }
}

/// Generates a cohort document in `dtictl score`'s input format.
pub fn sample_cohort(framework: &Framework, options: &SampleOptions) -> Value {
    let mut rng = SampleRng::new(options.seed);
    let width = options.units.to_string().len().max(3);
    let units: Vec<Value> = (0..options.units)
        .map(|i| {
            let id = options
                .unit_ids
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("{}{:0width$}", options.unit_prefix, i + 1));
            sample_unit(framework, &id, options, &mut rng)
        })
        .collect();
    json!({"framework": framework.id, "units": units})
}

fn sample_unit(
    framework: &Framework,
    id: &str,
    options: &SampleOptions,
    rng: &mut SampleRng,
) -> Value {
    let mut values = Map::new();
    let mut not_applicable = Vec::new();
    for indicator in framework.top_level_indicators() {
        if indicator.rule.is_none() {
            continue;
        }
        if rng.chance(options.missing_percent) {
            continue;
        }
        if rng.chance(options.not_applicable_percent) {
            not_applicable.push(Value::String(indicator.code.to_string()));
            continue;
        }
        values.insert(
            indicator.code.to_string(),
            Value::Object(sample_indicator(indicator, rng)),
        );
    }
    json!({"unit": id, "values": values, "not_applicable": not_applicable})
}

/// Plausible values for one indicator.
pub fn sample_indicator(indicator: &Indicator, rng: &mut SampleRng) -> Map<String, Value> {
    let mut counts: BTreeMap<&VariableName, u64> = BTreeMap::new();
    if let Some(rule) = &indicator.rule {
        for (numerator, denominator) in rule.fractions() {
            let growth = matches!(rule, Rule::Growth(_));
            let mut den_total = 0;
            for name in denominator {
                let value = rng.between(1, 400);
                den_total += value;
                counts.insert(name, value);
            }
            let top = if growth {
                den_total + den_total / 3
            } else {
                den_total
            };
            let parts: u64 = numerator.iter().map(|_| 1).sum();
            let share = top / parts.max(1);
            for name in numerator {
                counts.insert(name, rng.between(0, share));
            }
        }
    }
    let mut values = Map::new();
    for variable in &indicator.variables {
        let value = match &variable.ty {
            VariableType::Count | VariableType::Money => {
                json!(counts
                    .get(&variable.name)
                    .copied()
                    .unwrap_or_else(|| rng.between(0, 60)))
            }
            VariableType::Bool => json!(rng.chance(60)),
            VariableType::Choice { choices } => {
                json!(rng.pick(choices))
            }
            VariableType::Activities => {
                let list: Vec<Value> = (0..rng.between(0, 25))
                    .map(|_| {
                        let reports = rng.between(0, 50);
                        json!({"reports": reports, "resolved": rng.between(reports / 2, reports)})
                    })
                    .collect();
                Value::Array(list)
            }
            VariableType::Decimal => {
                json!(format!("{}.{:02}", rng.between(0, 99), rng.between(0, 99)))
            }
            VariableType::Text => json!("mẫu"),
        };
        values.insert(variable.name.to_string(), value);
    }
    values
}
