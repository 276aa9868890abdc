//! Server-side SVG charts (no script): the totals of a cohort as bars, one unit's group scores
//! against the cohort's medians as paired bars, and the change in rank against the previous
//! year as bars either side of zero. The numbers printed are the published decimal strings;
//! `f64` is used for pixel positions only. Every chart has a `<title>` and `<desc>` and sits
//! beside a table holding the same numbers.

use dti_i18n::Message;
use maud::{html, Markup};

use crate::i18n::Lang;
use crate::results::{HalfCents, Ranking, ScorecardGroup};

const WIDTH: f64 = 720.0;
const LABEL_WIDTH: f64 = 210.0;
const VALUE_WIDTH: f64 = 70.0;
const BAR: f64 = 16.0;
const GAP: f64 = 8.0;
const TOP: f64 = 8.0;
/// Bars of the unit (dark blue on white: contrast above 7:1).
const UNIT_FILL: &str = "#1d4f91";
/// Bars of the cohort median (dark amber: contrast above 4.5:1).
const MEDIAN_FILL: &str = "#9a5b00";
/// Places gained.
const GAIN_FILL: &str = "#1b6e3a";
/// Places lost.
const LOSS_FILL: &str = "#a4262c";

/// A pixel length from a hundredths value against a maximum in hundredths.
fn scaled(value_cents: i64, max_cents: i64, span: f64) -> f64 {
    if max_cents <= 0 {
        return 0.0;
    }
    (value_cents.max(0) as f64 / max_cents as f64).min(1.0) * span
}

fn px(value: f64) -> String {
    format!("{value:.1}")
}

/// Bars of every unit's total, best first, scaled to the framework's maximum.
pub fn totals(ranking: &Ranking, max_total_cents: i64, lang: Lang, id: &str) -> Markup {
    let t = |key| lang.text(key);
    let span = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let height = TOP * 2.0 + ranking.rows.len() as f64 * (BAR + GAP);
    html! {
        svg class="chart" role="img" aria-labelledby={(id) "-title " (id) "-desc"}
            viewBox={"0 0 " (px(WIDTH)) " " (px(height))} preserveAspectRatio="xMinYMin meet"
            xmlns="http://www.w3.org/2000/svg" {
            title id={(id) "-title"} { (t("site-chart-totals")) }
            desc id={(id) "-desc"} {
                @for row in &ranking.rows { (row.rank) ". " (row.unit_name) ": " (lang.number(&row.total)) "; " }
            }
            @for (i, row) in ranking.rows.iter().enumerate() {
                @let y = TOP + i as f64 * (BAR + GAP);
                @let width = scaled(row.total_cents, max_total_cents, span);
                text x=(px(LABEL_WIDTH - 6.0)) y=(px(y + BAR - 3.0)) text-anchor="end" class="label" {
                    (row.rank) ". " (row.unit_name)
                }
                rect x=(px(LABEL_WIDTH)) y=(px(y)) width=(px(width)) height=(px(BAR)) fill=(UNIT_FILL) {}
                text x=(px(LABEL_WIDTH + width + 6.0)) y=(px(y + BAR - 3.0)) class="value" {
                    (lang.number(&row.total))
                }
            }
        }
    }
}

/// One unit's group scores (upper bar) against the cohort's medians (lower bar), each scaled
/// to the group's maximum.
pub fn groups_against_median(groups: &[ScorecardGroup], lang: Lang, id: &str) -> Markup {
    let t = |key| lang.text(key);
    let span = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let pair = BAR * 2.0 + 2.0;
    let legend = 28.0;
    let height = legend + TOP * 2.0 + groups.len() as f64 * (pair + GAP * 1.5);
    html! {
        svg class="chart" role="img" aria-labelledby={(id) "-title " (id) "-desc"}
            viewBox={"0 0 " (px(WIDTH)) " " (px(height))} preserveAspectRatio="xMinYMin meet"
            xmlns="http://www.w3.org/2000/svg" {
            title id={(id) "-title"} { (t("site-chart-groups")) }
            desc id={(id) "-desc"} {
                @for group in groups {
                    (lang.render(&Message::new("site-chart-groups-item")
                        .arg("code", &group.head.code)
                        .arg("score", lang.number(&group.score))
                        .arg("median", lang.number(&group.median.decimal())))) "; "
                }
            }
            rect x=(px(LABEL_WIDTH)) y="6" width="14" height="14" fill=(UNIT_FILL) {}
            text x=(px(LABEL_WIDTH + 20.0)) y="18" class="label" { (t("site-score")) }
            rect x=(px(LABEL_WIDTH + 140.0)) y="6" width="14" height="14" fill=(MEDIAN_FILL) {}
            text x=(px(LABEL_WIDTH + 160.0)) y="18" class="label" { (t("site-cohort-median")) }
            @for (i, group) in groups.iter().enumerate() {
                @let y = legend + TOP + i as f64 * (pair + GAP * 1.5);
                @let max = crate::results::parse_cents(&group.head.max_points).unwrap_or(0);
                @let score = crate::results::parse_cents(&group.score).unwrap_or(0);
                @let median = half_cents_floor(group.median);
                text x=(px(LABEL_WIDTH - 6.0)) y=(px(y + BAR + 2.0)) text-anchor="end" class="label" {
                    (lang.render(&Message::new("site-group-code").arg("code", &group.head.code)))
                }
                rect x=(px(LABEL_WIDTH)) y=(px(y)) width=(px(scaled(score, max, span))) height=(px(BAR)) fill=(UNIT_FILL) {}
                text x=(px(LABEL_WIDTH + scaled(score, max, span) + 6.0)) y=(px(y + BAR - 3.0)) class="value" {
                    (lang.number(&group.score))
                }
                rect x=(px(LABEL_WIDTH)) y=(px(y + BAR + 2.0)) width=(px(scaled(median, max, span))) height=(px(BAR)) fill=(MEDIAN_FILL) {}
                text x=(px(LABEL_WIDTH + scaled(median, max, span) + 6.0)) y=(px(y + 2.0 * BAR - 1.0)) class="value" {
                    (lang.number(&group.median.decimal()))
                }
            }
        }
    }
}

/// Hundredths of a median for drawing (a half hundredth rounds down: pixels only).
fn half_cents_floor(value: HalfCents) -> i64 {
    value.0.div_euclid(2)
}

/// Places gained or lost by each unit with a previous result, either side of a zero line.
pub fn movement(ranking: &Ranking, lang: Lang, id: &str) -> Option<Markup> {
    let t = |key| lang.text(key);
    let moved: Vec<_> = ranking
        .rows
        .iter()
        .filter_map(|row| row.movement.as_ref().map(|movement| (row, movement)))
        .collect();
    if moved.is_empty() {
        return None;
    }
    let most = moved
        .iter()
        .map(|(_, movement)| movement.places_gained.unsigned_abs())
        .max()
        .unwrap_or(0)
        .max(1);
    let half = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / 2.0;
    let zero = LABEL_WIDTH + half;
    let height = TOP * 2.0 + moved.len() as f64 * (BAR + GAP);
    Some(html! {
        svg class="chart" role="img" aria-labelledby={(id) "-title " (id) "-desc"}
            viewBox={"0 0 " (px(WIDTH)) " " (px(height))} preserveAspectRatio="xMinYMin meet"
            xmlns="http://www.w3.org/2000/svg" {
            title id={(id) "-title"} { (t("site-chart-movement")) }
            desc id={(id) "-desc"} {
                @for (row, movement) in &moved { (row.unit_name) ": " (signed(movement.places_gained)) "; " }
            }
            line x1=(px(zero)) x2=(px(zero)) y1="0" y2=(px(height)) stroke="#1a1a1a" stroke-width="1" {}
            @for (i, (row, movement)) in moved.iter().enumerate() {
                @let y = TOP + i as f64 * (BAR + GAP);
                @let length = movement.places_gained.unsigned_abs() as f64 / most as f64 * (half - 30.0);
                @let gained = movement.places_gained >= 0;
                text x=(px(LABEL_WIDTH - 6.0)) y=(px(y + BAR - 3.0)) text-anchor="end" class="label" {
                    (row.unit_name)
                }
                @if gained {
                    rect x=(px(zero)) y=(px(y)) width=(px(length)) height=(px(BAR)) fill=(GAIN_FILL) {}
                    text x=(px(zero + length + 4.0)) y=(px(y + BAR - 3.0)) class="value" { (signed(movement.places_gained)) }
                } @else {
                    rect x=(px(zero - length)) y=(px(y)) width=(px(length)) height=(px(BAR)) fill=(LOSS_FILL) {}
                    text x=(px(zero - length - 4.0)) y=(px(y + BAR - 3.0)) text-anchor="end" class="value" { (signed(movement.places_gained)) }
                }
            }
        }
    })
}

/// A count with its sign, e.g. "+2", "−1", "0".
pub fn signed(value: i64) -> String {
    match value {
        0 => "0".into(),
        v if v > 0 => format!("+{v}"),
        v => format!("−{}", v.unsigned_abs()),
    }
}
