//! Corrections on the results site: each published correction keeps the revisions before it
//! in the history, an older revision stays readable, and units move against the previous
//! year's published round.

mod support;

use serde_json::Value;
use support::{data_values, row, snapshot, values, Platform, FRAMEWORK, RANKING};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_keep_their_history_and_units_move_against_the_previous_year(
) -> anyhow::Result<()> {
    let platform = Platform::start().await?;
    platform
        .published_round(
            2022,
            &[
                ("quan-1", values(9, 8)),
                ("quan-3", values(5, 6)),
                ("quan-4", values(3, 4)),
            ],
        )
        .await?;
    let ids = platform
        .published_round(
            2023,
            &[
                ("quan-1", values(3, 4)),
                ("quan-3", values(9, 8)),
                ("quan-4", values(7, 6)),
            ],
        )
        .await?;
    let (first, first_hash) = snapshot(&platform, "").await;
    let first_etag = platform.get(RANKING).await.header("etag");

    let quan_1 = &ids
        .iter()
        .find(|(unit, _)| unit == "quan-1")
        .expect("quan-1")
        .1;
    platform
        .correct(
            2023,
            quan_1,
            10,
            "Sở TT&TT accepted the unit's objection on 1.2",
        )
        .await?;

    // The latest revision is 2; the page changed and its ETag with it.
    let (latest, latest_hash) = snapshot(&platform, "").await;
    assert_eq!(latest["revision"], 2);
    assert_ne!(latest_hash, first_hash);
    let page = platform.get(RANKING).await;
    page.expect(200);
    assert_ne!(page.header("etag"), first_etag);
    let html = page.text();
    assert!(
        html.contains("Sở TT&amp;TT accepted the unit's objection on 1.2"),
        "{html}"
    );

    // Revision 1 is still served exactly as published, marked as superseded.
    let (again, again_hash) = snapshot(&platform, "?revision=1").await;
    assert_eq!(again_hash, first_hash);
    assert_eq!(again, first);
    let old = platform.get(&format!("{RANKING}?revision=1")).await;
    old.expect(200);
    assert!(
        old.text().contains("đã được thay thế bởi bản 2"),
        "{}",
        old.text()
    );

    // The unit page lists both revisions with the unit's total in each.
    let unit_html = platform
        .get(&format!("{RANKING}/units/quan-1"))
        .await
        .text();
    let total_in = |snapshot: &Value| -> String {
        snapshot["units"]
            .as_array()
            .expect("units")
            .iter()
            .find(|unit| unit["unit"] == "quan-1")
            .expect("quan-1")["total"]
            .as_str()
            .expect("total")
            .to_owned()
    };
    let history = &unit_html[unit_html.find("Lịch sử công bố").expect("history")..];
    let totals = data_values(history);
    assert_eq!(totals, vec![total_in(&first), total_in(&latest)]);

    // Movement against 2022: places gained and the change of total, from the two published
    // snapshots.
    let (previous, _) = {
        let answer = platform.get("/2022/hcm-2023-district/snapshot.json").await;
        answer.expect(200);
        (serde_json::from_slice::<Value>(&answer.body)?, ())
    };
    for unit in latest["units"].as_array().expect("units") {
        let id = unit["unit"].as_str().expect("id");
        let then = previous["units"]
            .as_array()
            .expect("units")
            .iter()
            .find(|entry| entry["unit"] == id)
            .expect("published in 2022 too");
        let gained = then["rank"].as_i64().expect("rank") - unit["rank"].as_i64().expect("rank");
        let cells = row(&html, &format!("<tr data-unit=\"{id}\">")).expect("row");
        let shown = match gained {
            0 => "0".to_owned(),
            g if g > 0 => format!("+{g}"),
            g => format!("−{}", g.unsigned_abs()),
        };
        assert!(
            cells.contains(&format!("<td class=\"num\">{shown}</td>")),
            "{id}: {cells}"
        );
        let page = platform.get(&format!("{RANKING}/units/{id}")).await.text();
        let movement = row(&page, "<td class=\"num\">").expect("movement row");
        let change = unit["total_cents"].as_i64().expect("cents")
            - then["total_cents"].as_i64().expect("cents");
        let sign = if change < 0 { "-" } else { "" };
        let change = format!(
            "{sign}{}.{:02}",
            change.unsigned_abs() / 100,
            change.unsigned_abs() % 100
        );
        assert_eq!(
            data_values(movement),
            vec![
                then["total"].as_str().expect("total").to_owned(),
                unit["total"].as_str().expect("total").to_owned(),
                change
            ],
            "{id}"
        );
    }
    assert!(html.contains("chart-movement-title"), "the movement chart");
    let _ = FRAMEWORK;
    platform.stop().await
}
