//! Reading one spreadsheet cell as a value of the form, exactly. Spreadsheets keep numbers as
//! binary floating point, so the conversion happens here, at the edge: a whole number must be
//! integral and within 2^53 (where every whole number is exact), a decimal is read from its
//! shortest decimal representation, and numbers a program stored as text (`'12`) read as the
//! same numbers. Dates, booleans and formulas' cached values are read as the cell shows them.

use calamine::Data;

/// The largest whole number a spreadsheet cell holds exactly (2^53).
pub const MAX_EXACT_WHOLE: u64 = 1 << 53;

/// Why a cell does not hold what its input expects; the cell's content as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellProblem {
    /// Not a whole number ≥ 0.
    NotWhole(String),
    /// A whole number above [`MAX_EXACT_WHOLE`].
    TooLarge(String),
    /// Not a number ≥ 0.
    NotDecimal(String),
    /// Neither yes nor no.
    NotYesNo(String),
    /// Not one of the choices.
    NotChoice(String),
    /// Not text (an error value such as `#DIV/0!`).
    NotText(String),
}

/// A cell's content as people see it, for messages and text fields.
pub fn shown(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Rust prints the shortest decimal that reads back as the same float.
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// True when the cell holds nothing (or only spaces).
pub fn is_blank(data: &Data) -> bool {
    match data {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A whole number ≥ 0.
pub fn whole(data: &Data) -> Result<u64, CellProblem> {
    let found = || shown(data);
    match data {
        Data::Int(i) => u64::try_from(*i).map_err(|_| CellProblem::NotWhole(found())),
        Data::Float(f) => {
            if !f.is_finite() || f.fract() != 0.0 || *f < 0.0 {
                return Err(CellProblem::NotWhole(found()));
            }
            #[allow(clippy::cast_precision_loss, reason = "2^53 is exact in f64")]
            if *f > MAX_EXACT_WHOLE as f64 {
                return Err(CellProblem::TooLarge(found()));
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "integral, non-negative and at most 2^53: exact"
            )]
            Ok(*f as u64)
        }
        Data::String(s) => {
            let digits = s.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CellProblem::NotWhole(found()));
            }
            match digits.parse::<u64>() {
                Ok(n) if n <= MAX_EXACT_WHOLE => Ok(n),
                _ => Err(CellProblem::TooLarge(found())),
            }
        }
        _ => Err(CellProblem::NotWhole(found())),
    }
}

/// A decimal ≥ 0, as its shortest decimal text (`15.38`).
pub fn decimal(data: &Data) -> Result<String, CellProblem> {
    let text = match data {
        Data::Int(i) if *i >= 0 => i.to_string(),
        Data::Float(f) if f.is_finite() && *f >= 0.0 => f.to_string(),
        Data::String(s) => s.trim().to_owned(),
        _ => return Err(CellProblem::NotDecimal(shown(data))),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return Err(CellProblem::NotDecimal(shown(data)));
    }
    Ok(text)
}

/// Yes or no: the form's words in either language, or a spreadsheet boolean.
pub fn yes_no(data: &Data, words: &[(String, String)]) -> Result<bool, CellProblem> {
    match data {
        Data::Bool(b) => Ok(*b),
        Data::String(s) => {
            let said = s.trim().to_lowercase();
            if words.iter().any(|(yes, _)| yes.to_lowercase() == said) {
                Ok(true)
            } else if words.iter().any(|(_, no)| no.to_lowercase() == said) {
                Ok(false)
            } else {
                Err(CellProblem::NotYesNo(shown(data)))
            }
        }
        _ => Err(CellProblem::NotYesNo(shown(data))),
    }
}

/// One of `choices`, as written in the framework.
pub fn choice(data: &Data, choices: &[String]) -> Result<String, CellProblem> {
    let said = shown(data);
    let said = said.trim();
    choices
        .iter()
        .find(|choice| choice.as_str() == said)
        .cloned()
        .ok_or_else(|| CellProblem::NotChoice(said.to_owned()))
}

/// Text: what the cell shows, trimmed (a number or a date as people see it).
pub fn text(data: &Data) -> Result<String, CellProblem> {
    match data {
        Data::Error(_) => Err(CellProblem::NotText(shown(data))),
        other => Ok(shown(other).trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_read_exactly_from_numbers_and_text() {
        assert_eq!(whole(&Data::Float(12.0)), Ok(12));
        assert_eq!(whole(&Data::Int(7)), Ok(7));
        assert_eq!(whole(&Data::String(" 34 ".into())), Ok(34));
        assert_eq!(
            whole(&Data::String("12,5".into())),
            Err(CellProblem::NotWhole("12,5".into()))
        );
        assert_eq!(
            whole(&Data::Float(12.5)),
            Err(CellProblem::NotWhole("12.5".into()))
        );
        assert_eq!(
            whole(&Data::Float(-1.0)),
            Err(CellProblem::NotWhole("-1".into()))
        );
        assert_eq!(
            whole(&Data::Float(1e17)),
            Err(CellProblem::TooLarge("100000000000000000".into()))
        );
        assert_eq!(
            whole(&Data::Float(9_007_199_254_740_992.0)),
            Ok(MAX_EXACT_WHOLE)
        );
    }

    #[test]
    fn decimals_are_read_from_their_shortest_representation() {
        assert_eq!(decimal(&Data::Float(15.38)), Ok("15.38".into()));
        assert_eq!(
            decimal(&Data::Float(0.1 + 0.2)),
            Ok("0.30000000000000004".into())
        );
        assert_eq!(decimal(&Data::String("2.5".into())), Ok("2.5".into()));
        assert!(decimal(&Data::String("2,5".into())).is_err());
        assert!(decimal(&Data::Float(-0.5)).is_err());
    }

    #[test]
    fn yes_and_no_are_read_in_either_language() {
        let words = [
            ("Có".to_owned(), "Không".to_owned()),
            ("Yes".to_owned(), "No".to_owned()),
        ];
        assert_eq!(yes_no(&Data::String("có".into()), &words), Ok(true));
        assert_eq!(yes_no(&Data::String("No".into()), &words), Ok(false));
        assert_eq!(yes_no(&Data::Bool(true), &words), Ok(true));
        assert!(yes_no(&Data::String("x".into()), &words).is_err());
    }
}
