//! The results site against the submission and verification services in-process: a round of
//! three districts is published through the services' gRPC APIs, and every number the ranking
//! and unit pages show is checked against the published snapshot (downloaded from the site,
//! its SHA-256 the published hash); downloads, ETag/304, the language switch, refusals (400
//! for malformed requests, 404 for anything unpublished), corrections and the revision
//! history, and movement against the previous year's published round.//!
//! The refusals are in `refusals.rs`, corrections and movement in `corrections.rs`, the
//! snapshot's signature in `signing.rs`; the platform they share in `support/`.

mod support;

use dti_auth::Role;
use dti_i18n::{Lang, Message};
use dti_proto::dti::verification::v1::GetPublicationRequest;
use dti_testkit::with_auth;
use support::{data_texts, data_values, row, snapshot, values, Platform, RANKING};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_exactly_the_published_numbers() -> anyhow::Result<()> {
    let platform = Platform::start().await?;
    platform
        .published_round(
            2023,
            &[
                ("quan-1", values(7, 4)),
                ("quan-3", values(9, 8)),
                ("quan-4", values(3, 6)),
            ],
        )
        .await?;

    // The download is the published snapshot: its SHA-256 is the hash the service publishes.
    let (published, hash) = snapshot(&platform, "").await;
    let from_service = platform
        .publications()
        .get_publication(with_auth(
            GetPublicationRequest {
                round: Some(support::round(2023)),
                revision: 0,
            },
            &platform.backends.token(Role::Approver),
        ))
        .await?
        .into_inner();
    assert_eq!(hash, from_service.content_hash);
    let units = published["units"].as_array().expect("units");
    assert_eq!(units.len(), 3);

    // Ranking: rank, total and each group of every unit, as published, shown with the
    // Vietnamese decimal comma.
    let page = platform.get(RANKING).await;
    page.expect(200);
    assert_eq!(page.header("content-language"), "vi");
    let html = page.text();
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    assert!(html.contains("<th scope=\"col\">Hạng</th>"));
    assert!(html.contains("<caption>"));
    assert!(html.contains("Quận 3"), "Vietnamese unit names");
    assert!(
        html.contains("class=\"provisional-note\""),
        "a provisional revision says so"
    );
    assert!(html.contains("data-state=\"provisional\""));
    assert!(html.contains(&hash), "the page shows the content hash");
    assert!(html.contains("<svg class=\"chart\""), "the totals chart");
    let mut previous_position = 0;
    for unit in units {
        let id = unit["unit"].as_str().expect("unit id");
        let marker = format!("<tr data-unit=\"{id}\">");
        let position = html.find(&marker).expect("every unit has a row");
        assert!(position > previous_position, "rows are in published order");
        previous_position = position;
        let cells = row(&html, &marker).expect("row");
        assert!(
            cells.contains(&format!("<td class=\"num\">{}</td>", unit["rank"])),
            "{cells}"
        );
        let mut expected = vec![unit["total"].as_str().expect("total").to_owned()];
        expected.extend(
            unit["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .map(|group| group["score"].as_str().expect("score").to_owned()),
        );
        assert_eq!(data_values(cells), expected, "{id}");
        let shown: Vec<String> = expected.iter().map(|v| v.replace('.', ",")).collect();
        assert_eq!(data_texts(cells), shown, "{id}");
    }
    // The cohort's min-max range of 5.1 (systems 4, 8, 6): as the engine's explanation says.
    let minmax = row(&html, "<tr data-indicator=\"5.1\">").expect("min-max row of 5.1");
    let detail = &units[0]["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["code"] == "5.1")
        .expect("5.1")["explanation"]["detail"];
    assert_eq!(
        data_values(minmax),
        vec![
            detail["min"]["decimal"].as_str().expect("min").to_owned(),
            detail["max"]["decimal"].as_str().expect("max").to_owned()
        ]
    );
    assert_eq!(data_values(minmax), vec!["4", "8"]);

    // A unit's page: every indicator's score and explanation, each group, rank and total.
    let quan_4 = units
        .iter()
        .find(|unit| unit["unit"] == "quan-4")
        .expect("quan-4");
    let unit_page = platform.get(&format!("{RANKING}/units/quan-4")).await;
    unit_page.expect(200);
    let unit_html = unit_page.text();
    assert!(unit_html.contains("<h1>Quận 4 — 2023</h1>"), "{unit_html}");
    for indicator in quan_4["indicators"].as_array().expect("indicators") {
        let code = indicator["code"].as_str().expect("code");
        let line = row(&unit_html, &format!("<tr data-indicator=\"{code}\""))
            .unwrap_or_else(|| panic!("indicator {code} has a line"));
        assert_eq!(
            data_values(line),
            vec![indicator["score"].as_str().expect("score")]
        );
        let summary = indicator["explanation"]["summary"]
            .as_str()
            .expect("summary");
        let escaped = summary
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(line.contains(&escaped), "{code}: {summary} in {line}");
    }
    for group in quan_4["groups"].as_array().expect("groups") {
        let code = group["code"].as_str().expect("code");
        let line = row(&unit_html, &format!("<tr data-group=\"{code}\">")).expect("group row");
        assert_eq!(
            data_values(line)[0],
            group["score"].as_str().expect("score")
        );
    }
    assert!(unit_html.contains(&format!(
        "<dd class=\"rank\"><data value=\"{}\">",
        quan_4["rank"]
    )));
    assert!(
        unit_html.contains("Năm trước chưa có kết quả"),
        "no 2022 round is published"
    );
    assert!(
        unit_html.contains("initial publication"),
        "the revision history"
    );

    // English: by the query, and by Accept-Language; the switch links to the other language.
    let english = platform.get(&format!("{RANKING}?lang=en")).await;
    english.expect(200);
    let english_html = english.text();
    assert!(english_html.contains("<html lang=\"en\">"));
    assert!(english_html.contains("<th scope=\"col\">Rank</th>"));
    assert!(english_html.contains("Provisional result"));
    assert!(
        english_html.contains(&format!("href=\"{RANKING}?lang=vi\"")),
        "the switch back"
    );
    let total = units[0]["total"].as_str().expect("total");
    assert!(english_html.contains(&format!("<data value=\"{total}\">{total}</data>")));
    let accepted = platform
        .get_with(RANKING, &[("accept-language", "en-GB,en;q=0.9,vi;q=0.5")])
        .await;
    assert!(accepted.text().contains("<html lang=\"en\">"));
    assert!(
        html.contains(&format!("href=\"{RANKING}?lang=en\"")),
        "the switch to English"
    );

    // Every text of the pages is a message of the platform's catalogues, in the page's
    // language: headings, the caption, the state of the revision, the switch (named in the
    // language it switches to), the names note (English pages only), the crumbs and labels of
    // a unit's page.
    let english_unit_html = platform
        .get(&format!("{RANKING}/units/quan-4?lang=en"))
        .await
        .text();
    for (lang, ranking_html, unit_html) in [
        (Lang::Vi, &html, &unit_html),
        (Lang::En, &english_html, &english_unit_html),
    ] {
        let other = if lang == Lang::Vi { Lang::En } else { Lang::Vi };
        let text = |key: &'static str| Message::new(key).render(lang);
        let cohort = Message::new("site-cohort-district");
        for (page, expected) in [
            (ranking_html, format!("<html lang=\"{lang}\">")),
            (
                ranking_html,
                format!("<th scope=\"col\">{}</th>", text("site-rank")),
            ),
            (
                ranking_html,
                format!("<th scope=\"col\">{}</th>", text("site-total")),
            ),
            (
                ranking_html,
                format!(
                    "<caption>{}</caption>",
                    Message::new("site-ranking-caption")
                        .arg("title", Message::new("site-title"))
                        .arg("year", 2023u16)
                        .arg("cohort", cohort.clone())
                        .arg("units", units.len())
                        .render(lang)
                ),
            ),
            (
                ranking_html,
                format!(
                    "data-state=\"provisional\">{}</strong>",
                    text("site-provisional")
                ),
            ),
            (
                ranking_html,
                format!(
                    "\">{}</abbr>",
                    Message::new("site-group-code")
                        .arg("code", "1")
                        .render(lang)
                ),
            ),
            (
                ranking_html,
                format!(
                    "hreflang=\"{other}\">{}</a>",
                    Message::new("site-language-name").render(other)
                ),
            ),
            (
                unit_html,
                format!(
                    "{}</a></nav>",
                    Message::new("site-back-to-ranking")
                        .arg("cohort", cohort)
                        .arg("year", 2023u16)
                        .render(lang)
                ),
            ),
            (unit_html, format!("<p>{}</p>", text("site-no-previous"))),
            (
                unit_html,
                format!(
                    "<span class=\"outcome\">{}</span>",
                    text("site-outcome-scored")
                ),
            ),
        ] {
            assert!(page.contains(&expected), "{lang}: {expected} in {page}");
        }
        assert_eq!(
            ranking_html.contains(&text("site-names-note")),
            lang == Lang::En,
            "{lang}: the names note"
        );
    }
    assert_eq!(
        Message::new("site-rank").render(Lang::Vi),
        "Hạng",
        "the Vietnamese heading the checks above assume"
    );
    assert_eq!(Message::new("site-rank").render(Lang::En), "Rank");

    // ETag per rendered revision; 304 when the client has it; another language is another
    // page.
    let etag = page.header("etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    assert_eq!(platform.get(RANKING).await.header("etag"), etag, "stable");
    let not_modified = platform
        .get_with(RANKING, &[("if-none-match", &etag)])
        .await;
    not_modified.expect(304);
    assert!(not_modified.body.is_empty());
    assert_ne!(english.header("etag"), etag);
    platform
        .get_with(
            &format!("{RANKING}/snapshot.json"),
            &[("if-none-match", &format!("\"{hash}\""))],
        )
        .await
        .expect(304);

    // CSV: Vietnamese headings, the published decimals as given.
    let csv = platform.get(&format!("{RANKING}/ranking.csv")).await;
    csv.expect(200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").contains("attachment"));
    let csv_text = csv.text();
    let mut lines = csv_text.trim_start_matches('\u{feff}').lines();
    let heading = lines.next().expect("heading");
    assert!(heading.starts_with("Hạng,Đơn vị (mã),Đơn vị,Tổng điểm,Nhóm 1"));
    let vietnamese = |key: &'static str| Message::new(key).render(Lang::Vi);
    assert!(
        heading.starts_with(&format!(
            "{},{},{},{},",
            vietnamese("site-rank"),
            vietnamese("site-column-unit-id"),
            vietnamese("site-unit"),
            vietnamese("site-total")
        )),
        "the tables' headings are the catalogue's, in Vietnamese: {heading}"
    );
    for unit in units {
        let line = lines.next().expect("a line per unit");
        let mut expected = format!(
            "{},{},{}",
            unit["rank"],
            unit["unit"].as_str().expect("id"),
            support_name(unit["unit"].as_str().expect("id"))
        );
        expected.push(',');
        expected.push_str(unit["total"].as_str().expect("total"));
        for group in unit["groups"].as_array().expect("groups") {
            expected.push(',');
            expected.push_str(group["score"].as_str().expect("score"));
        }
        assert_eq!(line, expected);
    }
    let scorecard_csv = platform
        .get(&format!("{RANKING}/units/quan-4/scorecard.csv"))
        .await;
    scorecard_csv.expect(200);
    assert!(scorecard_csv.text().contains("Cách tính"));

    // .xlsx: a workbook whose cells hold the totals as numbers with the two-decimal format.
    let xlsx = platform.get(&format!("{RANKING}/ranking.xlsx")).await;
    xlsx.expect(200);
    assert!(xlsx.body.starts_with(b"PK"), "an .xlsx is a zip file");
    let sheet = zip_entry(&xlsx.body, "xl/worksheets/sheet1.xml");
    for unit in units {
        let total: f64 = unit["total"].as_str().expect("total").parse()?;
        assert!(
            sheet.contains(&format!("<v>{total}</v>")),
            "{total} in {sheet}"
        );
    }
    let styles = zip_entry(&xlsx.body, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"0.00\""), "{styles}");
    let strings = zip_entry(&xlsx.body, "xl/sharedStrings.xml");
    assert!(strings.contains("Tổng điểm"), "{strings}");
    platform
        .get(&format!("{RANKING}/units/quan-4/scorecard.xlsx"))
        .await
        .expect(200);

    platform.stop().await
}

fn support_name(unit: &str) -> &'static str {
    match unit {
        "quan-1" => "Quận 1",
        "quan-3" => "Quận 3",
        "quan-4" => "Quận 4",
        _ => "",
    }
}

/// The text of `name` inside the zip archive `archive`.
fn zip_entry(archive: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a zip archive");
    let mut entry = zip.by_name(name).expect("the entry exists");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).expect("UTF-8 XML");
    text
}
