//! What dtictl says to a person, in the chosen language: every heading, label, status line and
//! problem it prints comes from the platform's message catalogues (`dti-i18n`, the `## dtictl`
//! section of `locales/{vi,en}/dti.ftl`), never from strings in the commands.
//!
//! The language is chosen once per run (`--lang vi|en`, `DTI_LANG`, Vietnamese by default) by
//! [`set_lang`] and read by [`t`] and the [`tr!`](crate::tr) macro; dtictl runs one command per
//! process, so the choice is the process's. Data (unit and indicator names, API names in
//! `--json`) is printed as stored.

use std::sync::atomic::{AtomicU8, Ordering};

use dti_i18n::{Arg, Lang};

/// The language of dtictl's messages, forms and reports (`--lang`, `DTI_LANG`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    /// Vietnamese (the default).
    #[default]
    Vi,
    /// English.
    En,
}

impl From<LangArg> for Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::Vi => Lang::Vi,
            LangArg::En => Lang::En,
        }
    }
}

static LANG: AtomicU8 = AtomicU8::new(0);

/// Chooses the language of this run's messages.
pub fn set_lang(lang: Lang) {
    let code = match lang {
        Lang::Vi => 0,
        Lang::En => 1,
    };
    LANG.store(code, Ordering::Relaxed);
}

/// The language of this run's messages (Vietnamese until [`set_lang`] chose another).
pub fn lang() -> Lang {
    match LANG.load(Ordering::Relaxed) {
        1 => Lang::En,
        _ => Lang::Vi,
    }
}

/// A message without arguments in this run's language.
pub fn t(key: &str) -> String {
    lang().catalog().text(key)
}

/// A message with its arguments in this run's language.
pub fn format(key: &str, args: &[(&str, Arg)]) -> String {
    lang().catalog().format(key, args)
}

/// A value a message takes: text, or a whole number (Fluent may choose a plural form by it).
pub trait ToArg {
    /// The argument.
    fn to_arg(self) -> Arg;
}

macro_rules! text_args {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(self) -> Arg {
                Arg::from(self)
            }
        }
    )*};
}
text_args!(&str, String, &String, usize, u32, u16, i64);

macro_rules! wide_numbers {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(self) -> Arg {
                i64::try_from(self).map_or_else(|_| Arg::Text(self.to_string()), Arg::Number)
            }
        }
    )*};
}
wide_numbers!(u64, i32);

/// A message of the catalogue in this run's language: `tr!("key")` or
/// `tr!("key", name = value, …)`, each value text or a whole number ([`ToArg`]).
#[macro_export]
macro_rules! tr {
    ($key:literal) => {
        $crate::text::t($key)
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::text::format(
            $key,
            &[$((stringify!($name), $crate::text::ToArg::to_arg($value))),+],
        )
    };
}

/// A warning a service answered (its field, e.g. `unit quan-1 / indicator 4.3 / variable e`,
/// and its description, already in this run's language), as one line for people.
pub fn warning_line(field: &str, description: &str) -> String {
    crate::tr!(
        "dtictl-warning",
        warning = format!("{field}: {description}")
    )
}

/// A state, outcome or decision of the platform for people (`open`, `clarification_requested`,
/// `upheld`…: the API's name, lower case, as [`crate::remote::enum_name`] gives it) in this
/// run's language; a name the catalogue does not know is printed as is.
pub fn state(name: &str) -> String {
    match name {
        "draft" => t("dtictl-state-draft"),
        "open" => t("dtictl-state-open"),
        "closed" => t("dtictl-state-closed"),
        "submitted" => t("dtictl-state-submitted"),
        "clarification_requested" => t("dtictl-state-clarification-requested"),
        "under_verification" => t("dtictl-state-under-verification"),
        "verified" => t("dtictl-state-verified"),
        "approved" => t("dtictl-state-approved"),
        "provisional" => t("dtictl-state-provisional"),
        "final" => t("dtictl-state-final"),
        "accepted" => t("dtictl-state-accepted"),
        "overridden" => t("dtictl-state-overridden"),
        "evidence_insufficient" => t("dtictl-state-evidence-insufficient"),
        "upheld" => t("dtictl-state-upheld"),
        "rejected" => t("dtictl-state-rejected"),
        "scored" => t("dtictl-state-scored"),
        "missing" => t("dtictl-state-missing"),
        "not_applicable" => t("dtictl-state-not-applicable"),
        "complete" => t("dtictl-state-complete"),
        "disputed" => t("dtictl-state-disputed"),
        "push" => t("dtictl-state-push"),
        "already_accepted" => t("dtictl-state-already-accepted"),
        "in_progress" => t("dtictl-state-in-progress"),
        "incomplete" => t("dtictl-state-incomplete"),
        "added" => t("dtictl-state-added"),
        "changed" => t("dtictl-state-changed"),
        "unchanged" => t("dtictl-state-unchanged"),
        "removed" => t("dtictl-state-removed"),
        "none" => t("dtictl-state-none"),
        "sent" => t("dtictl-state-sent"),
        "failed" => t("dtictl-state-failed"),
        other => other.to_owned(),
    }
}
