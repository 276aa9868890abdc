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
//!
//! # A request's language
//!
//! A service answers each gRPC request in the language its `accept-language` metadata asks for
//! (Vietnamese when it asks for none the platform speaks). The service kit's language layer
//! runs the handling of each request inside [`scope`], and [`current_lang`] tells any code the
//! request runs — a handler, a validation, an error mapping — which language that is. A text
//! made outside any request (a log line, a background job) is English. A [`Message`] (a key
//! with its arguments) is kept as is until it is shown: [`Message::render`] in a given language,
//! [`Message::localized`] (or `String::from`) in the current one, and `Display` in English, for
//! logs.

#![warn(missing_docs)]

use std::fmt;
use std::future::Future;
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

tokio::task_local! {
    static REQUEST_LANG: Lang;
}

/// The language of the request being handled (set by [`scope`]); English outside any request,
/// for logs and background work.
pub fn current_lang() -> Lang {
    REQUEST_LANG.try_with(|lang| *lang).unwrap_or(Lang::En)
}

/// Runs `work` with `lang` as its [`current_lang`] (the service kit wraps each request in it).
pub fn scope<F: Future>(lang: Lang, work: F) -> tokio::task::futures::TaskLocalFuture<Lang, F> {
    REQUEST_LANG.scope(lang, work)
}

/// Runs the synchronous `work` with `lang` as its [`current_lang`].
pub fn sync_scope<R>(lang: Lang, work: impl FnOnce() -> R) -> R {
    REQUEST_LANG.sync_scope(lang, work)
}

/// An argument of a message: text, a whole number or another message (shown in the same
/// language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Text, inserted as is.
    Text(String),
    /// A whole number (Fluent may choose a plural form with it).
    Number(i64),
    /// A message, formatted in the language of the one that holds it.
    Message(Box<Message>),
}

impl From<Message> for Arg {
    fn from(message: Message) -> Self {
        Arg::Message(Box::new(message))
    }
}

impl From<u64> for Arg {
    fn from(number: u64) -> Self {
        match i64::try_from(number) {
            Ok(number) => Arg::Number(number),
            Err(_) => Arg::Text(number.to_string()),
        }
    }
}

/// A text a person reads, kept as its catalogue key and arguments until it is shown: in a
/// given language ([`Message::render`]), in the request's ([`Message::localized`], also
/// `String::from`) or in English (`Display`, for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    key: &'static str,
    args: Vec<(&'static str, Arg)>,
}

impl Message {
    /// The message `key` of the catalogues, without arguments yet.
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    /// The same message with the argument `name` set to `value`.
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// Its catalogue key.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The text in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        lang.catalog().format(self.key, &self.args)
    }

    /// The text in the language of the request being handled ([`current_lang`]).
    pub fn localized(&self) -> String {
        self.render(current_lang())
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

impl From<Message> for String {
    /// The text in the language of the request being handled.
    fn from(message: Message) -> Self {
        message.localized()
    }
}

impl serde::Serialize for Message {
    /// Serialized as its English text (machine output and logs).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
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
                Arg::Message(message) => {
                    fluent_args.set(*name, FluentValue::from(message.render(self.lang)))
                }
            }
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }
}

/// The heading of the catalogues' section of dtictl's help. Its keys follow dtictl's command
/// paths (`cli-about-round-open`), so they are built, not written as literals; dtictl's help
/// tests check that each is used.
pub const HELP_SECTION: &str = "## dtictl --help";

/// The message ids of a Fluent source (lines `key = …` at the start of a line), in order.
pub fn message_keys(source: &str) -> Vec<String> {
    source.lines().filter_map(message_key).collect()
}

/// The message ids of the section of a Fluent source under the comment line `heading`, in
/// order: up to the next section's heading (a `## ` line after a message).
pub fn section_keys(source: &str, heading: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for line in source.lines().skip_while(|line| *line != heading).skip(1) {
        if line.starts_with("## ") && !keys.is_empty() {
            break;
        }
        keys.extend(message_key(line));
    }
    keys
}

fn message_key(line: &str) -> Option<String> {
    if !line.starts_with(|c: char| c.is_ascii_lowercase()) {
        return None;
    }
    line.split_once('=').map(|(key, _)| key.trim().to_owned())
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

    #[tokio::test]
    async fn a_message_is_shown_in_the_requests_language_and_logged_in_english() {
        let message = Message::new("form-group-sheet").arg("code", "3");
        assert_eq!(message.to_string(), "Group 3");
        assert_eq!(current_lang(), Lang::En, "outside a request");
        let inside = scope(Lang::Vi, async {
            (current_lang(), String::from(message.clone()))
        });
        assert_eq!(inside.await, (Lang::Vi, "Nhóm 3".to_owned()));
        let nested = Message::new("form-group-sheet").arg("code", message);
        assert_eq!(nested.render(Lang::Vi), "Nhóm Nhóm 3");
        assert_eq!(sync_scope(Lang::En, || nested.localized()), "Group Group 3");
    }
}
