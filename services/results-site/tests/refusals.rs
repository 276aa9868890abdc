//! The results site's refusals: 400 for malformed requests (a bad year, language or revision,
//! an unknown or repeated parameter), 404 for anything unpublished (a round verified but not
//! published, an unknown cohort or unit), each a page in the reader's language.

mod support;

use dti_i18n::{Lang, Message};
use support::{values, Platform, RANKING};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpublished_rounds_unknown_units_and_malformed_requests_are_refused() -> anyhow::Result<()>
{
    let platform = Platform::start().await?;
    // Verified but not published: nothing of it is reachable.
    platform
        .verified_round(2023, &[("quan-1", values(7, 4)), ("quan-3", values(9, 8))])
        .await?;
    for path in [
        RANKING.to_owned(),
        format!("{RANKING}/units/quan-1"),
        format!("{RANKING}/snapshot.json"),
        format!("{RANKING}/ranking.csv"),
        format!("{RANKING}/ranking.xlsx"),
    ] {
        let answer = platform.get(&path).await;
        answer.expect(404);
        assert!(!answer.text().contains("quan-3"), "{path}");
    }
    let index = platform.get("/").await;
    index.expect(200);
    assert!(index.text().contains("Chưa có kết quả nào được công bố"));

    platform
        .published_round(2022, &[("quan-1", values(5, 4)), ("quan-3", values(6, 8))])
        .await?;
    let published = "/2022/hcm-2023-district";
    platform.get(published).await.expect(200);
    assert!(platform
        .get("/")
        .await
        .text()
        .contains(&format!("href=\"{published}\"")));
    // The 2023 round is still unpublished.
    platform.get(RANKING).await.expect(404);

    // 404: unknown cohort, unknown unit, a unit not in the cohort, a revision never published,
    // a year with nothing published, an unknown path.
    for path in [
        "/2022/hcm-2099-district".to_owned(),
        format!("{published}/units/no-such-unit"),
        format!("{published}/units/quan-4"),
        format!("{published}?revision=2"),
        format!("{published}/snapshot.json?revision=2"),
        "/2019/hcm-2023-district".to_owned(),
        "/no/such/page/here".to_owned(),
    ] {
        platform.get(&path).await.expect(404);
    }

    // 400 with a message naming the parameter.
    for (path, named) in [
        (format!("{published}?lang=fr"), "lang"),
        (format!("{published}?revision=abc"), "revision"),
        (format!("{published}?revision=0"), "revision"),
        (format!("{published}?lang=en&lang=vi"), "lang"),
        (format!("{published}?page=2"), "page"),
        (format!("{published}/units/quan-1?revision=-1"), "revision"),
        (format!("{published}/ranking.csv?lang=de"), "lang"),
        ("/20x2/hcm-2023-district".to_owned(), "year"),
        ("/99999/hcm-2023-district".to_owned(), "year"),
    ] {
        let answer = platform.get(&path).await;
        answer.expect(400);
        assert!(
            answer.text().contains(&format!("{named}: ")),
            "{path}: {}",
            answer.text()
        );
    }
    // The refusal is in the reader's language.
    let english = platform
        .get_with(
            &format!("{published}?revision=x"),
            &[("accept-language", "en")],
        )
        .await;
    english.expect(400);
    assert!(english.text().contains("Bad request"));

    // Vietnamese without Accept-Language (or with a language the site does not speak), English
    // on request: the same refusal, its reason from the platform's catalogues.
    let shown = |reason: &str| format!("<p class=\"message\">{reason}</p>");
    let unknown = Message::new("site-unknown-parameter").arg("name", "page");
    let no_languages: &[(&str, &str)] = &[];
    let french: &[(&str, &str)] = &[("accept-language", "fr")];
    for headers in [no_languages, french] {
        let vietnamese = platform
            .get_with(&format!("{published}?page=2"), headers)
            .await;
        vietnamese.expect(400);
        let html = vietnamese.text();
        assert!(html.contains("<html lang=\"vi\">"), "{html}");
        assert!(html.contains(&shown(&unknown.render(Lang::Vi))), "{html}");
    }
    assert_eq!(
        unknown.render(Lang::Vi),
        "page: tham số truy vấn không xác định; các trang chỉ nhận lang (vi hoặc en) và revision"
    );
    let english = platform
        .get_with(&format!("{published}?page=2"), &[("accept-language", "en")])
        .await;
    english.expect(400);
    assert!(
        english.text().contains(&shown(
            "page: unknown query parameter; the pages take lang (vi or en) and revision"
        )),
        "{}",
        english.text()
    );
    let vietnamese = platform.get("/no/such/page/here").await;
    vietnamese.expect(404);
    assert!(
        vietnamese
            .text()
            .contains(&shown(&Message::new("site-no-such-page").render(Lang::Vi))),
        "{}",
        vietnamese.text()
    );
    assert!(vietnamese.text().contains(&shown("không có trang này")));
    let title = |lang| {
        format!(
            "<h1>{}</h1>",
            Message::new("site-error-not-found").render(lang)
        )
    };
    assert!(vietnamese.text().contains(&title(Lang::Vi)));
    let english = platform
        .get_with("/no/such/page/here", &[("accept-language", "en")])
        .await;
    english.expect(404);
    assert!(
        english.text().contains(&shown("no such page")),
        "{}",
        english.text()
    );
    assert!(english.text().contains(&title(Lang::En)));

    platform.stop().await
}
