//! dtictl's help in the run's language: `dtictl --help` and each command's `--help` show the
//! catalogues' texts (the `## dtictl --help` section of `locales/{vi,en}/dti.ftl`), in Vietnamese
//! unless `--lang en` or `DTI_LANG=en` chooses English, like everything else dtictl prints.
//!
//! clap reads the help from the doc comments of [`Cli`] and its commands; those stay, as the
//! code's documentation and as the English texts, which the catalogue repeats word for word (a
//! test holds them together). [`command`] takes the derived command and replaces, command by
//! command, the about of each command, the help of each argument and of each value of a value
//! enum with the catalogue's text for its key, then clap's own words: the help of `--help`,
//! `--version` and the `help` command, and the headings (`Usage:`, `Commands:`, `Arguments:`,
//! `Options:`, through each command's help template). clap's remaining words stay English: the
//! usage's placeholders (`[OPTIONS]`, `<COMMAND>`), the notes `[default: …]`, `[env: …]`,
//! `[possible values: …]`, `Possible values:`, and its own errors on a wrong command line.
//!
//! clap prints help while it parses, before [`crate::run`] learns the language, so the language
//! of the help comes from a look at the raw command line first ([`lang_of`]): the last
//! `--lang X` or `--lang=X`, else `DTI_LANG`, else Vietnamese — the choice clap makes for `--lang`.
//!
//! The keys live in `keys` (a command's about and an argument's help of its own follow the
//! command's path; the table `SHARED_ARGS` names the rest) and `values` (the values of value
//! enums, with the parser that lists them with their help).

mod keys;
mod values;

use std::ffi::{OsStr, OsString};
use std::path::Path;

use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches, ValueEnum};
use dti_i18n::Lang;

use crate::{text, Cli};
use keys::{OWN_ARGS, SHARED_ARGS};
use values::{value_keys, VALUES};

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
    crate::registry_in_force::remember_connection(&matches);
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
pub fn about_key(path: &str) -> String {
    keys::about_key(path)
}

/// The key of the help of the argument `id` of the command at `path`: a row of `SHARED_ARGS`
/// naming the command, else its own key when `OWN_ARGS` lists it, else the row of an argument
/// several commands share (`*`).
pub fn arg_key(path: &str, id: &str) -> Option<String> {
    let shared = |wanted: &str| {
        SHARED_ARGS
            .iter()
            .find(|(command, arg, _)| *command == wanted && *arg == id)
            .map(|(_, _, key)| (*key).to_owned())
    };
    let own = || {
        OWN_ARGS
            .iter()
            .any(|(command, args)| *command == path && args.contains(&id))
            .then(|| keys::own_arg_key(path, id))
    };
    shared(path).or_else(own).or_else(|| shared("*"))
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

/// Every key of the argument and value tables, in the order of the tables (the keys of the
/// abouts follow the commands themselves).
pub fn keys() -> impl Iterator<Item = String> {
    let own = OWN_ARGS
        .iter()
        .flat_map(|(command, args)| args.iter().map(move |arg| keys::own_arg_key(command, arg)));
    let shared = SHARED_ARGS.iter().map(|(_, _, key)| (*key).to_owned());
    let values = VALUES
        .iter()
        .flat_map(|values| values.keys.iter().map(|(_, key)| (*key).to_owned()));
    own.chain(shared).chain(values)
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
    let cmd = cmd.about(t(lang, &about_key(path)));
    cmd.mut_args(|arg| localize_arg(arg, path, lang))
        .mut_subcommands(|sub| {
            let path = sub_path(path, sub.get_name());
            localize(sub, &path, lang)
        })
}

fn localize_arg(arg: Arg, path: &str, lang: Lang) -> Arg {
    let arg = match arg_key(path, arg.get_id().as_str()) {
        Some(key) => arg.help(t(lang, &key)),
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
