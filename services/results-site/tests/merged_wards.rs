//! Three wards merged into one for 2025, as an operator records it in the unit registry in
//! force (no rebuild, no restart): the merged ward's 2025 row on the site is compared with the
//! arithmetic mean of the three wards' published 2024 totals (exact in hundredths, rounded
//! half-up) and the best of their 2024 ranks, and the unit page (by name) and the download (by
//! id) say it is a mean and of which wards.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_domain::units::{Lineage, LineageChange, Unit, UnitType};
use dti_domain::{UnitId, UnitRegistry};
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::ImportRegistryRequest;
use dti_testkit::{eventually, with_auth, Poll};
use support::{values, Platform};

const WARDS: [(&str, &str); 3] = [
    ("phuong-an-loi", "Phường An Lợi"),
    ("phuong-binh-an", "Phường Bình An"),
    ("phuong-cat-lai", "Phường Cát Lái"),
];
const MERGED: (&str, &str) = ("phuong-an-khanh", "Phường An Khánh");

fn ward(id: &str, name: &str, from: Option<u16>, until: Option<u16>) -> anyhow::Result<Unit> {
    Ok(Unit {
        id: UnitId::parse(id)?,
        name: name.to_owned(),
        kind: UnitType::District,
        active_from: from,
        active_until: until,
    })
}

/// The seed with the three wards (until 2024), the merged ward (from 2025) and the merger.
fn registry_with_the_merger() -> anyhow::Result<UnitRegistry> {
    let mut registry = UnitRegistry::builtin()?;
    for (id, name) in WARDS {
        registry = registry.with_unit(ward(id, name, None, Some(2024))?)?;
    }
    registry = registry.with_unit(ward(MERGED.0, MERGED.1, Some(2025), None)?)?;
    for (id, _) in WARDS {
        registry = registry.with_lineage(Lineage {
            from: UnitId::parse(id)?,
            to: UnitId::parse(MERGED.0)?,
            effective_year: 2025,
            change: LineageChange::Merged,
            note: Some("merged in the 2025 reorganisation of wards".to_owned()),
        })?;
    }
    Ok(registry)
}

/// The rows of a ranking CSV: unit id → every cell.
fn csv_rows(text: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

/// Hundredths of a two-decimal score ("123.45").
fn cents(score: &str) -> anyhow::Result<i64> {
    let (whole, fraction) = score.split_once('.').unwrap_or((score, "00"));
    Ok(whole.parse::<i64>()? * 100 + fraction.parse::<i64>()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_wards_merged_for_2025_are_compared_with_the_mean_of_their_2024_results(
) -> anyhow::Result<()> {
    let platform =
        Platform::start_with(|settings| settings.registry_check_interval_secs = 1).await?;
    RegistryServiceClient::new(platform.submission_channel())
        .import_registry(with_auth(
            ImportRegistryRequest {
                document_toml: registry_with_the_merger()?.to_toml(),
                expected_revision: Some(1),
                reason: "the 2025 merger of wards".to_owned(),
            },
            &platform.backends.token(Role::Operator),
        ))
        .await?;

    platform
        .published_round(
            2024,
            &[
                (WARDS[0].0, values(9, 8)),
                (WARDS[1].0, values(5, 6)),
                (WARDS[2].0, values(4, 3)),
                ("quan-1", values(7, 5)),
            ],
        )
        .await?;
    platform
        .published_round(2025, &[(MERGED.0, values(6, 6)), ("quan-1", values(7, 5))])
        .await?;

    // The wards' published 2024 totals and ranks (columns: rank, id, name, total, …).
    let previous = csv_rows(
        &platform
            .get("/2024/hcm-2023-district/ranking.csv")
            .await
            .text(),
    )?;
    let wards: Vec<&Vec<String>> = previous
        .iter()
        .filter(|row| WARDS.iter().any(|(id, _)| row[1] == *id))
        .collect();
    assert_eq!(wards.len(), 3, "{previous:?}");
    let sum: i64 = wards
        .iter()
        .map(|row| cents(&row[3]))
        .sum::<anyhow::Result<i64>>()?;
    let mean = (2 * sum + 3) / 6; // sum / 3 rounded half-up, in hundredths
    let mean = format!("{}.{:02}", mean / 100, mean % 100);
    let best_rank = wards.iter().map(|row| row[0].clone()).min().expect("three");

    // Once the site has the registry in force, the merged ward's row carries the mean.
    let row = eventually(
        "the site to compare the merged ward with its predecessors",
        Poll::new(Duration::from_secs(20), Duration::from_millis(250)),
        || {
            let platform = &platform;
            async move {
                let text = platform
                    .get("/2025/hcm-2023-district/ranking.csv")
                    .await
                    .text();
                let rows = csv_rows(&text)?;
                let merged = rows.into_iter().find(|row| row[1] == MERGED.0);
                Ok(merged.filter(|row| row.last().is_some_and(|basis| !basis.is_empty())))
            }
        },
    )
    .await?;
    let columns = row.len();
    assert_eq!(row[2], MERGED.1);
    assert_eq!(row[columns - 4], best_rank, "{row:?}");
    assert_eq!(row[columns - 2], mean, "{row:?}");
    let basis = &row[columns - 1];
    // The download names the wards by id, for the reader's own joins.
    let ids: Vec<&str> = WARDS.iter().map(|(id, _)| *id).collect();
    assert_eq!(basis, &format!("trung bình của {}", ids.join(", ")));
    // quan-1 existed in both years: its previous figure is its own.
    let rows = csv_rows(
        &platform
            .get("/2025/hcm-2023-district/ranking.csv")
            .await
            .text(),
    )?;
    let quan_1 = rows.iter().find(|row| row[1] == "quan-1").expect("quan-1");
    let quan_1_before = previous
        .iter()
        .find(|row| row[1] == "quan-1")
        .expect("quan-1");
    assert_eq!(quan_1[columns - 2], quan_1_before[3]);
    assert_eq!(quan_1[columns - 1], "");

    // The unit page says it too, naming the three wards.
    let page = platform
        .get(&format!("/2025/hcm-2023-district/units/{}", MERGED.0))
        .await;
    page.expect(200);
    let html = page.text();
    assert!(html.contains(&mean), "the mean on the unit page");
    for (_, name) in WARDS {
        assert!(html.contains(name), "{name} on the unit page");
    }
    platform.stop().await
}
