//! The rule of one indicator: its kind, the variables it reads and its parameters, checked
//! against the indicator's variables and points.

use super::super::model::*;
use super::Problems;
use crate::exact::Exact;
use crate::ids::IndicatorCode;
use num_traits::{One, Zero};
use std::collections::BTreeSet;

pub(super) fn check_rule(
    code: &IndicatorCode,
    table: &toml::Table,
    points: &Exact,
    variables: &[Variable],
    problems: &mut Problems,
) -> Option<Rule> {
    let mut params = table.clone();
    let kind = match params.remove("kind") {
        Some(toml::Value::String(kind)) => kind,
        _ => {
            problems.at(code, "rule needs a `kind`");
            return None;
        }
    };
    let rule = match Rule::from_kind(&kind, toml::Value::Table(params)) {
        Ok(Some(rule)) => rule,
        Ok(None) => {
            problems.at(
                code,
                format!(
                    "rule kind {kind:?} is not known; known kinds: {}",
                    RULE_KINDS.join(", ")
                ),
            );
            return None;
        }
        Err(e) => {
            problems.at(code, format!("rule {kind}: {}", e.to_string().trim_end()));
            return None;
        }
    };
    let before = problems.0.len();
    check_rule_variables(code, &rule, variables, problems);
    check_rule_parameters(code, &rule, points, variables, problems);
    (problems.0.len() == before).then_some(rule)
}

fn check_rule_variables(
    code: &IndicatorCode,
    rule: &Rule,
    variables: &[Variable],
    problems: &mut Problems,
) {
    let referenced = rule.referenced_variables();
    for (name, need) in &referenced {
        match variables.iter().find(|v| &v.name == *name) {
            None => problems.at(
                code,
                format!("rule uses variable {name}, which is not declared"),
            ),
            Some(v) if !need.accepts(&v.ty) => problems.at(
                code,
                format!(
                    "rule needs variable {name} to be a {}, but it is declared {}",
                    need.name(),
                    v.ty.name()
                ),
            ),
            Some(_) => {}
        }
    }
    for v in variables {
        if !referenced.iter().any(|(name, _)| *name == &v.name) {
            problems.at(
                code,
                format!(
                    "variable {} is declared but the rule does not use it",
                    v.name
                ),
            );
        }
    }
    for (numerator, denominator) in rule.fractions() {
        if numerator.is_empty() || denominator.is_empty() {
            problems.at(
                code,
                "a fraction needs at least one numerator and one denominator variable",
            );
        }
    }
}

fn check_rule_parameters(
    code: &IndicatorCode,
    rule: &Rule,
    points: &Exact,
    variables: &[Variable],
    problems: &mut Problems,
) {
    let one = Exact(num_rational::BigRational::one());
    let mut share = |what: &str, value: &Exact| {
        if !value.is_share() {
            problems.at(code, format!("{what} {value} must lie between 0 and 1"));
        }
    };
    match rule {
        Rule::Target(t) | Rule::AllOrNothing(t) => share("threshold", &t.threshold),
        Rule::Tiers(t) => {
            for tier in &t.tiers {
                share("tier start", &tier.above);
            }
        }
        Rule::Levels(_, l) => l.levels.values().for_each(|s| share("level share", s)),
        Rule::PortalPosts(p) => p.bands.iter().for_each(|b| share("band share", &b.share)),
        Rule::PortalTech(t) => t.flags.iter().for_each(|f| share("flag share", &f.share)),
        Rule::Activities(a) => share("min_resolved_share", &a.min_resolved_share),
        _ => {}
    }
    let positive = |value: &Exact| value.0 > num_rational::BigRational::zero();
    match rule {
        Rule::Target(t) if !positive(&t.threshold) => {
            problems.at(code, "threshold must be above 0")
        }
        Rule::Growth(g) if !positive(&g.threshold) => {
            problems.at(code, "threshold must be above 0")
        }
        Rule::Tiers(t) => {
            if t.tiers.is_empty() {
                problems.at(code, "tiers_3_3 needs at least one tier");
            }
            for tier in &t.tiers {
                if tier.points > *points || tier.points < Exact::zero() {
                    problems.at(
                        code,
                        format!(
                            "tier points {} must lie between 0 and the indicator's {points}",
                            tier.points
                        ),
                    );
                }
            }
            if t.tiers.windows(2).any(|w| w[0].above < w[1].above) {
                problems.at(code, "tiers must be listed highest first");
            }
        }
        Rule::SplitHalves(s) if s.parts.is_empty() => problems.at(code, "split_halves needs parts"),
        Rule::PortalPosts(p) => {
            if p.bands.is_empty() || p.bands.last().is_some_and(|b| b.at_least != 0) {
                problems.at(code, "portal_posts bands must end with a band at_least = 0");
            }
            if p.bands.windows(2).any(|w| w[0].at_least <= w[1].at_least) {
                problems.at(code, "portal_posts bands must be listed highest first");
            }
        }
        Rule::PortalTech(t) => {
            let total = t
                .flags
                .iter()
                .fold(Exact::zero(), |acc, f| Exact(acc.0 + &f.share.0));
            if total > one {
                problems.at(
                    code,
                    format!("portal_tech shares add up to {total}, more than 1"),
                );
            }
        }
        Rule::Levels(_, l) => {
            let choices = variables
                .iter()
                .find(|v| v.name == l.variable)
                .and_then(|v| match &v.ty {
                    VariableType::Choice { choices } => {
                        Some(choices.iter().cloned().collect::<BTreeSet<_>>())
                    }
                    _ => None,
                });
            let levels: BTreeSet<String> = l.levels.keys().cloned().collect();
            if let Some(choices) = choices {
                if choices != levels {
                    problems.at(
                        code,
                        format!(
                            "levels {levels:?} must match the choices {choices:?} of {}",
                            l.variable
                        ),
                    );
                }
            }
        }
        _ => {}
    }
}
