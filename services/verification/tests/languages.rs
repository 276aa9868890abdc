//! The verifier sees the warnings about a unit's self-assessed and verified values side by
//! side, in the language of the request: Vietnamese without `accept-language`, English with
//! `accept-language: en`.

mod support;

use dti_i18n::{Lang, Message};
use dti_proto::dti::verification::v1::{GetSideBySideRequest, SideBySide, ValueWarning};
use dti_testkit::{in_language, with_auth};
use support::{count, overridden, round, unit_ref, values, Stack};

fn shown(warnings: &[ValueWarning]) -> Vec<(String, String)> {
    warnings
        .iter()
        .map(|w| (w.field.clone(), w.description.clone()))
        .collect()
}

fn capped(num: &str) -> Message {
    Message::new("issue-ratio-capped")
        .arg("numerator", "a")
        .arg("num", num)
        .arg("denominator", "b")
        .arg("den", "10")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_sees_both_sides_warnings_in_the_requests_language() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    // quan-1 reports 12 meetings of 10 (a warning, submitted anyway).
    let ids = stack
        .submitted_round(&[
            ("quan-1", Some(values(12, 4))),
            ("quan-3", Some(values(9, 8))),
        ])
        .await?;
    let q1 = ids["quan-1"].clone();
    stack.start_verification().await?;
    stack.open(&q1).await?;
    // The verifier finds 11: still more than 10, a warning on the verified side too.
    stack
        .decide(
            &q1,
            1,
            vec![overridden(
                "1.2",
                &[("a", count(11)), ("b", count(10))],
                "one meeting was counted twice",
            )],
        )
        .await?;
    let side_by_side = |languages: Option<&'static str>| {
        let request = GetSideBySideRequest {
            round: Some(round()),
            unit: Some(unit_ref("quan-1")),
        };
        let request = in_language(with_auth(request, &stack.verifier()), languages);
        let mut client = stack.verification();
        async move {
            client
                .get_side_by_side(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let vietnamese: SideBySide = side_by_side(None).await?;
    let english: SideBySide = side_by_side(Some("en-US,en;q=0.8")).await?;
    let place = "unit quan-1 / indicator 1.2 / variable a".to_owned();
    assert_eq!(
        shown(&vietnamese.self_warnings),
        [(place.clone(), capped("12").render(Lang::Vi))]
    );
    assert_eq!(
        shown(&vietnamese.verified_warnings),
        [(place.clone(), capped("11").render(Lang::Vi))]
    );
    assert!(vietnamese.self_warnings[0]
        .description
        .contains("tỷ lệ được tính tối đa 100%"));
    assert_eq!(
        shown(&english.self_warnings),
        [(
            place.clone(),
            "a = 12 exceeds b = 10; the ratio is capped at 100%".to_owned()
        )]
    );
    assert_eq!(
        shown(&english.verified_warnings),
        [(
            place,
            "a = 11 exceeds b = 10; the ratio is capped at 100%".to_owned()
        )]
    );
    // The rest of the view does not depend on the language.
    assert_eq!(vietnamese.rows, english.rows);
    stack.close().await
}
