//! One pure function per rule kind. [`apply`] does the arithmetic only: the unit's validated
//! values (and, for min-max rules, the cohort's range) in, the exact unrounded score and a
//! [`Trace`] of the numbers used out. [`describe`] turns a trace into the explanation a unit
//! reads; it runs only when an explanation is asked for, so bulk scoring stays fast.

use crate::explain::{Detail, ExactView, PartView};
use crate::number::Num;
use dti_domain::exact::Exact;
use dti_domain::framework::{PostsBand, Rule, Tier};
use dti_domain::ids::VariableName;
use dti_domain::values::{IndicatorValues, VariableValue};
use std::collections::BTreeMap;

type Q = Num;

/// The cohort's range of a min-max indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinMaxRange {
    /// Smallest x among units that submitted values.
    pub min: Q,
    /// Largest x.
    pub max: Q,
    /// How many units submitted values.
    pub count: usize,
}

/// An evaluated fraction: numerator and denominator sums and the exact ratio.
#[derive(Debug, Clone)]
pub struct Evaluated {
    numerator: u128,
    denominator: u128,
    ratio: Q,
}

/// The numbers a rule used, kept so an explanation can be rendered later.
#[derive(Debug, Clone)]
pub enum Trace {
    /// `ratio`.
    Ratio(Evaluated),
    /// `target` and `all_or_nothing`.
    Threshold(Evaluated, bool),
    /// `tiers_3_3`: the index of the tier reached.
    Tier(Evaluated, Option<usize>),
    /// `split_halves`: each part and the points it earned.
    Parts(Vec<(Evaluated, Q)>),
    /// `boolean`.
    Flag(bool),
    /// levels: the choice.
    Level(String),
    /// `portal_posts`: section, posts, band index.
    Posts(bool, u64, Option<usize>),
    /// `portal_tech`: each flag's value.
    Flags(Vec<bool>),
    /// `growth`: the ratio and g.
    Growth(Evaluated, Q, bool),
    /// min-max: the unit's x, its fraction for ratios, and the range.
    MinMax(Q, Option<Evaluated>, MinMaxRange),
    /// `activities`: how many were reported, the effective ones (1-based), capped.
    Activities(usize, Vec<usize>, bool),
}

/// The exact result of applying a rule.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    /// Unrounded score in [0, P].
    pub raw: Q,
    /// What was computed.
    pub trace: Trace,
}

impl RuleOutcome {
    /// The ratio the rule computed, before clamping, when it has one.
    pub fn ratio(&self) -> Option<&Q> {
        match &self.trace {
            Trace::Ratio(e)
            | Trace::Threshold(e, _)
            | Trace::Tier(e, _)
            | Trace::Growth(e, _, _) => Some(&e.ratio),
            Trace::MinMax(_, Some(e), _) => Some(&e.ratio),
            _ => None,
        }
    }

    /// Whether a ratio was clamped to [0, 1] on the way.
    pub fn clamped(&self) -> bool {
        let over = |e: &Evaluated| e.ratio > Q::one();
        match &self.trace {
            Trace::Ratio(e) | Trace::MinMax(_, Some(e), _) => over(e),
            Trace::Parts(parts) => parts.iter().any(|(e, _)| over(e)),
            Trace::Growth(_, g, reached) => !reached && g.is_negative(),
            _ => false,
        }
    }
}

fn q(n: usize) -> Q {
    // `usize` is at most 64 bits wide, so every count fits in `i128`.
    Num::int(i128::try_from(n).expect("a count fits in i128"))
}

fn clamp01(value: &Q) -> Q {
    value.clamp01()
}

fn exact(value: &Exact) -> Q {
    Num::from(value)
}

fn missing(name: &VariableName) -> String {
    format!("variable {name} is missing or of the wrong type")
}

fn count(values: &IndicatorValues, name: &VariableName) -> Result<u64, String> {
    values
        .get(name)
        .and_then(VariableValue::as_count)
        .ok_or_else(|| missing(name))
}

fn flag(values: &IndicatorValues, name: &VariableName) -> Result<bool, String> {
    values
        .get(name)
        .and_then(VariableValue::as_flag)
        .ok_or_else(|| missing(name))
}

fn evaluate(
    values: &IndicatorValues,
    numerator: &[VariableName],
    denominator: &[VariableName],
) -> Result<Evaluated, String> {
    let sum = |vars: &[VariableName]| -> Result<u128, String> {
        vars.iter().map(|v| count(values, v).map(u128::from)).sum()
    };
    let (num, den) = (sum(numerator)?, sum(denominator)?);
    if den == 0 {
        return Err(format!(
            "denominator {} is zero",
            formula(numerator, denominator)
        ));
    }
    Ok(Evaluated {
        numerator: num,
        denominator: den,
        ratio: Num::ratio(num, den),
    })
}

fn tier_reached(tier: &Tier, ratio: &Q) -> bool {
    if tier.inclusive {
        *ratio >= exact(&tier.above)
    } else {
        *ratio > exact(&tier.above)
    }
}

/// The x a min-max rule ranks the unit by: clamp(num/den) or the count.
pub fn minmax_x(rule: &Rule, values: &IndicatorValues) -> Result<Option<Q>, String> {
    match rule {
        Rule::MinmaxRatio(f) => Ok(Some(clamp01(
            &evaluate(values, &f.numerator, &f.denominator)?.ratio,
        ))),
        Rule::MinmaxCount(v) => Ok(Some(Num::int(count(values, &v.variable)?))),
        _ => Ok(None),
    }
}

/// Applies a rule to a unit's values. `range` is the cohort's range for min-max rules.
pub fn apply(
    rule: &Rule,
    points: &Q,
    values: &IndicatorValues,
    range: Option<&MinMaxRange>,
) -> Result<RuleOutcome, String> {
    let outcome = |raw: Q, trace: Trace| Ok(RuleOutcome { raw, trace });
    match rule {
        Rule::Ratio(f) => {
            let e = evaluate(values, &f.numerator, &f.denominator)?;
            outcome(clamp01(&e.ratio) * points, Trace::Ratio(e))
        }
        Rule::Target(t) => {
            let e = evaluate(values, &t.numerator, &t.denominator)?;
            let threshold = exact(&t.threshold);
            let reached = e.ratio >= threshold;
            let raw = if reached {
                points.clone()
            } else {
                clamp01(&(&e.ratio / &threshold)) * points
            };
            outcome(raw, Trace::Threshold(e, reached))
        }
        Rule::AllOrNothing(t) => {
            let e = evaluate(values, &t.numerator, &t.denominator)?;
            let reached = e.ratio >= exact(&t.threshold);
            outcome(
                if reached { points.clone() } else { Q::zero() },
                Trace::Threshold(e, reached),
            )
        }
        Rule::Tiers(t) => {
            let e = evaluate(values, &t.numerator, &t.denominator)?;
            let index = t.tiers.iter().position(|tier| tier_reached(tier, &e.ratio));
            let raw = index.map_or_else(Q::zero, |i| exact(&t.tiers[i].points));
            outcome(raw, Trace::Tier(e, index))
        }
        Rule::SplitHalves(s) => {
            let part_points = points / q(s.parts.len());
            let mut parts = Vec::with_capacity(s.parts.len());
            let mut raw = Q::zero();
            for part in &s.parts {
                let e = evaluate(values, &part.numerator, &part.denominator)?;
                let earned = clamp01(&e.ratio) * &part_points;
                raw += &earned;
                parts.push((e, earned));
            }
            outcome(raw, Trace::Parts(parts))
        }
        Rule::Boolean(v) => {
            let yes = flag(values, &v.variable)?;
            outcome(
                if yes { points.clone() } else { Q::zero() },
                Trace::Flag(yes),
            )
        }
        Rule::Levels(_, l) => {
            let choice = values
                .get(&l.variable)
                .and_then(VariableValue::as_choice)
                .ok_or_else(|| missing(&l.variable))?;
            let share = l
                .levels
                .get(choice)
                .ok_or_else(|| format!("{choice:?} is not a level of {}", l.variable))?;
            outcome(exact(share) * points, Trace::Level(choice.to_string()))
        }
        Rule::PortalPosts(p) => {
            let has_section = flag(values, &p.section)?;
            let posts = count(values, &p.count)?;
            let band = if has_section {
                p.bands.iter().position(|b| posts >= b.at_least)
            } else {
                None
            };
            let raw = band.map_or_else(Q::zero, |i| exact(&p.bands[i].share) * points);
            outcome(raw, Trace::Posts(has_section, posts, band))
        }
        Rule::PortalTech(t) => {
            let flags = t
                .flags
                .iter()
                .map(|f| flag(values, &f.variable))
                .collect::<Result<Vec<_>, _>>()?;
            let share: Q = t
                .flags
                .iter()
                .zip(&flags)
                .filter(|(_, on)| **on)
                .map(|(f, _)| exact(&f.share))
                .sum();
            outcome(share * points, Trace::Flags(flags))
        }
        Rule::Growth(g) => {
            let e = evaluate(
                values,
                std::slice::from_ref(&g.current),
                std::slice::from_ref(&g.previous),
            )?;
            let growth = &e.ratio - Q::one();
            let threshold = exact(&g.threshold);
            let reached = growth >= threshold;
            let raw = if reached {
                points.clone()
            } else {
                clamp01(&(&growth / &threshold)) * points
            };
            outcome(raw, Trace::Growth(e, growth, reached))
        }
        Rule::MinmaxRatio(_) | Rule::MinmaxCount(_) => {
            let x = minmax_x(rule, values)?.ok_or("not a min-max rule")?;
            let range = range.ok_or("the cohort range of a min-max indicator is missing")?;
            let raw = if range.min == range.max {
                if x.is_positive() {
                    points.clone()
                } else {
                    Q::zero()
                }
            } else {
                (&x - &range.min) / (&range.max - &range.min) * points
            };
            let fraction = match rule {
                Rule::MinmaxRatio(f) => Some(evaluate(values, &f.numerator, &f.denominator)?),
                _ => None,
            };
            outcome(raw, Trace::MinMax(x, fraction, range.clone()))
        }
        Rule::Activities(a) => {
            let list = values
                .get(&a.variable)
                .and_then(VariableValue::as_activities)
                .ok_or_else(|| missing(&a.variable))?;
            let min_share = exact(&a.min_resolved_share);
            let effective: Vec<usize> = list
                .iter()
                .enumerate()
                .filter(|(_, act)| {
                    act.reports > 0
                        && Num::ratio(act.resolved.into(), act.reports.into()) >= min_share
                })
                .map(|(i, _)| i + 1)
                .collect();
            let earned = exact(&a.points_each) * q(effective.len());
            let capped = earned > *points;
            let raw = if capped { points.clone() } else { earned };
            outcome(raw, Trace::Activities(list.len(), effective, capped))
        }
    }
}

fn show(value: &Q) -> String {
    value.to_decimal_string(6)
}

fn view(value: &Q) -> ExactView {
    ExactView::from(value)
}

fn formula(numerator: &[VariableName], denominator: &[VariableName]) -> String {
    let side = |vars: &[VariableName]| {
        let joined = vars
            .iter()
            .map(VariableName::as_str)
            .collect::<Vec<_>>()
            .join("+");
        if vars.len() > 1 {
            format!("({joined})")
        } else {
            joined
        }
    };
    format!("{}/{}", side(numerator), side(denominator))
}

fn text(formula: &str, e: &Evaluated) -> String {
    format!(
        "{formula} = {}/{} = {}",
        e.numerator,
        e.denominator,
        show(&e.ratio)
    )
}

fn posts_band(band: Option<usize>, bands: &[PostsBand]) -> Option<&PostsBand> {
    band.and_then(|i| bands.get(i))
}

/// Renders a trace as the rule-specific detail and a one-line summary (without rounding).
pub fn describe(rule: &Rule, points: &Q, outcome: &RuleOutcome) -> (Detail, String) {
    let raw = &outcome.raw;
    let fractions = rule.fractions();
    let first = fractions
        .first()
        .map(|(n, d)| formula(n, d))
        .unwrap_or_default();
    match (&outcome.trace, rule) {
        (Trace::Ratio(e), _) => {
            let capped = if e.ratio > Q::one() { " (capped at 1)" } else { "" };
            (Detail::Plain, format!("{}{capped}; {} × {} = {}", text(&first, e), show(&clamp01(&e.ratio)), show(points), show(raw)))
        }
        (Trace::Threshold(e, reached), Rule::Target(t)) => {
            let summary = if *reached {
                format!("{} ≥ {} → full {}", text(&first, e), show(&exact(&t.threshold)), show(points))
            } else {
                format!("{} < {}; {}/{} × {} = {}", text(&first, e), show(&exact(&t.threshold)), show(&e.ratio), show(&exact(&t.threshold)), show(points), show(raw))
            };
            (Detail::Threshold { threshold: view(&exact(&t.threshold)), reached: *reached }, summary)
        }
        (Trace::Threshold(e, reached), Rule::AllOrNothing(t)) => (
            Detail::Threshold { threshold: view(&exact(&t.threshold)), reached: *reached },
            format!("{} {} {} → {}", text(&first, e), if *reached { "≥" } else { "<" }, show(&exact(&t.threshold)), show(raw)),
        ),
        (Trace::Tier(e, index), Rule::Tiers(t)) => {
            let label = index.and_then(|i| t.tiers.get(i)).map(|tier| format!("{} {}", if tier.inclusive { "≥" } else { ">" }, show(&exact(&tier.above))));
            let summary = match &label {
                Some(l) => format!("{}; tier {l} → {}", text(&first, e), show(raw)),
                None => format!("{}; below every tier → 0", text(&first, e)),
            };
            (Detail::Tier { tier: label, tier_points: view(raw) }, summary)
        }
        (Trace::Parts(parts), Rule::SplitHalves(s)) => {
            let part_points = points / q(s.parts.len());
            let mut views = Vec::new();
            let mut texts = Vec::new();
            for ((e, earned), part) in parts.iter().zip(&s.parts) {
                let f = formula(&part.numerator, &part.denominator);
                texts.push(format!("{} × {} = {}", text(&f, e), show(&part_points), show(earned)));
                views.push(PartView { formula: f, ratio: view(&clamp01(&e.ratio)), points: view(earned) });
            }
            (Detail::Parts { parts: views }, format!("{}; sum {}", texts.join("; "), show(raw)))
        }
        (Trace::Flag(yes), Rule::Boolean(v)) => (Detail::Plain, format!("{} = {yes} → {}", v.variable, show(raw))),
        (Trace::Level(choice), Rule::Levels(_, l)) => {
            let share = l.levels.get(choice).map(exact).unwrap_or_else(Q::zero);
            (
                Detail::Level { choice: choice.clone(), share: view(&share) },
                format!("{} = {choice} → {} × {} = {}", l.variable, show(&share), show(points), show(raw)),
            )
        }
        (Trace::Posts(has_section, posts, band), Rule::PortalPosts(p)) => {
            let band = posts_band(*band, &p.bands);
            let share = band.map_or_else(Q::zero, |b| exact(&b.share));
            let summary = match band {
                None if !has_section => format!("{} = false → 0", p.section),
                None => format!("{} = {posts} reaches no band → 0", p.count),
                Some(b) => format!("{} = {posts} ≥ {} → {} × {} = {}", p.count, b.at_least, show(&share), show(points), show(raw)),
            };
            (Detail::Posts { has_section: *has_section, posts: *posts, band_at_least: band.map(|b| b.at_least), share: view(&share) }, summary)
        }
        (Trace::Flags(flags), Rule::PortalTech(t)) => {
            let mut earned = BTreeMap::new();
            let mut texts = Vec::new();
            for (f, on) in t.flags.iter().zip(flags) {
                let part = if *on { exact(&f.share) } else { Q::zero() };
                texts.push(format!("{} = {on} → {}", f.variable, show(&part)));
                earned.insert(f.variable.to_string(), view(&part));
            }
            (Detail::Flags { earned }, format!("{}; total {}", texts.join(", "), show(raw)))
        }
        (Trace::Growth(e, growth, reached), Rule::Growth(g)) => {
            let t = &exact(&g.threshold);
            let summary = if *reached {
                format!("g = {} − 1 = {} ≥ {} → full {}", text(&first, e), show(growth), show(t), show(points))
            } else {
                format!("g = {} − 1 = {} < {}; clamp(g/{}) × {} = {}", text(&first, e), show(growth), show(t), show(t), show(points), show(raw))
            };
            (Detail::Growth { growth: view(growth), threshold: view(t), reached: *reached }, summary)
        }
        (Trace::MinMax(x, fraction, range), _) => {
            let all_equal = range.min == range.max;
            let x_text = match fraction {
                Some(e) => format!("x = clamp({})", text(&first, e)),
                None => format!("x = {}", show(x)),
            };
            let summary = if all_equal {
                format!("{x_text}; all {} units that reported have the same x → {}", range.count, show(raw))
            } else {
                format!(
                    "{x_text}; (x − min)/(max − min) × {} with min {} and max {} over {} units = {}",
                    show(points),
                    show(&range.min),
                    show(&range.max),
                    range.count,
                    show(raw)
                )
            };
            (
                Detail::MinMax { x: view(x), min: view(&range.min), max: view(&range.max), units_counted: range.count, all_equal },
                summary,
            )
        }
        (Trace::Activities(reported, effective, capped), Rule::Activities(a)) => (
            Detail::Activities {
                reported: *reported,
                effective: effective.clone(),
                min_resolved_share: view(&exact(&a.min_resolved_share)),
                points_each: view(&exact(&a.points_each)),
                capped: *capped,
            },
            format!(
                "{} of {reported} activities have reports > 0 and resolved/reports ≥ {}; {} × {}{} = {}",
                effective.len(),
                show(&exact(&a.min_resolved_share)),
                effective.len(),
                show(&exact(&a.points_each)),
                if *capped { format!(", capped at {}", show(points)) } else { String::new() },
                show(raw)
            ),
        ),
        _ => (Detail::Plain, format!("→ {}", show(raw))),
    }
}
