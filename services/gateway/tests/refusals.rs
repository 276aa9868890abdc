//! What the gateway refuses and how: a body that is not JSON, of the wrong shape or too large
//! is a 400 naming the field and changes nothing stored; a service's own InvalidArgument comes
//! through with its message and field violations, in the language the caller's
//! `Accept-Language` asks for (Vietnamese without one), as are the gateway's own refusals;
//! unknown RPCs are 404; a caller over its rate limit gets 429 with `Retry-After`; CORS is off
//! unless configured.

mod support;

use dti_auth::Role;
use dti_i18n::{Lang, Message};
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::GetRankingRequest;
use reqwest::Method;
use serde_json::json;
use support::{round_json, Platform};

const SUBMIT: &str = "dti.submission.v1.SubmissionService/SubmitAssessment";

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field_and_store_nothing() -> anyhow::Result<()> {
    let platform = Platform::start(|settings| settings.max_body_bytes = 2048).await?;
    let unit = platform.unit_token("quan-1");

    let cases: [(&[u8], &str); 6] = [
        (b"round=2023", "body"),
        (b"{\"round\": {\"year\": 2023", "round"),
        (b"{\"round\": {\"year\": \"twenty\"}}", "round.year"),
        (b"{\"round\": {\"yaer\": 2023}}", "round"),
        (
            b"{\"values\": [{\"indicatorCode\": 12}]}",
            "values[0].indicatorCode",
        ),
        (
            b"{\"values\": [{\"variables\": {\"a\": {\"count\": \"-1\"}}}]}",
            "values[0].variables.a.count",
        ),
    ];
    for (body, field) in cases {
        let answer = platform.call_raw(SUBMIT, &unit, body).await;
        answer.expect(400);
        let json = answer.json();
        assert_eq!(json["code"], "INVALID_ARGUMENT", "{json}");
        let fields = answer.violated_fields();
        assert!(
            fields.iter().any(|named| named.starts_with(field)),
            "{} should name {field}: {json}",
            String::from_utf8_lossy(body)
        );
    }
    let large = json!({"clientRequestId": "x".repeat(4096)});
    let answer = platform.call(SUBMIT, &unit, &large).await;
    answer.expect(400);
    assert_eq!(answer.violated_fields(), ["body"]);
    assert!(answer.json()["message"].as_str().unwrap().contains("2048"));
    assert_eq!(platform.backends.count_rows("submissions").await?, 0);

    // Unknown services and methods, and other paths, are JSON 404s.
    for path in [
        "/v1/dti.ranking.v1.RankingService/Nope",
        "/v1/dti.nope.v1.NopeService/GetRanking",
        "/v2/anything",
    ] {
        let answer = platform
            .send(
                Method::POST,
                path,
                Some(&unit),
                Some(("application/json", b"{}".to_vec())),
                &[],
            )
            .await;
        answer.expect(404);
        assert_eq!(answer.json()["code"], "NOT_FOUND");
    }
    platform.stop().await
}

#[tokio::test]
async fn a_services_invalid_argument_comes_through_as_the_grpc_api_gives_it() -> anyhow::Result<()>
{
    let platform = Platform::start(|_| {}).await?;
    let operator = platform.token(Role::Operator);
    let bad = json!({"round": {"year": 1999, "framework": "no-such-framework"}, "pageSize": 5000});
    let body = serde_json::to_vec(&bad)?;
    let through_gateway = |languages: Option<&'static str>| {
        let headers: Vec<(&str, &str)> = languages
            .map(|languages| ("accept-language", languages))
            .into_iter()
            .collect();
        let body = body.clone();
        let operator = operator.clone();
        let platform = &platform;
        async move {
            platform
                .send(
                    Method::POST,
                    "/v1/dti.ranking.v1.RankingService/GetRanking",
                    Some(&operator),
                    Some(("application/json", body)),
                    &headers,
                )
                .await
        }
    };

    let mut direct =
        RankingServiceClient::connect(platform.backend_endpoints.ranking.clone()).await?;
    let request = GetRankingRequest {
        round: Some(dti_proto::dti::common::v1::RoundRef {
            year: 1999,
            framework: "no-such-framework".into(),
        }),
        page_size: 5000,
        ..GetRankingRequest::default()
    };
    // The gateway passes `Accept-Language` on: English asked, English answered, as the service
    // answers a gRPC caller with `accept-language: en`; none asked, Vietnamese.
    for (languages, direct_languages) in [(Some("en-US,en;q=0.9"), Some("en")), (None, None)] {
        let answer = through_gateway(languages).await;
        answer.expect(400);
        let status = direct
            .get_ranking(dti_testkit::in_language(
                dti_testkit::with_auth(request.clone(), &operator),
                direct_languages,
            ))
            .await
            .unwrap_err();
        let json = answer.json();
        assert_eq!(json["message"], status.message(), "{languages:?}");
        let expected = dti_testkit::refusals::violated_fields(&status);
        assert!(!expected.is_empty());
        assert_eq!(answer.violated_fields(), expected, "{json}");
    }
    let english = through_gateway(Some("en")).await.json();
    let vietnamese = through_gateway(None).await.json();
    assert!(
        english["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid request"),
        "{english}"
    );
    assert!(
        vietnamese["message"]
            .as_str()
            .unwrap()
            .starts_with("yêu cầu không hợp lệ"),
        "{vietnamese}"
    );
    platform.stop().await
}

#[tokio::test]
async fn the_gateways_own_refusals_are_in_the_callers_language() -> anyhow::Result<()> {
    let platform = Platform::start(|settings| settings.max_body_bytes = 2048).await?;
    let unit = platform.unit_token("quan-1");
    let large = serde_json::to_vec(&json!({"clientRequestId": "x".repeat(4096)}))?;
    let send = |path: String, body: Vec<u8>, languages: Option<&'static str>| {
        let headers: Vec<(&str, &str)> = languages
            .map(|languages| ("accept-language", languages))
            .into_iter()
            .collect();
        let unit = unit.clone();
        let platform = &platform;
        async move {
            platform
                .send(
                    Method::POST,
                    &path,
                    Some(&unit),
                    Some(("application/json", body)),
                    &headers,
                )
                .await
        }
    };
    let text = |answer: &support::Answer, name: &str| -> String {
        answer.json()[name].as_str().unwrap_or_default().to_owned()
    };
    let description = |answer: &support::Answer| -> String {
        answer.json()["fieldViolations"][0]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // A body over the limit: Vietnamese without Accept-Language (or with a language the
    // platform does not speak), English when asked; the same code and field either way.
    let too_large = Message::new("gateway-body-too-large").arg("max", 2048_u64);
    for languages in [None, Some("fr-FR,fr;q=0.9")] {
        let answer = send(format!("/v1/{SUBMIT}"), large.clone(), languages).await;
        answer.expect(400);
        assert_eq!(answer.json()["code"], "INVALID_ARGUMENT");
        assert_eq!(answer.violated_fields(), ["body"]);
        assert_eq!(description(&answer), too_large.render(Lang::Vi));
        assert_eq!(
            text(&answer, "message"),
            Message::new("gateway-invalid-field")
                .arg("field", "body")
                .arg("problem", too_large.clone())
                .render(Lang::Vi)
        );
        assert_eq!(answer.headers["content-language"], "vi");
    }
    assert_eq!(too_large.render(Lang::Vi), "lớn hơn 2048 byte");
    let english = send(format!("/v1/{SUBMIT}"), large, Some("en-US,en;q=0.9")).await;
    english.expect(400);
    assert_eq!(english.json()["code"], "INVALID_ARGUMENT");
    assert_eq!(english.violated_fields(), ["body"]);
    assert_eq!(description(&english), "larger than 2048 bytes");
    assert_eq!(
        text(&english, "message"),
        "invalid body: larger than 2048 bytes"
    );
    assert_eq!(english.headers["content-language"], "en");

    // A path that is no route.
    let vietnamese = send("/v2/anything".into(), b"{}".to_vec(), None).await;
    vietnamese.expect(404);
    assert_eq!(vietnamese.json()["code"], "NOT_FOUND");
    assert_eq!(
        text(&vietnamese, "message"),
        Message::new("gateway-no-route").render(Lang::Vi)
    );
    assert!(text(&vietnamese, "message").contains("POST /v1/{package}.{Service}/{Method}"));
    let english = send("/v2/anything".into(), b"{}".to_vec(), Some("en")).await;
    english.expect(404);
    assert_eq!(
        text(&english, "message"),
        "no such route: RPCs are POST /v1/{package}.{Service}/{Method}"
    );
    assert_ne!(text(&vietnamese, "message"), text(&english, "message"));
    assert_eq!(platform.backends.count_rows("submissions").await?, 0);
    platform.stop().await
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_others_go_on() -> anyhow::Result<()> {
    let platform = Platform::start(|settings| {
        settings.rate_limit_per_second = 1;
        settings.rate_limit_burst = 3;
    })
    .await?;
    let busy = platform.token(Role::Operator);
    let request = json!({"round": round_json()});
    let rpc = "dti.submission.v1.RoundOperatorService/GetRound";
    for _ in 0..3 {
        let answer = platform.call(rpc, &busy, &request).await;
        assert_ne!(answer.status, 429, "within the burst");
    }
    let limited = platform.call(rpc, &busy, &request).await;
    limited.expect(429);
    assert_eq!(limited.json()["code"], "RESOURCE_EXHAUSTED");
    let retry_after: u64 = limited.headers["retry-after"].to_str()?.parse()?;
    assert!((1..=2).contains(&retry_after), "{retry_after}");

    let other = platform
        .call(rpc, &platform.token(Role::Verifier), &request)
        .await;
    assert_ne!(other.status, 429, "another token has its own quota");
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    let again = platform.call(rpc, &busy, &request).await;
    assert_ne!(again.status, 429, "allowed again after Retry-After");
    platform.stop().await
}

async fn preflight(platform: &Platform, origin: &str) -> support::Answer {
    platform
        .send(
            Method::OPTIONS,
            "/v1/dti.ranking.v1.RankingService/GetRanking",
            None,
            None,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
            ],
        )
        .await
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() -> anyhow::Result<()> {
    let platform = Platform::start(|settings| {
        settings.cors_allowed_origins = vec!["https://dti.example.vn".into()];
    })
    .await?;
    let allowed = preflight(&platform, "https://dti.example.vn").await;
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://dti.example.vn"
    );
    let refused = preflight(&platform, "https://elsewhere.example").await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());
    platform.stop().await?;

    let closed = Platform::start(|_| {}).await?;
    let answer = closed
        .send(
            Method::OPTIONS,
            "/v1/dti.ranking.v1.RankingService/GetRanking",
            None,
            None,
            &[
                ("origin", "https://dti.example.vn"),
                ("access-control-request-method", "POST"),
            ],
        )
        .await;
    assert!(answer.headers.get("access-control-allow-origin").is_none());
    closed.stop().await
}
