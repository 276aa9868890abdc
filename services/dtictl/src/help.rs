//! dtictl's help in the run's language: `dtictl --help` and each command's `--help` show the
//! catalogues' texts (the `## dtictl --help` section of `locales/{vi,en}/dti.ftl`), in Vietnamese
//! unless `--lang en` or `DTI_LANG=en` chooses English, like everything else dtictl prints.
//!
//! clap reads the help from the doc comments of [`Cli`] and its commands; those stay, as the
//! code's documentation and as the English texts, which the catalogue repeats word for word (a
//! test holds them together). [`command`] takes the derived command and replaces, command by
//! command, the about of each command (the table `COMMANDS`), the help of each argument (`ARGS`)
//! and of each value of a value enum (`VALUES`) with the catalogue's text for its key, then clap's
//! own words: the help of `--help`, `--version` and the `help` command, and the headings
//! (`Usage:`, `Commands:`, `Arguments:`, `Options:`, through each command's help template).
//! clap's remaining words stay English: the usage's placeholders (`[OPTIONS]`, `<COMMAND>`), the
//! notes `[default: …]`, `[env: …]`, `[possible values: …]`, `Possible values:`, and its own
//! errors on a wrong command line.
//!
//! clap prints help while it parses, before [`crate::run`] learns the language, so the language
//! of the help comes from a look at the raw command line first ([`lang_of`]): the last
//! `--lang X` or `--lang=X`, else `DTI_LANG`, else Vietnamese — the choice clap makes for `--lang`.

use std::any::TypeId;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser, ValueParser};
use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches, ValueEnum};
use dti_i18n::Lang;

use crate::{commands, text, Cli};

/// The variable that chooses dtictl's language when `--lang` does not.
pub const LANG_ENV: &str = "DTI_LANG";

/// Parses the command line `args` (the program's name first) with help and usage in the run's
/// language ([`lang_of`] with the process's `DTI_LANG`); on a problem, or for `--help` and
/// `--version`, prints what clap prints and exits as clap does (2, or 0 for help and version).
pub fn parse<I, T>(args: I) -> Cli
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    try_parse_from(args).unwrap_or_else(|error| error.exit())
}

/// Parses the command line `args` (the program's name first) with help and usage in the run's
/// language; `--help`, `--version` and a wrong command line are the error, with its text.
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let env = std::env::var_os(LANG_ENV);
    let lang = lang_of(&args, env.as_deref());
    let mut cmd = Cli::command();
    // clap names the program after the command line's first word when it parses; the usage of
    // each command is made when the command is built, before that.
    let program = args.first().map(Path::new).and_then(Path::file_name);
    if let Some(program) = program.and_then(OsStr::to_str) {
        cmd = cmd.bin_name(program);
    }
    let mut cmd = localized(cmd, lang);
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|error| error.format(&mut cmd))
}

/// The language of the help for the command line `args` (the program's name first) and the value
/// of `DTI_LANG`: the last `--lang X` or `--lang=X` before a `--`, else `DTI_LANG`, else
/// Vietnamese. A value that is not a language is passed over (clap refuses it after).
pub fn lang_of(args: &[OsString], env: Option<&OsStr>) -> Lang {
    let mut chosen = None;
    let mut rest = args.iter().skip(1).map(|arg| arg.to_str());
    while let Some(arg) = rest.next() {
        let value = match arg {
            Some("--") => break,
            Some("--lang") => rest.next().flatten(),
            Some(arg) => arg.strip_prefix("--lang="),
            None => None,
        };
        if let Some(lang) = value.and_then(parse_lang) {
            chosen = Some(lang);
        }
    }
    chosen
        .or_else(|| env.and_then(OsStr::to_str).and_then(parse_lang))
        .unwrap_or_default()
}

fn parse_lang(value: &str) -> Option<Lang> {
    text::LangArg::from_str(value, false).ok().map(Lang::from)
}

/// dtictl's command with every about, help and heading in `lang`, built (its global arguments
/// given to every command, each command's `--help` and `help` added), ready to parse.
pub fn command(lang: Lang) -> Command {
    localized(Cli::command(), lang)
}

fn localized(cmd: Command, lang: Lang) -> Command {
    let mut cmd = localize(cmd, "", lang);
    cmd.build();
    clap_words(cmd, lang)
}

/// The key of the about of the command at `path` (subcommand names joined by spaces, `""` for
/// `dtictl`).
pub fn about_key(path: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(command, _)| *command == path)
        .map(|(_, key)| *key)
}

/// The key of the help of the argument `id` of the command at `path`: its own row, else the
/// row of an argument shared by several commands (`*`).
pub fn arg_key(path: &str, id: &str) -> Option<&'static str> {
    let row = |wanted: &str| {
        ARGS.iter()
            .find(|(command, arg, _)| *command == wanted && *arg == id)
            .map(|(_, _, key)| *key)
    };
    row(path).or_else(|| row("*"))
}

/// The key of the help of the value `name` of `arg`, when `arg` takes one of the value enums of
/// `VALUES`.
pub fn value_key(arg: &Arg, name: &str) -> Option<&'static str> {
    value_keys(arg)?
        .keys
        .iter()
        .find(|(value, _)| *value == name)
        .map(|(_, key)| *key)
}

/// Every key of the tables, in the order of the tables.
pub fn keys() -> impl Iterator<Item = &'static str> {
    let commands = COMMANDS.iter().map(|(_, key)| *key);
    let args = ARGS.iter().map(|(_, _, key)| *key);
    let values = VALUES
        .iter()
        .flat_map(|values| values.keys.iter().map(|(_, key)| *key));
    commands.chain(args).chain(values)
}

/// The path of the subcommand `name` of the command at `path`.
pub fn sub_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path} {name}")
    }
}

fn t(lang: Lang, key: &str) -> String {
    lang.catalog().text(key)
}

/// The command at `path` and its subcommands with the catalogue's about and help.
fn localize(cmd: Command, path: &str, lang: Lang) -> Command {
    let cmd = match about_key(path) {
        Some(key) => cmd.about(t(lang, key)),
        None => cmd,
    };
    cmd.mut_args(|arg| localize_arg(arg, path, lang))
        .mut_subcommands(|sub| {
            let path = sub_path(path, sub.get_name());
            localize(sub, &path, lang)
        })
}

fn localize_arg(arg: Arg, path: &str, lang: Lang) -> Arg {
    let arg = match arg_key(path, arg.get_id().as_str()) {
        Some(key) => arg.help(t(lang, key)),
        None => arg,
    };
    match value_keys(&arg) {
        Some(values) => values.localize(arg, lang),
        None => arg,
    }
}

/// clap's own words in `lang` in the built `cmd` and its subcommands: the help of `--help`,
/// `--version` and the `help` command, and the headings of the help.
fn clap_words(cmd: Command, lang: Lang) -> Command {
    let template = help_template(&cmd, lang);
    cmd.help_template(template)
        .mut_args(|arg| match arg.get_action() {
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong => {
                // clap's help flag has a long help when the command's long help shows more.
                if arg.get_long_help().is_some() {
                    arg.help(t(lang, "cli-help-flag-short"))
                        .long_help(t(lang, "cli-help-flag-long"))
                } else {
                    arg.help(t(lang, "cli-help-flag"))
                }
            }
            ArgAction::Version => arg.help(t(lang, "cli-version-flag")),
            _ => arg,
        })
        .mut_subcommands(|sub| {
            if sub.get_name() == "help" {
                help_command(sub, lang)
            } else {
                clap_words(sub, lang)
            }
        })
}

/// clap's `help` command, whose subcommands repeat the commands' names and abouts.
fn help_command(cmd: Command, lang: Lang) -> Command {
    let cmd = if cmd.get_name() == "help" {
        cmd.about(t(lang, "cli-help-command"))
    } else {
        cmd
    };
    cmd.mut_subcommands(|sub| help_command(sub, lang))
}

/// clap's default help template with the headings in `lang`: the about, the usage, then the
/// commands, the positional arguments and the options, each when the command has some.
fn help_template(cmd: &Command, lang: Lang) -> String {
    let styles = cmd.get_styles();
    let (usage, header) = (styles.get_usage(), styles.get_header());
    let heading = |text: String| format!("{}{text}:{}", header.render(), header.render_reset());
    let mut sections = Vec::new();
    // As clap: its own `help` command alone makes no list of commands.
    if cmd
        .get_subcommands()
        .any(|sub| sub.get_name() != "help" && !sub.is_hide_set())
    {
        let commands = heading(t(lang, "cli-heading-commands"));
        sections.push(format!("{commands}\n{{subcommands}}"));
    }
    if cmd.get_positionals().any(|arg| !arg.is_hide_set()) {
        let arguments = heading(t(lang, "cli-heading-arguments"));
        sections.push(format!("{arguments}\n{{positionals}}"));
    }
    if cmd
        .get_arguments()
        .any(|arg| !arg.is_positional() && !arg.is_hide_set())
    {
        let options = heading(t(lang, "cli-heading-options"));
        sections.push(format!("{options}\n{{options}}"));
    }
    let usage = format!(
        "{}{}:{} {{usage}}",
        usage.render(),
        t(lang, "cli-heading-usage"),
        usage.render_reset()
    );
    if sections.is_empty() {
        format!("{{before-help}}{{about-with-newline}}\n{usage}{{after-help}}")
    } else {
        let sections = sections.join("\n\n");
        format!("{{before-help}}{{about-with-newline}}\n{usage}\n\n{sections}{{after-help}}")
    }
}

/// The key of each command's about, by command path: the names of the subcommands from
/// `dtictl` down, joined by spaces (`""` is `dtictl` itself).
const COMMANDS: &[(&str, &str)] = &[
    ("", "cli-about"),
    ("score", "cli-about-score"),
    ("validate", "cli-about-validate"),
    ("frameworks", "cli-about-frameworks"),
    ("generate", "cli-about-generate"),
    ("framework", "cli-about-framework"),
    ("framework show", "cli-about-framework-show"),
    ("token", "cli-about-token"),
    ("migrate", "cli-about-migrate"),
    ("bus", "cli-about-bus"),
    ("bus dead-letters", "cli-about-bus-dead-letters"),
    ("bus replay", "cli-about-bus-replay"),
    ("audit", "cli-about-audit"),
    ("audit verify", "cli-about-audit-verify"),
    ("round", "cli-about-round"),
    ("round open", "cli-about-round-open"),
    ("round close", "cli-about-round-close"),
    ("round show", "cli-about-round-show"),
    ("round progress", "cli-about-round-progress"),
    ("round reopen", "cli-about-round-reopen"),
    ("submit", "cli-about-submit"),
    ("sync", "cli-about-sync"),
    ("sync report", "cli-about-sync-report"),
    ("sync plan", "cli-about-sync-plan"),
    ("sync start", "cli-about-sync-start"),
    ("sync status", "cli-about-sync-status"),
    ("sync log", "cli-about-sync-log"),
    ("owner", "cli-about-owner"),
    ("owner submit", "cli-about-owner-submit"),
    ("owner show", "cli-about-owner-show"),
    ("owner completeness", "cli-about-owner-completeness"),
    ("verify", "cli-about-verify"),
    ("verify start", "cli-about-verify-start"),
    ("verify list", "cli-about-verify-list"),
    ("verify show", "cli-about-verify-show"),
    ("verify decide", "cli-about-verify-decide"),
    ("verify clarify", "cli-about-verify-clarify"),
    ("verify complete", "cli-about-verify-complete"),
    ("verify complete-round", "cli-about-verify-complete-round"),
    ("approval", "cli-about-approval"),
    ("approval ranking", "cli-about-approval-ranking"),
    ("approval approve", "cli-about-approval-approve"),
    ("approval return", "cli-about-approval-return"),
    ("publish", "cli-about-publish"),
    ("publication", "cli-about-publication"),
    ("publication show", "cli-about-publication-show"),
    ("publication list", "cli-about-publication-list"),
    ("correction", "cli-about-correction"),
    ("finalize", "cli-about-finalize"),
    ("objection", "cli-about-objection"),
    ("objection file", "cli-about-objection-file"),
    ("objection list", "cli-about-objection-list"),
    ("objection answer", "cli-about-objection-answer"),
    ("draft", "cli-about-draft"),
    ("draft show", "cli-about-draft-show"),
    ("draft set", "cli-about-draft-set"),
    ("draft not-applicable", "cli-about-draft-not-applicable"),
    ("draft clear", "cli-about-draft-clear"),
    ("draft submit", "cli-about-draft-submit"),
    ("draft versions", "cli-about-draft-versions"),
    ("scorecard", "cli-about-scorecard"),
    ("what-if", "cli-about-what-if"),
    ("position", "cli-about-position"),
    ("ranking", "cli-about-ranking"),
    ("ranking show", "cli-about-ranking-show"),
    ("evidence", "cli-about-evidence"),
    ("evidence upload", "cli-about-evidence-upload"),
    ("evidence list", "cli-about-evidence-list"),
    ("evidence download", "cli-about-evidence-download"),
    ("evidence remove", "cli-about-evidence-remove"),
    ("form", "cli-about-form"),
    ("form template", "cli-about-form-template"),
    ("form import", "cli-about-form-import"),
    ("export", "cli-about-export"),
    ("export ranking", "cli-about-export-ranking"),
    ("export side-by-side", "cli-about-export-side-by-side"),
    ("export publication", "cli-about-export-publication"),
    ("export national-form", "cli-about-export-national-form"),
    ("export scorecard", "cli-about-export-scorecard"),
];

/// The key of each argument's help: command path, argument id (the field's name), key. A path
/// `*` is any command: the help of an argument several commands share (the connection to the
/// services, the round a command is about…), used where no row names the command itself. The
/// arguments of `dtictl` itself (path `""`) are global: each command shows them as they are here.
const ARGS: &[(&str, &str, &str)] = &[
    ("", "framework_dir", "cli-framework-dir"),
    ("", "json", "cli-json"),
    ("", "lang", "cli-lang"),
    ("*", "hs256_secret", "cli-arg-hs256-secret"),
    ("*", "submission_endpoint", "cli-arg-submission-endpoint"),
    ("*", "evidence_endpoint", "cli-arg-evidence-endpoint"),
    ("*", "scoring_endpoint", "cli-arg-scoring-endpoint"),
    ("*", "ranking_endpoint", "cli-arg-ranking-endpoint"),
    (
        "*",
        "verification_endpoint",
        "cli-arg-verification-endpoint",
    ),
    (
        "*",
        "national_sync_endpoint",
        "cli-arg-national-sync-endpoint",
    ),
    ("*", "ca_file", "cli-arg-ca-file"),
    ("*", "token", "cli-arg-token"),
    ("*", "year", "cli-arg-year"),
    ("*", "framework", "cli-arg-framework"),
    ("*", "unit", "cli-arg-unit"),
    ("*", "output", "cli-arg-output"),
    ("*", "database_url", "cli-arg-database-url"),
    ("*", "database_tls_ca_file", "cli-arg-database-tls-ca-file"),
    ("*", "basis", "cli-arg-basis"),
    ("*", "reason", "cli-arg-reason"),
    ("*", "group", "cli-arg-group"),
    ("*", "input", "cli-arg-input"),
    ("*", "explain", "cli-arg-explain"),
    ("*", "id", "cli-arg-evidence-id"),
    ("*", "limit", "cli-arg-limit"),
    ("*", "page_size", "cli-arg-page-size"),
    ("*", "as_unit", "cli-arg-as-unit"),
    ("score", "explain", "cli-score-explain"),
    ("score", "format", "cli-score-format"),
    ("generate", "units", "cli-generate-units"),
    ("generate", "seed", "cli-generate-seed"),
    (
        "generate",
        "registry_cohort",
        "cli-generate-registry-cohort",
    ),
    (
        "generate",
        "missing_percent",
        "cli-generate-missing-percent",
    ),
    (
        "generate",
        "not_applicable_percent",
        "cli-generate-not-applicable-percent",
    ),
    ("framework show", "id", "cli-arg-framework"),
    ("framework show", "json", "cli-framework-show-json"),
    ("token", "role", "cli-token-role"),
    ("token", "unit", "cli-token-unit"),
    ("token", "department", "cli-token-department"),
    ("token", "subject", "cli-token-subject"),
    ("token", "ttl_secs", "cli-token-ttl-secs"),
    ("token", "hs256_secret", "cli-token-hs256-secret"),
    ("token", "issuer", "cli-token-issuer"),
    ("token", "audience", "cli-token-audience"),
    (
        "bus dead-letters",
        "consumer",
        "cli-bus-dead-letters-consumer",
    ),
    ("bus dead-letters", "all", "cli-bus-dead-letters-all"),
    ("bus replay", "consumer", "cli-bus-replay-consumer"),
    ("bus replay", "msg_id", "cli-bus-replay-msg-id"),
    ("bus replay", "all", "cli-bus-replay-all"),
    ("audit verify", "year", "cli-arg-round-year"),
    ("audit verify", "framework", "cli-audit-verify-framework"),
    (
        "round open",
        "deadline_in_hours",
        "cli-round-open-deadline-in-hours",
    ),
    ("round open", "units", "cli-round-open-units"),
    ("round reopen", "unit", "cli-round-reopen-unit"),
    (
        "round reopen",
        "deadline_in_hours",
        "cli-round-reopen-deadline-in-hours",
    ),
    ("round reopen", "reason", "cli-round-reopen-reason"),
    ("submit", "input", "cli-submit-input"),
    ("submit", "year", "cli-arg-round-year"),
    ("submit", "units", "cli-submit-units"),
    ("sync report", "year", "cli-sync-report-year"),
    ("sync report", "framework", "cli-sync-report-framework"),
    ("sync report", "format", "cli-sync-report-format"),
    ("sync plan", "year", "cli-arg-national-year"),
    ("sync plan", "all", "cli-sync-plan-all"),
    ("sync start", "year", "cli-arg-national-year"),
    ("sync start", "plan_digest", "cli-sync-start-plan-digest"),
    ("sync start", "wait", "cli-sync-start-wait"),
    ("sync start", "wait_secs", "cli-sync-start-wait-secs"),
    ("sync status", "run_id", "cli-sync-status-run-id"),
    ("sync log", "year", "cli-arg-national-year"),
    ("sync log", "run_id", "cli-sync-log-run-id"),
    ("sync log", "limit", "cli-sync-log-limit"),
    ("owner submit", "file", "cli-owner-submit-file"),
    (
        "owner submit",
        "departments",
        "cli-owner-submit-departments",
    ),
    ("owner show", "year", "cli-arg-national-year"),
    ("owner show", "department", "cli-owner-show-department"),
    ("owner completeness", "year", "cli-arg-national-year"),
    (
        "owner completeness",
        "department",
        "cli-owner-completeness-department",
    ),
    ("verify list", "state", "cli-verify-list-state"),
    ("verify show", "unit", "cli-arg-the-unit"),
    ("verify decide", "file", "cli-verify-decide-file"),
    (
        "verify decide",
        "accept_rest",
        "cli-verify-decide-accept-rest",
    ),
    (
        "verify decide",
        "all_accept",
        "cli-verify-decide-all-accept",
    ),
    ("verify clarify", "unit", "cli-verify-clarify-unit"),
    (
        "verify clarify",
        "indicators",
        "cli-verify-clarify-indicators",
    ),
    (
        "verify clarify",
        "questions",
        "cli-verify-clarify-questions",
    ),
    ("verify complete", "units", "cli-verify-complete-units"),
    ("verify complete", "all", "cli-verify-complete-all"),
    (
        "verify complete",
        "accept_undecided",
        "cli-verify-complete-accept-undecided",
    ),
    (
        "publication show",
        "revision",
        "cli-publication-show-revision",
    ),
    ("objection file", "unit", "cli-objection-file-unit"),
    (
        "objection file",
        "indicator",
        "cli-objection-file-indicator",
    ),
    ("objection list", "unit", "cli-objection-list-unit"),
    ("objection answer", "id", "cli-objection-answer-id"),
    ("objection answer", "answer", "cli-objection-answer-answer"),
    ("objection answer", "uphold", "cli-objection-answer-uphold"),
    ("objection answer", "reject", "cli-objection-answer-reject"),
    ("draft show", "framework", "cli-arg-framework-of-unit"),
    ("draft set", "framework", "cli-arg-framework-of-unit"),
    ("draft set", "file", "cli-draft-set-file"),
    (
        "draft set",
        "not_applicable_reason",
        "cli-draft-set-not-applicable-reason",
    ),
    (
        "draft not-applicable",
        "framework",
        "cli-arg-framework-of-unit",
    ),
    (
        "draft not-applicable",
        "indicator",
        "cli-draft-not-applicable-indicator",
    ),
    (
        "draft not-applicable",
        "reason",
        "cli-draft-not-applicable-reason",
    ),
    ("draft clear", "framework", "cli-arg-framework-of-unit"),
    ("draft clear", "indicator", "cli-draft-clear-indicator"),
    ("draft submit", "framework", "cli-arg-framework-of-unit"),
    ("draft submit", "request_id", "cli-draft-submit-request-id"),
    ("draft versions", "framework", "cli-arg-framework-of-unit"),
    ("scorecard", "framework", "cli-arg-framework-of-unit"),
    ("what-if", "framework", "cli-arg-framework-of-unit"),
    ("what-if", "set", "cli-what-if-set"),
    ("what-if", "not_applicable", "cli-what-if-not-applicable"),
    ("what-if", "clear", "cli-what-if-clear"),
    ("position", "framework", "cli-arg-framework-of-unit"),
    ("evidence upload", "framework", "cli-arg-framework-of-unit"),
    (
        "evidence upload",
        "indicator",
        "cli-evidence-upload-indicator",
    ),
    ("evidence upload", "file", "cli-evidence-upload-file"),
    (
        "evidence upload",
        "content_type",
        "cli-evidence-upload-content-type",
    ),
    ("evidence list", "framework", "cli-arg-framework-of-unit"),
    ("evidence list", "indicator", "cli-evidence-list-indicator"),
    (
        "evidence list",
        "include_removed",
        "cli-evidence-list-include-removed",
    ),
    (
        "evidence download",
        "output",
        "cli-evidence-download-output",
    ),
    ("evidence download", "unit", "cli-evidence-download-unit"),
    ("evidence remove", "reason", "cli-evidence-remove-reason"),
    ("evidence remove", "unit", "cli-evidence-remove-unit"),
    ("form template", "unit", "cli-form-template-unit"),
    ("form template", "year", "cli-form-template-year"),
    ("form template", "fill", "cli-form-template-fill"),
    ("form import", "file", "cli-form-import-file"),
    ("form import", "framework", "cli-form-import-framework"),
    ("form import", "year", "cli-form-import-year"),
    ("form import", "submit", "cli-form-import-submit"),
    ("export side-by-side", "unit", "cli-arg-the-unit"),
    (
        "export publication",
        "revision",
        "cli-export-publication-revision",
    ),
    ("export national-form", "year", "cli-arg-national-year"),
    ("export scorecard", "framework", "cli-arg-framework-of-unit"),
];

/// The keys of the help of a value enum's values, by value name.
struct ValueKeys {
    type_id: fn() -> TypeId,
    parser: fn(Vec<PossibleValue>) -> ValueParser,
    keys: &'static [(&'static str, &'static str)],
}

impl ValueKeys {
    const fn of<E: ValueEnum + Clone + Send + Sync + 'static>(
        keys: &'static [(&'static str, &'static str)],
    ) -> Self {
        ValueKeys {
            type_id: TypeId::of::<E>,
            parser: localized_values::<E>,
            keys,
        }
    }

    /// `arg` listing its values with their help in `lang`.
    fn localize(&self, arg: Arg, lang: Lang) -> Arg {
        let Some(values) = arg.get_value_parser().possible_values() else {
            return arg;
        };
        let values = values
            .map(|value| {
                let key = self.keys.iter().find(|(name, _)| *name == value.get_name());
                match key {
                    Some((_, key)) => value.help(t(lang, key)),
                    None => value,
                }
            })
            .collect();
        arg.value_parser((self.parser)(values))
    }
}

/// The keys of the help of the values of each value enum dtictl's arguments take.
const VALUES: &[ValueKeys] = &[
    ValueKeys::of::<text::LangArg>(&[("vi", "cli-value-lang-vi"), ("en", "cli-value-lang-en")]),
    ValueKeys::of::<commands::score::Format>(&[
        ("json", "cli-value-score-format-json"),
        ("table", "cli-value-score-format-table"),
    ]),
    ValueKeys::of::<commands::sync::ReportFormat>(&[
        ("table", "cli-value-sync-report-format-table"),
        ("json", "cli-value-sync-report-format-json"),
    ]),
    ValueKeys::of::<commands::results::BasisArg>(&[
        ("self", "cli-value-basis-self"),
        ("verified", "cli-value-basis-verified"),
    ]),
];

fn value_keys(arg: &Arg) -> Option<&'static ValueKeys> {
    let parsed = arg.get_value_parser().type_id();
    VALUES.iter().find(|values| parsed == (values.type_id)())
}

fn localized_values<E: ValueEnum + Clone + Send + Sync + 'static>(
    values: Vec<PossibleValue>,
) -> ValueParser {
    ValueParser::new(LocalizedValues {
        values,
        parser: EnumValueParser::<E>::new(),
    })
}

/// clap's parser of a value enum whose values are listed with help in one language.
#[derive(Clone)]
struct LocalizedValues<E: ValueEnum + Clone + Send + Sync + 'static> {
    values: Vec<PossibleValue>,
    parser: EnumValueParser<E>,
}

impl<E: ValueEnum + Clone + Send + Sync + 'static> TypedValueParser for LocalizedValues<E> {
    type Value = E;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<E, clap::Error> {
        self.parser.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Vec<OsString> {
        std::iter::once("dtictl")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_help_is_vietnamese_unless_lang_or_dti_lang_says_english() {
        let en = Some(OsStr::new("en"));
        let vi = Some(OsStr::new("vi"));
        let cases: [(&[&str], Option<&OsStr>, Lang); 10] = [
            (&["round", "open", "--help"], None, Lang::Vi),
            (&["round", "open", "--help"], en, Lang::En),
            (
                &["round", "open", "--help"],
                Some(OsStr::new("fr")),
                Lang::Vi,
            ),
            (&["--lang", "en", "round", "--help"], None, Lang::En),
            (&["round", "--help", "--lang=en"], None, Lang::En),
            (&["--lang", "vi", "--help"], en, Lang::Vi),
            (&["--lang=en", "--lang", "vi", "--help"], None, Lang::Vi),
            (&["--lang", "fr", "--help"], en, Lang::En),
            (&["--lang"], None, Lang::Vi),
            (&["--", "--lang=en"], None, Lang::Vi),
        ];
        for (line, env, lang) in cases {
            assert_eq!(lang_of(&args(line), env), lang, "{line:?} {env:?}");
        }
        assert_eq!(lang_of(&args(&["--help"]), vi), Lang::Vi);
    }
}
