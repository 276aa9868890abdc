//! The HTML pages (maud: compile-time templates, every inserted text escaped): the list of
//! published results, a cohort's ranking and a unit's scorecard, and the error page. Semantic
//! tables (`<caption>`, `<th scope>`), a `lang` attribute, a skip link, numbers both
//! machine-readable (`<data value>`, the published decimal) and in the reader's notation.

use chrono::{DateTime, Utc};
use dti_i18n::Message;
use maud::{html, Markup, DOCTYPE};

use crate::charts;
use crate::i18n::{self, Lang};
use crate::results::{format_cents, CohortResult, Movement, Ranking, Scorecard};
use crate::source::RevisionSummary;

/// How the links of a page are written: the language chosen in the query (kept on links) and
/// the revision asked for.
#[derive(Debug, Clone, Copy)]
pub struct LinkContext {
    /// The page's language.
    pub lang: Lang,
    /// Whether the language came from `?lang=` (then links keep it).
    pub explicit_lang: bool,
    /// The revision asked for with `?revision=`.
    pub revision: Option<u32>,
    /// Whether the site signs its snapshot downloads (then the pages link the signature and
    /// the public key).
    pub signed: bool,
}

impl LinkContext {
    /// `path` with this page's query parameters.
    pub fn href(&self, path: &str) -> String {
        self.with(path, self.explicit_lang.then_some(self.lang), self.revision)
    }

    /// `path` with the latest revision (no `revision` parameter).
    pub fn latest(&self, path: &str) -> String {
        self.with(path, self.explicit_lang.then_some(self.lang), None)
    }

    /// `path` with revision `revision`.
    pub fn revision_href(&self, path: &str, revision: u32) -> String {
        self.with(
            path,
            self.explicit_lang.then_some(self.lang),
            Some(revision),
        )
    }

    /// This page in the other language.
    pub fn switched(&self, path: &str) -> String {
        self.with(path, Some(self.lang.other()), self.revision)
    }

    fn with(&self, path: &str, lang: Option<Lang>, revision: Option<u32>) -> String {
        let mut query = Vec::new();
        if let Some(lang) = lang {
            query.push(format!("lang={}", lang.tag()));
        }
        if let Some(revision) = revision {
            query.push(format!("revision={revision}"));
        }
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", query.join("&"))
        }
    }
}

/// A published round as the index lists it.
#[derive(Debug, Clone)]
pub struct ListedRound {
    /// Year.
    pub year: u16,
    /// Framework id.
    pub framework: String,
    /// The cohort's name in the page's language.
    pub cohort_name: String,
    /// Framework title.
    pub title: String,
    /// Latest revision.
    pub revisions: u32,
}

/// The path of a round's ranking.
pub fn round_path(year: u16, framework: &str) -> String {
    format!("/{year}/{framework}")
}

/// The path of a unit's page.
pub fn unit_path(year: u16, framework: &str, unit: &str) -> String {
    format!("/{year}/{framework}/units/{unit}")
}

fn date(lang: Lang, at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(at) => match lang {
            Lang::Vi => at.format("%d/%m/%Y %H:%M UTC").to_string(),
            Lang::En => at.format("%Y-%m-%d %H:%M UTC").to_string(),
        },
        None => String::new(),
    }
}

/// A published decimal: machine-readable value, shown in the reader's notation.
fn number(lang: Lang, decimal: &str) -> Markup {
    html! { data value=(decimal) { (lang.number(decimal)) } }
}

fn layout(links: &LinkContext, path: &str, title: &str, body: Markup) -> Markup {
    let t = |key| links.lang.text(key);
    let other = links.lang.other();
    html! {
        (DOCTYPE)
        html lang=(links.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t("site-title")) }
                link rel="stylesheet" href="/assets/site.css";
            }
            body {
                a class="skip" href="#main" { (t("site-skip-to-content")) }
                header class="site" {
                    a class="brand" href=(links.latest("/")) { (t("site-title")) }
                    a class="lang" href=(links.switched(path)) lang=(other.tag()) hreflang=(other.tag()) {
                        (other.text("site-language-name"))
                    }
                }
                main id="main" { (body) }
                footer class="site" {
                    // The names are Vietnamese whatever the page's language: said on a page in
                    // another language.
                    @if links.lang != Lang::Vi { p { (t("site-names-note")) } }
                }
            }
        }
    }
}

/// The list of published results.
pub fn index(links: &LinkContext, rounds: &[ListedRound]) -> Markup {
    let t = |key| links.lang.text(key);
    layout(
        links,
        "/",
        &t("site-published-results"),
        html! {
            h1 { (t("site-published-results")) }
            @if rounds.is_empty() {
                p { (t("site-nothing-published")) }
            } @else {
                table class="data" {
                    caption { (t("site-published-results")) }
                    thead { tr {
                        th scope="col" { (t("site-year")) }
                        th scope="col" { (t("site-cohort")) }
                        th scope="col" { (t("site-revision")) }
                    } }
                    tbody {
                        @for round in rounds {
                            tr {
                                th scope="row" { (round.year) }
                                td {
                                    a href=(links.latest(&round_path(round.year, &round.framework))) { (round.cohort_name) }
                                    br; small { (round.title) }
                                }
                                td class="num" { (round.revisions) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The status box of a revision: provisional or final, superseded or latest, and its hash.
fn status(links: &LinkContext, result: &CohortResult, path: &str) -> Markup {
    let t = |key| links.lang.text(key);
    let revision = &result.revision;
    let superseded = revision.revision < result.latest_revision;
    html! {
        section class={"status " (if revision.is_final() { "final" } else { "provisional" })} aria-label=(t("site-revision")) {
            p {
                strong class="badge" data-state=(revision.round_state) {
                    @if revision.is_final() { (t("site-final")) } @else { (t("site-provisional")) }
                }
                " " (links.lang.render(&Message::new("site-revision-line")
                    .arg("revision", revision.revision)
                    .arg("published", date(links.lang, revision.published_at))
                    .arg("reason", &revision.reason)))
            }
            @if revision.is_final() {
                p { (t("site-final-note")) }
            } @else {
                p class="provisional-note" {
                    (links.lang.render(&Message::new("site-provisional-note")
                        .arg("until", date(links.lang, revision.provisional_until))))
                }
            }
            @if superseded {
                p class="superseded" {
                    (links.lang.render(&Message::new("site-superseded").arg("latest", result.latest_revision))) " "
                    a href=(links.latest(path)) { (t("site-see-latest")) }
                }
            }
        }
    }
}

fn downloads(links: &LinkContext, result: &CohortResult, table_base: &str) -> Markup {
    let t = |key| links.lang.text(key);
    let snapshot = format!(
        "{}/snapshot.json",
        round_path(result.round.year, result.round.framework.as_str())
    );
    html! {
        section class="downloads" {
            h2 { (t("site-downloads")) }
            ul {
                li { a href=(links.href(&format!("{table_base}.csv"))) download { (t("site-download-csv")) } }
                li { a href=(links.href(&format!("{table_base}.xlsx"))) download { (t("site-download-xlsx")) } }
                li { a href=(links.revision_href(&snapshot, result.revision.revision)) download { (t("site-download-snapshot")) } }
                @if links.signed {
                    li { a href=(links.revision_href(&format!("{snapshot}.sig"), result.revision.revision)) download { (t("site-download-signature")) } }
                    li { a href="/signing-key.pem" download { (t("site-download-signing-key")) } }
                }
            }
            p { (t("site-content-hash")) ": " code class="hash" { (result.revision.content_hash) } }
            p class="help" { (t("site-hash-help")) " " code { "sha256sum" } }
            @if links.signed {
                p class="help" { (t("site-signature-help")) " " code { "openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in snapshot.json -sigfile snapshot.json.sig" } }
            }
        }
    }
}

fn history(
    links: &LinkContext,
    revisions: &[RevisionSummary],
    path: &str,
    unit_lines: Option<&[Option<(u32, String)>]>,
) -> Markup {
    let t = |key| links.lang.text(key);
    html! {
        section class="history" {
            h2 { (t("site-revision-history")) }
            table class="data" {
                caption { (t("site-revision-history")) }
                thead { tr {
                    th scope="col" { (t("site-revision")) }
                    th scope="col" { (t("site-published-at")) }
                    th scope="col" { (t("site-reason")) }
                    @if unit_lines.is_some() {
                        th scope="col" { (t("site-rank")) }
                        th scope="col" { (t("site-total")) }
                    }
                } }
                tbody {
                    @for (i, summary) in revisions.iter().enumerate() {
                        tr {
                            th scope="row" { a href=(links.revision_href(path, summary.revision)) { (summary.revision) } }
                            td { (date(links.lang, summary.published_at)) }
                            td { (summary.reason) }
                            @if let Some(lines) = unit_lines {
                                @match lines.get(i).cloned().flatten() {
                                    Some((rank, total)) => {
                                        td class="num" { (rank) }
                                        td class="num" { (number(links.lang, &total)) }
                                    }
                                    None => { td {} td {} }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn movement_text(lang: Lang, movement: &Movement) -> String {
    let message = match movement.places_gained {
        0 => Message::new("site-rank-unchanged"),
        gained if gained > 0 => Message::new("site-rank-up").arg("places", gained),
        lost => Message::new("site-rank-down").arg("places", lost.unsigned_abs()),
    };
    lang.render(&message)
}

/// A cohort's ranking page.
pub fn ranking(
    links: &LinkContext,
    result: &CohortResult,
    ranking: &Ranking,
    revisions: &[RevisionSummary],
) -> Markup {
    let lang = links.lang;
    let t = |key| lang.text(key);
    let year = result.round.year;
    let framework = result.round.framework.as_str();
    let path = round_path(year, framework);
    let cohort = t(i18n::cohort_key(result.unit_kind()));
    let title = format!("{cohort} — {year}");
    let with_movement = ranking.rows.iter().any(|row| row.movement.is_some());
    let max_total = crate::results::parse_cents(&result.revision.snapshot.framework.total_points)
        .unwrap_or_else(|| {
            ranking
                .rows
                .iter()
                .map(|row| row.total_cents)
                .max()
                .unwrap_or(0)
        });
    layout(
        links,
        &path,
        &title,
        html! {
            nav class="crumbs" { a href=(links.latest("/")) { (t("site-home")) } }
            h1 { (title) }
            p class="framework" { (result.revision.snapshot.framework.title) }
            (status(links, result, &path))
            div class="scroll" {
                table class="data ranking" {
                    caption {
                        (lang.render(&Message::new("site-ranking-caption")
                            .arg("title", Message::new("site-title"))
                            .arg("year", year)
                            .arg("cohort", &cohort)
                            .arg("units", ranking.rows.len())))
                    }
                    thead { tr {
                        th scope="col" { (t("site-rank")) }
                        th scope="col" { (t("site-unit")) }
                        th scope="col" { (t("site-total")) }
                        @for group in &ranking.groups {
                            th scope="col" { abbr title=(group.name) { (group_code(lang, &group.code)) } }
                        }
                        @if with_movement {
                            th scope="col" { (t("site-rank-change")) }
                        }
                    } }
                    tbody {
                        @for row in &ranking.rows {
                            tr data-unit=(row.unit_id) {
                                td class="num" { (row.rank) }
                                th scope="row" { a href=(links.href(&unit_path(year, framework, &row.unit_id))) { (row.unit_name) } }
                                td class="num total" { (number(lang, &row.total)) }
                                @for score in &row.groups { td class="num" { (number(lang, score)) } }
                                @if with_movement {
                                    td class="num" {
                                        @if let Some(movement) = &row.movement {
                                            (charts::signed(movement.places_gained))
                                            @if !movement.mean_of.is_empty() {
                                                " " abbr class="mean" title=(lang.render(&Message::new("site-previous-mean-mark").arg("units", movement.mean_of_names()))) { "*" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @for row in ranking.rows.iter().filter(|row| row.movement.as_ref().is_some_and(|m| !m.mean_of.is_empty())) {
                @if let Some(movement) = &row.movement {
                    p class="note mean" data-unit=(row.unit_id) {
                        "* " (row.unit_name) ": "
                        (lang.render(&Message::new("site-previous-mean").arg("units", movement.mean_of_names())))
                    }
                }
            }
            section class="groups-legend" {
                h2 { (t("site-group")) }
                dl {
                    @for group in &ranking.groups {
                        dt { (group_code(lang, &group.code)) }
                        dd {
                            (lang.render(&Message::new("site-group-legend")
                                .arg("name", &group.name)
                                .arg("max", lang.number(&group.max_points))))
                        }
                    }
                }
            }
            figure {
                (charts::totals(ranking, max_total, lang, "chart-totals"))
                figcaption { (t("site-chart-totals")) }
            }
            @if let Some(chart) = charts::movement(ranking, lang, "chart-movement") {
                figure {
                    (chart)
                    figcaption { (t("site-chart-movement")) " (" (result.previous.as_ref().map(|p| p.round.year).unwrap_or(year)) " → " (year) ")" }
                }
            }
            @if !ranking.min_max.is_empty() {
                section class="minmax" {
                    h2 { (t("site-min-max-heading")) }
                    p { (t("site-min-max-help")) }
                    table class="data" {
                        caption { (t("site-min-max-heading")) }
                        thead { tr {
                            th scope="col" { (t("site-code")) }
                            th scope="col" { (t("site-indicator")) }
                            th scope="col" { (t("site-min")) }
                            th scope="col" { (t("site-max")) }
                        } }
                        tbody {
                            @for indicator in &ranking.min_max {
                                tr data-indicator=(indicator.code) {
                                    th scope="row" { (indicator.code) }
                                    td { (indicator.name) }
                                    td class="num" { (number(lang, &indicator.range.min)) }
                                    td class="num" { (number(lang, &indicator.range.max)) }
                                }
                            }
                        }
                    }
                }
            }
            (downloads(links, result, &format!("{path}/ranking")))
            (history(links, revisions, &path, None))
        },
    )
}

/// A unit's page.
pub fn unit(
    links: &LinkContext,
    result: &CohortResult,
    scorecard: &Scorecard,
    revisions: &[RevisionSummary],
    unit_by_revision: &[Option<(u32, String)>],
) -> Markup {
    let lang = links.lang;
    let t = |key| lang.text(key);
    let year = result.round.year;
    let framework = result.round.framework.as_str();
    let row = &scorecard.row;
    let path = unit_path(year, framework, &row.unit_id);
    let cohort = t(i18n::cohort_key(result.unit_kind()));
    layout(
        links,
        &path,
        &format!("{} — {year}", row.unit_name),
        html! {
            nav class="crumbs" {
                a href=(links.latest("/")) { (t("site-home")) } " › "
                a href=(links.href(&round_path(year, framework))) {
                    (lang.render(&Message::new("site-back-to-ranking").arg("cohort", &cohort).arg("year", year)))
                }
            }
            h1 { (row.unit_name) " — " (year) }
            (status(links, result, &path))
            dl class="headline" {
                dt { (t("site-rank")) } dd class="rank" { data value=(row.rank) { (row.rank) } " / " (scorecard.cohort_size) }
                dt { (t("site-total")) } dd class="total" { (number(lang, &row.total)) " / " (lang.number(&result.revision.snapshot.framework.total_points)) }
            }
            section class="movement" {
                h2 { (t("site-movement")) }
                @match &row.movement {
                    Some(movement) => {
                        table class="data" {
                            caption { (t("site-movement")) " (" (movement.previous_year) " → " (year) ")" }
                            thead { tr {
                                th scope="col" { (t("site-previous-rank")) }
                                th scope="col" { (t("site-rank")) }
                                th scope="col" { (t("site-rank-change")) }
                                th scope="col" { (t("site-previous-total")) }
                                th scope="col" { (t("site-total")) }
                                th scope="col" { (t("site-total-change")) }
                            } }
                            tbody { tr {
                                td class="num" { (movement.previous_rank) }
                                td class="num" { (row.rank) }
                                td class="num" { (charts::signed(movement.places_gained)) " (" (movement_text(lang, movement)) ")" }
                                td class="num" { (number(lang, &movement.previous_total)) }
                                td class="num" { (number(lang, &row.total)) }
                                td class="num" { (number(lang, &format_cents(movement.total_change_cents))) }
                            } }
                        }
                        @if !movement.mean_of.is_empty() {
                            p class="note mean" {
                                (lang.render(&Message::new("site-previous-mean").arg("units", movement.mean_of_names())))
                            }
                        }
                    }
                    None => { p { (t("site-no-previous")) } }
                }
            }
            section class="groups" {
                h2 { (t("site-group-scores")) }
                table class="data" {
                    caption { (t("site-group-scores")) ": " (row.unit_name) }
                    thead { tr {
                        th scope="col" { (t("site-group")) }
                        th scope="col" { (t("site-score")) }
                        th scope="col" { (t("site-cohort-median")) }
                        th scope="col" { (t("site-max-points")) }
                        @if let Some(movement) = &row.movement {
                            th scope="col" { (t("site-previous-group")) " (" (movement.previous_year) ")" }
                        }
                    } }
                    tbody {
                        @for (i, group) in scorecard.groups.iter().enumerate() {
                            tr data-group=(group.head.code) {
                                th scope="row" { (group.head.code) ". " (group.head.name) }
                                td class="num" { (number(lang, &group.score)) }
                                td class="num" { (number(lang, &group.median.decimal())) }
                                td class="num" { (lang.number(&group.head.max_points)) }
                                @if let Some(movement) = &row.movement {
                                    td class="num" { @if let Some(score) = movement.previous_groups.get(i) { (number(lang, score)) } }
                                }
                            }
                        }
                    }
                }
                figure {
                    (charts::groups_against_median(&scorecard.groups, lang, "chart-groups"))
                    figcaption { (t("site-chart-groups")) }
                }
            }
            section class="scorecard" {
                h2 { (t("site-scorecard")) }
                @for group in &scorecard.groups {
                    div class="scroll" {
                        table class="data" {
                            caption {
                                (lang.render(&Message::new("site-scorecard-caption")
                                    .arg("code", &group.head.code)
                                    .arg("name", &group.head.name)
                                    .arg("score", lang.number(&group.score))
                                    .arg("max", lang.number(&group.head.max_points))))
                            }
                            thead { tr {
                                th scope="col" { (t("site-code")) }
                                th scope="col" { (t("site-indicator")) }
                                th scope="col" { (t("site-score")) }
                                th scope="col" { (t("site-max-points")) }
                                th scope="col" { (t("site-explanation")) }
                            } }
                            tbody {
                                @for line in &group.lines {
                                    tr data-indicator=(line.code) data-outcome=(line.outcome) {
                                        th scope="row" { (line.code) }
                                        td { (line.name) }
                                        td class="num" { (number(lang, &line.score)) }
                                        td class="num" { (lang.number(&line.max_points)) }
                                        td class="explain" {
                                            span class="outcome" { (t(i18n::outcome_key(&line.outcome))) } ": " code { (line.summary) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (downloads(links, result, &format!("{path}/scorecard")))
            (history(links, revisions, &path, Some(unit_by_revision)))
        },
    )
}

/// "Group N" (a group by its code).
fn group_code(lang: Lang, code: &str) -> String {
    lang.render(&Message::new("site-group-code").arg("code", code))
}

/// The page of a refused request.
pub fn error(lang: Lang, status: http::StatusCode, message: &str) -> Markup {
    let t = |key| lang.text(key);
    let title = t(match status.as_u16() {
        400 => "site-error-bad-request",
        404 => "site-error-not-found",
        _ => "site-error-unavailable",
    });
    let links = LinkContext {
        lang,
        explicit_lang: false,
        revision: None,
        signed: false,
    };
    layout(
        &links,
        "/",
        &title,
        html! {
            h1 { (title) }
            p class="message" { (message) }
            p { a href="/" { (t("site-home")) } }
        },
    )
}

/// The site's stylesheet: readable on a phone, printable, contrast at least 4.5:1.
pub const STYLESHEET: &str = r#"
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --accent: #1d4f91; --line: #c8c8c8; --band: #f2f5f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: #fff; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; }
header.site { display: flex; justify-content: space-between; align-items: center; gap: 12px; padding: 12px 16px; background: var(--accent); }
header.site a { color: #fff; font-weight: 600; text-decoration: none; }
header.site a.lang { border: 1px solid #fff; border-radius: 4px; padding: 2px 10px; white-space: nowrap; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
footer.site { max-width: 1100px; margin: 0 auto; padding: 0 16px 24px; color: var(--muted); font-size: 14px; }
h1 { font-size: 1.6rem; margin: 8px 0; }
h2 { font-size: 1.25rem; margin-top: 28px; }
.framework, .help { color: var(--muted); }
.status { border-left: 6px solid #9a5b00; background: #fff6e5; padding: 8px 12px; margin: 12px 0; }
.status.final { border-color: #1b6e3a; background: #eef7f1; }
.badge { display: inline-block; padding: 0 8px; border-radius: 4px; background: #9a5b00; color: #fff; }
.final .badge { background: #1b6e3a; }
.superseded { font-weight: 600; }
.scroll { overflow-x: auto; }
table.data { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
table.data caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
table.data thead th { background: var(--band); border-bottom: 2px solid var(--ink); }
table.data tbody th { font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.total { font-weight: 700; }
td.explain code { font-size: 0.85rem; white-space: normal; }
.scorecard table.data { table-layout: fixed; min-width: 640px; }
.scorecard table.data th:nth-child(1) { width: 4rem; }
.scorecard table.data th:nth-child(2) { width: 38%; }
.scorecard table.data th:nth-child(3), .scorecard table.data th:nth-child(4) { width: 5.5rem; }
.outcome { color: var(--muted); }
abbr { text-decoration: none; }
dl.headline { display: flex; gap: 24px; flex-wrap: wrap; font-size: 1.2rem; }
dl.headline dd { margin: 0; font-weight: 700; }
.groups-legend dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.groups-legend dd { margin: 0; }
figure { margin: 16px 0; }
figcaption { color: var(--muted); font-size: 14px; }
svg.chart { width: 100%; height: auto; max-width: 900px; }
svg.chart .label, svg.chart .value { font: 12px system-ui, sans-serif; fill: var(--ink); }
code.hash { word-break: break-all; }
.crumbs { font-size: 14px; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  main { padding: 10px; }
  table.data th, table.data td { padding: 4px 5px; }
  h1 { font-size: 1.3rem; }
}
@media print {
  header.site, .skip, .downloads, header.site a.lang { display: none; }
  body { font-size: 11pt; }
  a { color: var(--ink); text-decoration: none; }
  .scroll { overflow: visible; }
  figure, table { break-inside: avoid; }
}
"#;
