//! dtictl's help speaks the run's language: every about of a command, help of an argument and
//! of a value comes from the catalogues (`dtictl::help`), in Vietnamese unless `--lang en` or
//! `DTI_LANG=en` chooses English. The English catalogue repeats the doc comments clap derives the
//! help from, so English help is exactly the help clap gave before; nothing that has help today
//! lacks a catalogue entry, and nothing in the tables or in the catalogues' help section is left
//! unused.

use std::collections::BTreeSet;
use std::process::{Command as Process, Output};

use clap::{Arg, ArgAction, Command, CommandFactory, Parser};
use dti_i18n::{section_keys, Lang, HELP_SECTION};
use dtictl::{help, Cli};

fn t(lang: Lang, key: &str) -> String {
    lang.catalog().text(key)
}

/// Every command of `cmd` with its path (subcommand names joined by spaces), `cmd` first;
/// clap's own `help` commands left out.
fn commands<'a>(cmd: &'a Command, path: &str, found: &mut Vec<(String, &'a Command)>) {
    found.push((path.to_owned(), cmd));
    for sub in cmd.get_subcommands().filter(|sub| sub.get_name() != "help") {
        commands(sub, &help::sub_path(path, sub.get_name()), found);
    }
}

fn all_commands(cmd: &Command) -> Vec<(String, &Command)> {
    let mut found = Vec::new();
    commands(cmd, "", &mut found);
    found
}

fn is_clap_flag(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

/// Each value of `arg` that has help: its name and help.
fn value_helps(arg: &Arg) -> Vec<(String, String)> {
    let Some(values) = arg.get_value_parser().possible_values() else {
        return Vec::new();
    };
    values
        .filter_map(|value| {
            let help = value.get_help()?.to_string();
            Some((value.get_name().to_owned(), help))
        })
        .collect()
}

#[test]
fn every_help_of_today_has_a_catalogue_entry_and_english_is_its_doc_comment() {
    // The command as clap derives it from the doc comments, before any translation (the global
    // arguments only on dtictl itself).
    let derived = Cli::command();
    let en = Lang::En.catalog();
    let mut used = BTreeSet::new();
    let mut checked = 0;
    for (path, cmd) in all_commands(&derived) {
        assert!(
            cmd.get_long_about().is_none(),
            "{path:?}: a doc comment of more than one paragraph is a long about, not translated"
        );
        let about = cmd.get_about().map(ToString::to_string);
        let about = about.unwrap_or_else(|| panic!("{path:?}: a command without an about"));
        let key = help::about_key(&path);
        assert_eq!(en.text(&key), about, "{path:?}: {key}");
        used.insert(key);
        checked += 1;
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            assert!(
                arg.get_long_help().is_none(),
                "{path:?} {id}: a doc comment of more than one paragraph is a long help"
            );
            if let Some(text) = arg.get_help() {
                let key = help::arg_key(&path, id);
                let key =
                    key.unwrap_or_else(|| panic!("{path:?} {id}: help without a key: {text}"));
                assert_eq!(en.text(&key), text.to_string(), "{path:?} {id}: {key}");
                used.insert(key);
                checked += 1;
            }
            for (value, text) in value_helps(arg) {
                let key = help::value_key(arg, &value);
                let key = key.unwrap_or_else(|| panic!("{path:?} {id}={value}: no key: {text}"));
                assert_eq!(en.text(key), text, "{path:?} {id}={value}: {key}");
                used.insert(key.to_owned());
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "the walk reads every command: {checked}");
    let unused: Vec<_> = help::keys().filter(|key| !used.contains(key)).collect();
    assert!(
        unused.is_empty(),
        "rows naming no help of today: {unused:?}"
    );
    // The help's keys follow the commands, so the workspace's scan for keys written as literals
    // passes the catalogues' help section over: each of its keys is used here, by a command, an
    // argument or a value, or by clap's own words.
    let clap_words = include_str!("../src/help/mod.rs");
    for lang in Lang::ALL {
        let unused: Vec<_> = section_keys(lang.source(), HELP_SECTION)
            .into_iter()
            .filter(|key| !used.contains(key) && !clap_words.contains(&format!("\"{key}\"")))
            .collect();
        assert!(unused.is_empty(), "{lang}: help of nothing: {unused:?}");
    }
    for lang in Lang::ALL {
        let keys: BTreeSet<&str> = lang.catalog().keys().iter().map(String::as_str).collect();
        let missing: Vec<_> = used
            .iter()
            .filter(|key| !keys.contains(key.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{lang}: keys not in the catalogue: {missing:?}"
        );
    }
}

/// What parsing `line` (the program's name first) ends with: the help, the version or the
/// problem, as plain text and with its styles.
fn shown(parsed: Result<Cli, clap::Error>, line: &[&str]) -> (String, String) {
    let error = parsed.expect_err(&format!("{line:?} shows help"));
    (error.to_string(), error.render().ansi().to_string())
}

#[test]
fn english_help_is_the_help_clap_derives_from_the_doc_comments() {
    let derived = Cli::command();
    let paths: Vec<String> = all_commands(&derived).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths.len(), 87, "{paths:?}");
    for path in &paths {
        for flag in ["--help", "-h"] {
            // A program name with a folder, as a shell gives it: clap names the program after
            // its file name.
            let mut line = vec!["/opt/dti/bin/dtictl", "--lang", "en"];
            line.extend(path.split_whitespace());
            line.push(flag);
            let today = shown(Cli::try_parse_from(&line), &line);
            let now = shown(help::try_parse_from(&line), &line);
            assert_eq!(now, today, "{line:?}");
        }
    }
    for line in [
        vec!["dtictl", "--lang", "en", "--version"],
        vec!["dtictl", "--lang", "en", "help", "round", "open"],
        vec!["dtictl", "--lang", "en", "round", "help"],
        vec!["dtictl", "--lang", "en", "round", "oppen"],
        vec!["dtictl", "--lang", "en", "round", "open", "--year"],
    ] {
        let today = shown(Cli::try_parse_from(&line), &line);
        assert_eq!(shown(help::try_parse_from(&line), &line), today, "{line:?}");
    }
    // Without help asked, a command line parses to the same command.
    let line = ["dtictl", "--lang", "en", "round", "open", "--year", "2023"];
    let line: Vec<&str> = line
        .into_iter()
        .chain(["--framework", "hcm-2023-district"])
        .collect();
    let today = format!("{:?}", Cli::try_parse_from(&line).expect("parses"));
    assert_eq!(
        format!("{:?}", help::try_parse_from(&line).expect("parses")),
        today
    );
}

#[test]
fn vietnamese_help_shows_the_vietnamese_catalogue_everywhere() {
    let vi = help::command(Lang::Vi);
    let mut commands_seen = 0;
    for (path, cmd) in all_commands(&vi) {
        commands_seen += 1;
        let key = help::about_key(&path);
        assert_eq!(
            cmd.get_about().map(ToString::to_string),
            Some(t(Lang::Vi, &key))
        );
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            let help = arg.get_help().map(ToString::to_string);
            let expected = match arg.get_action() {
                ArgAction::Version => t(Lang::Vi, "cli-version-flag"),
                _ if is_clap_flag(arg) => t(Lang::Vi, "cli-help-flag-short"),
                // dtictl's own arguments are global: every command shows them as dtictl does.
                _ if arg.is_global_set() => t(Lang::Vi, &help::arg_key("", id).expect("a key")),
                _ => t(Lang::Vi, &help::arg_key(&path, id).expect("a key")),
            };
            assert_eq!(help, Some(expected), "{path:?} {id}");
            for (value, text) in value_helps(arg) {
                let key = help::value_key(arg, &value).expect("a key");
                assert_eq!(text, t(Lang::Vi, key), "{path:?} {id}={value}");
            }
        }
        if let Some(clap_help) = cmd.find_subcommand("help") {
            let about = clap_help.get_about().map(ToString::to_string);
            assert_eq!(about, Some(t(Lang::Vi, "cli-help-command")), "{path:?}");
        }
    }
    assert_eq!(commands_seen, 87);

    // Vietnamese and English differ wherever the help has words.
    let line = ["dtictl", "--lang", "vi", "export", "--help"];
    let (text, _) = shown(help::try_parse_from(line), &line);
    for key in [
        "cli-heading-usage",
        "cli-heading-commands",
        "cli-heading-options",
    ] {
        assert!(
            text.contains(&format!("{}:", t(Lang::Vi, key))),
            "{key}: {text}"
        );
        assert!(
            !text.contains(&format!("{}:", t(Lang::En, key))),
            "{key}: {text}"
        );
    }
    let line = ["dtictl", "--lang", "vi", "framework", "show", "--help"];
    let (text, _) = shown(help::try_parse_from(line), &line);
    assert!(
        text.contains(&format!("{}:", t(Lang::Vi, "cli-heading-arguments"))),
        "{text}"
    );
    assert!(
        text.contains(&t(Lang::Vi, "cli-framework-show-json")),
        "{text}"
    );
}

/// `help` without the value clap shows of DTI_LANG.
fn without_env(help: &str) -> String {
    help.lines()
        .map(|line| match line.split_once("[env: DTI_LANG=") {
            Some((before, _)) => format!("{before}[env: DTI_LANG]"),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A run of dtictl: the language it should speak, its command line and its environment.
type Run<'a> = (Lang, &'a [&'a str], &'a [(&'a str, &'a str)]);

fn dtictl(line: &[&str], env: &[(&str, &str)]) -> Output {
    let mut process = Process::new(env!("CARGO_BIN_EXE_dtictl"));
    process.args(line).env_remove("DTI_LANG");
    for (name, value) in env {
        process.env(name, value);
    }
    process.output().expect("dtictl runs")
}

#[test]
fn round_open_help_is_vietnamese_by_default_and_english_when_asked() {
    let texts = |lang: Lang| {
        [
            "cli-about-round-open",
            "cli-round-open-deadline-in-hours",
            "cli-round-open-units",
            "cli-arg-year",
            "cli-arg-submission-endpoint",
            "cli-lang",
            "cli-value-lang-vi",
            "cli-help-flag-long",
        ]
        .map(|key| t(lang, key))
    };
    let runs: [Run; 6] = [
        (Lang::Vi, &["round", "open", "--help"], &[]),
        (
            Lang::Vi,
            &["round", "open", "--help"],
            &[("DTI_LANG", "vi")],
        ),
        (
            Lang::Vi,
            &["--lang", "vi", "round", "open", "--help"],
            &[("DTI_LANG", "en")],
        ),
        (Lang::En, &["--lang", "en", "round", "open", "--help"], &[]),
        (Lang::En, &["round", "open", "--lang=en", "--help"], &[]),
        (
            Lang::En,
            &["round", "open", "--help"],
            &[("DTI_LANG", "en")],
        ),
    ];
    for (lang, line, env) in runs {
        let out = dtictl(line, env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{line:?} {env:?}: {stdout}");
        let usage = format!(
            "{}: dtictl round open [OPTIONS]",
            t(lang, "cli-heading-usage")
        );
        assert!(stdout.contains(&usage), "{lang}: {usage} in {stdout}");
        for text in texts(lang) {
            assert!(
                stdout.contains(&text),
                "{lang} {line:?}: {text} in {stdout}"
            );
        }
        let other = if lang == Lang::Vi { Lang::En } else { Lang::Vi };
        for text in texts(other) {
            assert!(
                !stdout.contains(&text),
                "{lang} {line:?}: {text} in {stdout}"
            );
        }
        // What the tests above check command by command, as the binary prints it (clap shows
        // the value of DTI_LANG, which is the run's).
        let full = ["dtictl", "--lang", lang.tag(), "round", "open", "--help"];
        let (expected, _) = shown(help::try_parse_from(full), &full);
        assert_eq!(
            without_env(&stdout),
            without_env(&expected),
            "{lang} {line:?}"
        );
    }
    // Short help (-h) too.
    let out = dtictl(&["round", "open", "-h"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&t(Lang::Vi, "cli-round-open-deadline-in-hours")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&t(Lang::Vi, "cli-help-flag-short")),
        "{stdout}"
    );
}
