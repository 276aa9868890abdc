//! The site's one catalogue of texts, Vietnamese (the default) and English, and how a request
//! chooses between them: `?lang=vi|en` first, then the best of `vi` and `en` in
//! `Accept-Language`, else Vietnamese. Names of units, groups and indicators are the official
//! Vietnamese names in both languages (they come from the framework and the unit registry).
//! Why a request is refused is a message of the platform's catalogues (`dti-i18n`), shown in
//! the same language ([`Lang::catalog_lang`]).

use dti_domain::framework::UnitKind;

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

    /// The catalogue of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::Vi => &VI,
            Self::En => &EN,
        }
    }

    /// The same language in the platform's catalogues, for the site's refusals.
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

/// Every fixed text of the site in one language.
#[derive(Debug)]
pub struct Texts {
    /// Name of the language, in itself (the switch's label).
    pub language_name: &'static str,
    /// The site's title.
    pub site_title: &'static str,
    /// Heading of the list of published rounds.
    pub published_results: &'static str,
    /// No round is published yet.
    pub nothing_published: &'static str,
    /// Year.
    pub year: &'static str,
    /// Cohort.
    pub cohort: &'static str,
    /// Rank.
    pub rank: &'static str,
    /// Unit.
    pub unit: &'static str,
    /// Total score.
    pub total: &'static str,
    /// Group.
    pub group: &'static str,
    /// Maximum points.
    pub max_points: &'static str,
    /// Score.
    pub score: &'static str,
    /// Indicator.
    pub indicator: &'static str,
    /// Indicator code.
    pub code: &'static str,
    /// How it was scored.
    pub explanation: &'static str,
    /// Outcome column.
    pub outcome: &'static str,
    /// Scored outcome.
    pub outcome_scored: &'static str,
    /// Missing outcome.
    pub outcome_missing: &'static str,
    /// Not applicable outcome.
    pub outcome_not_applicable: &'static str,
    /// Badge of a provisional result.
    pub provisional: &'static str,
    /// Badge of a final result.
    pub final_result: &'static str,
    /// The note on a provisional result (before the date).
    pub provisional_note: &'static str,
    /// The note on a final result.
    pub final_note: &'static str,
    /// Revision.
    pub revision: &'static str,
    /// Reason of a revision.
    pub reason: &'static str,
    /// Publication time.
    pub published_at: &'static str,
    /// Heading of the revision history.
    pub revision_history: &'static str,
    /// Note on an older revision (before the number of the latest).
    pub superseded: &'static str,
    /// Link to the latest revision.
    pub see_latest: &'static str,
    /// Downloads heading.
    pub downloads: &'static str,
    /// CSV download.
    pub download_csv: &'static str,
    /// .xlsx download.
    pub download_xlsx: &'static str,
    /// Snapshot download.
    pub download_snapshot: &'static str,
    /// Link to the snapshot's Ed25519 signature.
    pub download_signature: &'static str,
    /// Link to the site's public signing key.
    pub download_signing_key: &'static str,
    /// How to check the signature.
    pub signature_help: &'static str,
    /// The hash's label.
    pub content_hash: &'static str,
    /// How to check the snapshot.
    pub hash_help: &'static str,
    /// Scorecard heading.
    pub scorecard: &'static str,
    /// Group scores heading.
    pub group_scores: &'static str,
    /// Cohort median.
    pub cohort_median: &'static str,
    /// Movement heading.
    pub movement: &'static str,
    /// Previous rank.
    pub previous_rank: &'static str,
    /// Previous total.
    pub previous_total: &'static str,
    /// Change in rank.
    pub rank_change: &'static str,
    /// Change in total.
    pub total_change: &'static str,
    /// No earlier result.
    pub no_previous: &'static str,
    /// Min-max heading.
    pub min_max_heading: &'static str,
    /// Min-max explanation.
    pub min_max_help: &'static str,
    /// Smallest.
    pub min: &'static str,
    /// Largest.
    pub max: &'static str,
    /// Bar chart title.
    pub chart_totals: &'static str,
    /// Group chart title.
    pub chart_groups: &'static str,
    /// Movement chart title.
    pub chart_movement: &'static str,
    /// Back to the ranking.
    pub back_to_ranking: &'static str,
    /// Home link.
    pub home: &'static str,
    /// The names note.
    pub names_note: &'static str,
    /// Title of a 404 page.
    pub not_found: &'static str,
    /// Title of a 400 page.
    pub bad_request: &'static str,
    /// Title of a 503 page.
    pub unavailable: &'static str,
    /// Rank up.
    pub up: &'static str,
    /// Rank down.
    pub down: &'static str,
    /// Rank unchanged.
    pub unchanged: &'static str,
    /// The skip link.
    pub skip_to_content: &'static str,
    /// Units of the cohort.
    pub units_count: &'static str,
}

impl Texts {
    /// The cohort's name for a framework assessing `kind`.
    pub fn cohort_name(&self, kind: UnitKind) -> &'static str {
        let vietnamese = std::ptr::eq(self, &VI);
        match (kind, vietnamese) {
            (UnitKind::District, true) => "Quận, huyện và thành phố Thủ Đức",
            (UnitKind::District, false) => "Districts and Thủ Đức City",
            (UnitKind::Department, true) => "Sở, ban, ngành",
            (UnitKind::Department, false) => "Departments, boards and sectors",
            (UnitKind::Province, true) => "Cấp tỉnh",
            (UnitKind::Province, false) => "Province",
        }
    }

    /// The label of an indicator's outcome.
    pub fn outcome_label(&self, outcome: &str) -> &'static str {
        match outcome {
            "missing" => self.outcome_missing,
            "not_applicable" => self.outcome_not_applicable,
            _ => self.outcome_scored,
        }
    }
}

/// Vietnamese.
pub static VI: Texts = Texts {
    language_name: "Tiếng Việt",
    site_title: "Chỉ số Chuyển đổi số (DTI) Thành phố Hồ Chí Minh",
    published_results: "Kết quả đã công bố",
    nothing_published: "Chưa có kết quả nào được công bố.",
    year: "Năm",
    cohort: "Khối",
    rank: "Hạng",
    unit: "Đơn vị",
    total: "Tổng điểm",
    group: "Nhóm",
    max_points: "Điểm tối đa",
    score: "Điểm",
    indicator: "Chỉ số",
    code: "Mã",
    explanation: "Cách tính",
    outcome: "Tình trạng",
    outcome_scored: "Có số liệu",
    outcome_missing: "Không báo cáo",
    outcome_not_applicable: "Không áp dụng",
    provisional: "Tạm thời",
    final_result: "Chính thức",
    provisional_note: "Kết quả tạm thời: các đơn vị có thể kiến nghị và kết quả có thể được đính chính cho đến hết thời hạn",
    final_note: "Kết quả chính thức: thời hạn kiến nghị đã kết thúc.",
    revision: "Bản công bố",
    reason: "Lý do",
    published_at: "Thời điểm công bố",
    revision_history: "Lịch sử công bố và đính chính",
    superseded: "Bản công bố này đã được thay thế bởi bản",
    see_latest: "Xem bản mới nhất",
    downloads: "Tải dữ liệu",
    download_csv: "Bảng (CSV)",
    download_xlsx: "Bảng (Excel .xlsx)",
    download_snapshot: "Bản dữ liệu công bố (JSON)",
    download_signature: "Chữ ký số của bản dữ liệu (Ed25519)",
    download_signing_key: "Khóa công khai để kiểm tra chữ ký",
    signature_help: "Kiểm tra chữ ký của bản dữ liệu đã tải về:",
    content_hash: "Mã băm SHA-256",
    hash_help: "Mã băm SHA-256 của tệp JSON tải về phải trùng với mã băm đã công bố.",
    scorecard: "Điểm theo từng chỉ số",
    group_scores: "Điểm theo nhóm",
    cohort_median: "Trung vị của khối",
    movement: "So với năm trước",
    previous_rank: "Hạng năm trước",
    previous_total: "Tổng điểm năm trước",
    rank_change: "Thay đổi hạng",
    total_change: "Thay đổi điểm",
    no_previous: "Năm trước chưa có kết quả được công bố cho đơn vị này.",
    min_max_heading: "Giá trị nhỏ nhất và lớn nhất của khối",
    min_max_help: "Các chỉ số chấm theo phương pháp min–max so sánh mỗi đơn vị với giá trị nhỏ nhất và lớn nhất trong khối.",
    min: "Nhỏ nhất",
    max: "Lớn nhất",
    chart_totals: "Tổng điểm các đơn vị",
    chart_groups: "Điểm theo nhóm so với trung vị của khối",
    chart_movement: "Thay đổi thứ hạng so với năm trước",
    back_to_ranking: "Về bảng xếp hạng",
    home: "Trang chủ",
    names_note: "",
    not_found: "Không tìm thấy",
    bad_request: "Yêu cầu không hợp lệ",
    unavailable: "Tạm thời không phục vụ được",
    up: "tăng",
    down: "giảm",
    unchanged: "không đổi",
    skip_to_content: "Đến nội dung chính",
    units_count: "đơn vị",
};

/// English.
pub static EN: Texts = Texts {
    language_name: "English",
    site_title: "Ho Chi Minh City Digital Transformation Index (DTI)",
    published_results: "Published results",
    nothing_published: "No result has been published yet.",
    year: "Year",
    cohort: "Cohort",
    rank: "Rank",
    unit: "Unit",
    total: "Total",
    group: "Group",
    max_points: "Maximum",
    score: "Score",
    indicator: "Indicator",
    code: "Code",
    explanation: "How it was scored",
    outcome: "Outcome",
    outcome_scored: "Scored",
    outcome_missing: "Not reported",
    outcome_not_applicable: "Not applicable",
    provisional: "Provisional",
    final_result: "Final",
    provisional_note: "Provisional result: units may object and the result may still be corrected until",
    final_note: "Final result: the period for objections has ended.",
    revision: "Revision",
    reason: "Reason",
    published_at: "Published",
    revision_history: "Publication and correction history",
    superseded: "This revision has been superseded by revision",
    see_latest: "See the latest revision",
    downloads: "Downloads",
    download_csv: "Table (CSV)",
    download_xlsx: "Table (Excel .xlsx)",
    download_snapshot: "Published snapshot (JSON)",
    download_signature: "Signature of the snapshot (Ed25519)",
    download_signing_key: "Public key to check the signature",
    signature_help: "Check the signature of a downloaded snapshot:",
    content_hash: "SHA-256 hash",
    hash_help: "The SHA-256 of the downloaded JSON file equals the published hash.",
    scorecard: "Scorecard by indicator",
    group_scores: "Scores by group",
    cohort_median: "Cohort median",
    movement: "Compared with the previous year",
    previous_rank: "Previous rank",
    previous_total: "Previous total",
    rank_change: "Rank change",
    total_change: "Total change",
    no_previous: "No result of the previous year is published for this unit.",
    min_max_heading: "Cohort minimum and maximum",
    min_max_help: "Indicators scored min–max compare each unit with the smallest and the largest value in the cohort.",
    min: "Minimum",
    max: "Maximum",
    chart_totals: "Totals of the units",
    chart_groups: "Group scores against the cohort median",
    chart_movement: "Change in rank against the previous year",
    back_to_ranking: "Back to the ranking",
    home: "Home",
    names_note: "Names of units, groups and indicators are the official Vietnamese names.",
    not_found: "Not found",
    bad_request: "Bad request",
    unavailable: "Temporarily unavailable",
    up: "up",
    down: "down",
    unchanged: "unchanged",
    skip_to_content: "Skip to the main content",
    units_count: "units",
};

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
    fn numbers_take_the_decimal_comma_in_vietnamese() {
        assert_eq!(Lang::Vi.number("12.50"), "12,50");
        assert_eq!(Lang::En.number("12.50"), "12.50");
    }
}
