//! The platform's message catalogues: every text a person reads in a form, an import problem or
//! an export heading, in Vietnamese (the default) and English, kept as Fluent files
//! (`locales/vi/dti.ftl`, `locales/en/dti.ftl`) compiled into the binaries.
//!
//! This crate owns the languages ([`Lang`]), how a caller's language is chosen (a flag with
//! [`Lang::parse`], or an HTTP/gRPC `accept-language` header with [`Lang::negotiate`]) and the
//! formatting of one message with its arguments ([`Catalog::text`], [`Catalog::format`]). A
//! catalogue is parsed once per process and shared between threads, so a service can format
//! messages for each request in the caller's language.
//!
//! Keys are plain strings written where they are used (`"import-not-whole"`), so a test can
//! find a key that is used nowhere or missing in one language.

#![warn(missing_docs)]

use std::fmt;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The Vietnamese catalogue's source.
pub const VI_SOURCE: &str = include_str!("../locales/vi/dti.ftl");
/// The English catalogue's source.
pub const EN_SOURCE: &str = include_str!("../locales/en/dti.ftl");

/// A language the platform speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Lang {
    /// Vietnamese, the city's language and the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// Its BCP 47 tag (`vi`, `en`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// A language from its tag (`vi`, `en`, case-insensitive, a region ignored: `en-GB`).
    pub fn parse(tag: &str) -> Option<Lang> {
        let language = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.tag() == language)
    }

    /// The best language for an `accept-language` header (`en-US,en;q=0.9,vi;q=0.8`); the
    /// default when the header names none the platform speaks.
    pub fn negotiate(accept_language: &str) -> Lang {
        let requested = fluent_langneg::accepted_languages::parse(accept_language);
        let available: Vec<LanguageIdentifier> =
            Lang::ALL.iter().map(|lang| lang.identifier()).collect();
        let default = Lang::default().identifier();
        fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|chosen| Lang::parse(&chosen.to_string()))
        .unwrap_or_default()
    }

    /// The catalogue of this language.
    pub fn catalog(self) -> &'static Catalog {
        static VI: OnceLock<Catalog> = OnceLock::new();
        static EN: OnceLock<Catalog> = OnceLock::new();
        match self {
            Lang::Vi => VI.get_or_init(|| Catalog::parse(Lang::Vi, VI_SOURCE)),
            Lang::En => EN.get_or_init(|| Catalog::parse(Lang::En, EN_SOURCE)),
        }
    }

    /// The catalogue's source text.
    pub fn source(self) -> &'static str {
        match self {
            Lang::Vi => VI_SOURCE,
            Lang::En => EN_SOURCE,
        }
    }

    fn identifier(self) -> LanguageIdentifier {
        self.tag()
            .parse()
            .unwrap_or_else(|_| LanguageIdentifier::default())
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// An argument of a message: text or a whole number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Text, inserted as is.
    Text(String),
    /// A whole number (Fluent may choose a plural form with it).
    Number(i64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Arg::Text(text)
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Arg::Text(text.clone())
    }
}

impl From<i64> for Arg {
    fn from(number: i64) -> Self {
        Arg::Number(number)
    }
}

impl From<usize> for Arg {
    fn from(number: usize) -> Self {
        Arg::Number(i64::try_from(number).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Arg {
    fn from(number: u32) -> Self {
        Arg::Number(i64::from(number))
    }
}

impl From<u16> for Arg {
    fn from(number: u16) -> Self {
        Arg::Number(i64::from(number))
    }
}

/// One language's messages, parsed.
pub struct Catalog {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
    keys: Vec<String>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("lang", &self.lang)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Catalog {
    /// Parses a catalogue. The built-in ones are checked by this crate's tests, so a syntax
    /// error is a build defect: the entries that parse are kept and the broken ones left out.
    fn parse(lang: Lang, source: &str) -> Catalog {
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
        let keys = message_keys(source);
        let mut bundle = FluentBundle::new_concurrent(vec![lang.identifier()]);
        // Excel cells and terminals show bidi isolation marks as stray characters.
        bundle.set_use_isolating(false);
        if let Err(errors) = bundle.add_resource(resource) {
            debug_assert!(errors.is_empty(), "{lang} catalogue: {errors:?}");
        }
        Catalog { lang, bundle, keys }
    }

    /// Its language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Every message key, in file order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// A message without arguments.
    pub fn text(&self, key: &str) -> String {
        self.format(key, &[])
    }

    /// A message with its arguments. A key the catalogue lacks is returned as itself (the
    /// catalogue test makes that a test failure, never a person's sight).
    pub fn format(&self, key: &str, args: &[(&str, Arg)]) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(text.as_str())),
                Arg::Number(number) => fluent_args.set(*name, FluentValue::from(*number)),
            }
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }
}

/// The message ids of a Fluent source (lines `key = …` at the start of a line), in order.
pub fn message_keys(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_is_chosen_from_a_flag_or_an_accept_language_header() {
        assert_eq!(Lang::parse("vi"), Some(Lang::Vi));
        assert_eq!(Lang::parse("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::negotiate("en-US,en;q=0.9,vi;q=0.8"), Lang::En);
        assert_eq!(Lang::negotiate("vi-VN,vi;q=0.9,en;q=0.5"), Lang::Vi);
        assert_eq!(Lang::negotiate("fr-FR,de;q=0.5"), Lang::Vi);
        assert_eq!(Lang::negotiate(""), Lang::Vi);
    }

    #[test]
    fn messages_are_formatted_with_their_arguments_without_isolation_marks() {
        let vi = Lang::Vi.catalog();
        let en = Lang::En.catalog();
        let args = [("code", Arg::from("3"))];
        assert_eq!(vi.format("form-group-sheet", &args), "Nhóm 3");
        assert_eq!(en.format("form-group-sheet", &args), "Group 3");
        assert_eq!(vi.text("no-such-key"), "no-such-key");
    }
}
