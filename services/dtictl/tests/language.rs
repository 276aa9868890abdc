//! dtictl speaks the city's language: every text it prints comes from the message catalogues,
//! in Vietnamese unless `--lang en` or `DTI_LANG=en` chooses English. A table command (round
//! progress), a problem of the command line (exit 2), a state change the platform refuses
//! (exit 3) and an unreachable service (exit 1) are read in both languages, against the
//! catalogues' own texts.

mod support;

use dti_i18n::{Arg, Lang};
use support::{text, with_round, Stack};

fn t(lang: Lang, key: &str) -> String {
    lang.catalog().text(key)
}

/// The progress table's headings and the open round's state, in `lang`.
fn progress_texts(lang: Lang) -> Vec<String> {
    [
        "dtictl-col-cohort",
        "dtictl-col-not-submitted",
        "dtictl-col-awaiting-verification",
        "dtictl-col-published-rank",
    ]
    .into_iter()
    .map(|key| t(lang, key))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtictl_prints_vietnamese_by_default_and_english_when_asked() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round().await;
    assert_ne!(progress_texts(Lang::Vi), progress_texts(Lang::En));

    // A table: round progress. No choice, DTI_LANG=vi, and DTI_LANG=en overruled by --lang vi
    // are Vietnamese; --lang en and DTI_LANG=en are English.
    let progress = with_round(&["round", "progress"]);
    let with_flag = |lang: &'static str| {
        let mut line = vec!["--lang", lang];
        line.extend(progress.iter().copied());
        line
    };
    let runs = [
        (Lang::Vi, progress.clone(), vec![]),
        (Lang::Vi, progress.clone(), vec![("DTI_LANG", "vi")]),
        (Lang::Vi, with_flag("vi"), vec![("DTI_LANG", "en")]),
        (Lang::En, with_flag("en"), vec![]),
        (Lang::En, progress.clone(), vec![("DTI_LANG", "en")]),
    ];
    for (lang, line, env) in runs {
        let out = stack.dtictl_as_is(&line, &env).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{line:?} {env:?}: {stdout}");
        let round = lang.catalog().format(
            "dtictl-progress-round",
            &[
                ("name", Arg::from("2023/hcm-2023-district")),
                ("state", Arg::from(t(lang, "dtictl-state-open"))),
                ("deadline", Arg::from("")),
            ],
        );
        assert!(stdout.starts_with(round.trim_end()), "{lang}: {stdout}");
        for heading in progress_texts(lang) {
            assert!(stdout.contains(&heading), "{lang}: {heading} in {stdout}");
        }
        let other = if lang == Lang::Vi { Lang::En } else { Lang::Vi };
        for heading in progress_texts(other) {
            assert!(!stdout.contains(&heading), "{lang}: {heading} in {stdout}");
        }
    }

    for lang in Lang::ALL {
        let tag = lang.tag();
        // The command line's own problems, every one listed (exit 2).
        let mut line = vec!["--lang", tag, "ranking", "show", "--limit", "0"];
        line.extend(["--page-size", "0"]);
        line.extend(support::ROUND);
        let out = stack.dtictl_as_is(&line, &[]).await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
        assert_eq!(
            text(&out.stderr).lines().collect::<Vec<_>>(),
            [t(lang, "dtictl-limit-min"), t(lang, "dtictl-page-size")],
        );

        // A state change the platform refuses: the round is open already (exit 3). The first
        // line names what was refused in dtictl's language, then the service's code.
        let mut line = vec!["--lang", tag];
        line.extend(with_round(&["round", "open"]));
        let out = stack.dtictl_as_is(&line, &[]).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        let what = format!("{}: ", t(lang, "dtictl-what-round"));
        assert!(
            stderr.starts_with(&format!("{what}FailedPrecondition: "))
                || stderr.starts_with(&format!("{what}AlreadyExists: ")),
            "{lang}: {stderr}"
        );

        // An unexpected failure (exit 1) carries the catalogue's prefix.
        let mut line = vec!["--lang", tag];
        line.extend(with_round(&["round", "show"]));
        let unreachable = [("DTICTL_SUBMISSION_ENDPOINT", "http://127.0.0.1:9")];
        let out = stack.dtictl_as_is(&line, &unreachable).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let error = lang.catalog().format(
            "dtictl-error",
            &[(
                "error",
                Arg::from(lang.catalog().format(
                    "dtictl-endpoint-unreachable",
                    &[
                        ("endpoint", Arg::from("http://127.0.0.1:9")),
                        ("flag", Arg::from("--submission-endpoint")),
                        ("error", Arg::from("")),
                    ],
                )),
            )],
        );
        assert!(stderr.starts_with(error.trim_end()), "{lang}: {stderr}");
    }
    stack.stop().await
}
