//! How a request chooses the site's language — `?lang=vi|en` first, then the best of `vi` and
//! `en` in `Accept-Language`, else Vietnamese — and how a page finds its texts in it. Every text
//! a page shows is a message of the platform's catalogues (`dti-i18n`, keys `site-…`), looked
//! up in the page's language ([`Lang::text`], [`Lang::render`]); so is why a request is refused.
//! Names of units, groups and indicators are the official Vietnamese names in both languages
//! (they come from the framework and the unit registry).

use dti_domain::framework::UnitKind;
use dti_i18n::Message;

/// A language of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Tiếng Việt (default).
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag (`lang` attribute, `?lang=`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }

    /// The language of a `lang` query value, if it is one of the site's.
    pub fn from_query(value: &str) -> Option<Self> {
        match value {
            "vi" => Some(Self::Vi),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The preferred of Vietnamese and English in an `Accept-Language` header; Vietnamese
    /// when it names neither.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let mut best: Option<(u32, Self)> = None;
        for entry in header.unwrap_or_default().split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Self::from_query(primary) else {
                continue;
            };
            let quality = parts
                .find_map(|part| part.trim().strip_prefix("q="))
                .map_or(1000, parse_quality);
            if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Self::Vi, |(_, lang)| lang)
    }

    /// The other language (the switch's target).
    pub fn other(self) -> Self {
        match self {
            Self::Vi => Self::En,
            Self::En => Self::Vi,
        }
    }

    /// The message `key` of the catalogues (one without arguments) in this language.
    pub fn text(self, key: &'static str) -> String {
        self.render(&Message::new(key))
    }

    /// A message of the catalogues in this language.
    pub fn render(self, message: &Message) -> String {
        message.render(self.catalog_lang())
    }

    /// The same language in the platform's catalogues.
    pub fn catalog_lang(self) -> dti_i18n::Lang {
        match self {
            Self::Vi => dti_i18n::Lang::Vi,
            Self::En => dti_i18n::Lang::En,
        }
    }

    /// A decimal string as shown: a decimal comma in Vietnamese, a point in English.
    pub fn number(self, decimal: &str) -> String {
        match self {
            Self::Vi => decimal.replace('.', ","),
            Self::En => decimal.to_owned(),
        }
    }
}

/// A `q=` value in thousandths (malformed values count as 0: ignored).
fn parse_quality(value: &str) -> u32 {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let whole: u32 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return 0,
    };
    let mut thousandths = 0;
    for (i, digit) in fraction.chars().take(3).enumerate() {
        let Some(digit) = digit.to_digit(10) else {
            return 0;
        };
        thousandths += digit * 10u32.pow(2 - i as u32);
    }
    (whole + thousandths).min(1000)
}

/// The catalogue key of the cohort's name for a framework assessing `kind`.
pub fn cohort_key(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::District => "site-cohort-district",
        UnitKind::Department => "site-cohort-department",
        UnitKind::Province => "site-cohort-province",
    }
}

/// The catalogue key of the label of an indicator's outcome (`missing`, `not_applicable`,
/// anything else scored).
pub fn outcome_key(outcome: &str) -> &'static str {
    match outcome {
        "missing" => "site-outcome-missing",
        "not_applicable" => "site-outcome-not-applicable",
        _ => "site-outcome-scored",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_vietnamese_and_english() {
        assert_eq!(Lang::from_accept_language(None), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("fr, en;q=0.5, vi;q=0.8")),
            Lang::Vi
        );
        assert_eq!(Lang::from_accept_language(Some("de, fr")), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("en;q=0")), Lang::Vi);
    }

    #[test]
    fn texts_are_the_catalogues_messages_in_the_pages_language() {
        assert_eq!(Lang::Vi.text("site-rank"), "Hạng");
        assert_eq!(Lang::En.text("site-rank"), "Rank");
        let group = Message::new("site-group-code").arg("code", "2");
        assert_eq!(Lang::Vi.render(&group), "Nhóm 2");
        assert_eq!(Lang::En.render(&group), "Group 2");
        assert_eq!(
            Lang::Vi.text(cohort_key(UnitKind::District)),
            "Quận, huyện và thành phố Thủ Đức"
        );
        assert_eq!(
            Lang::En.text(outcome_key("not_applicable")),
            "Not applicable"
        );
        let caption = |lang: Lang, units: usize| {
            lang.render(
                &Message::new("site-ranking-caption")
                    .arg("title", Message::new("site-title"))
                    .arg("year", 2023u16)
                    .arg("cohort", Message::new(cohort_key(UnitKind::Department)))
                    .arg("units", units),
            )
        };
        assert_eq!(
            caption(Lang::Vi, 22),
            "Chỉ số Chuyển đổi số (DTI) Thành phố Hồ Chí Minh 2023 — Sở, ban, ngành (22 đơn vị)"
        );
        assert_eq!(
            caption(Lang::En, 22),
            "Ho Chi Minh City Digital Transformation Index (DTI) 2023 — Departments, boards and sectors (22 units)"
        );
        assert!(caption(Lang::En, 1).ends_with("(1 unit)"));
    }

    #[test]
    fn numbers_take_the_decimal_comma_in_vietnamese() {
        assert_eq!(Lang::Vi.number("12.50"), "12,50");
        assert_eq!(Lang::En.number("12.50"), "12.50");
    }
}
