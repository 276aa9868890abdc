//! The catalogue keys of the help of the values of each value enum dtictl's arguments take,
//! and clap's parser of such an enum listing its values with that help in one language.

use std::any::TypeId;
use std::ffi::OsStr;

use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser, ValueParser};
use clap::{Arg, Command, ValueEnum};
use dti_i18n::Lang;

use super::t;
use crate::{commands, text};

/// The keys of the help of a value enum's values, by value name.
pub(super) struct ValueKeys {
    type_id: fn() -> TypeId,
    parser: fn(Vec<PossibleValue>) -> ValueParser,
    pub(super) keys: &'static [(&'static str, &'static str)],
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
    pub(super) fn localize(&self, arg: Arg, lang: Lang) -> Arg {
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
pub(super) const VALUES: &[ValueKeys] = &[
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

pub(super) fn value_keys(arg: &Arg) -> Option<&'static ValueKeys> {
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
