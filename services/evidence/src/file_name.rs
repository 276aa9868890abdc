//! Sanitised file names: what a unit calls its document, made safe to store, show and offer
//! back as a download name on any operating system.

use std::fmt;

use dti_i18n::Message;

/// Longest stored name, in bytes (the usual filesystem limit).
const MAX_LEN: usize = 255;

/// Characters no common filesystem accepts in a name, replaced by `_`.
const FORBIDDEN: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Names Windows reserves for devices, whatever the extension.
const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A file name after sanitising: the last path component only, no control or forbidden
/// characters, no leading or trailing dots or spaces, single spaces, not a reserved device
/// name, at most 255 bytes with its extension kept. Vietnamese letters are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

/// Why a file name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// No name was given.
    #[error("must be set")]
    Missing,
    /// Nothing usable is left once unsafe characters are removed.
    #[error("{0:?} has no usable characters")]
    NothingLeft(String),
}

impl FileNameError {
    /// The problem as the caller reads it, in the language it is shown in (`Display` is the
    /// English one).
    pub fn message(&self) -> Message {
        match self {
            Self::Missing => Message::new("request-must-be-set"),
            Self::NothingLeft(raw) => {
                Message::new("evidence-file-name-unusable").arg("name", format!("{raw:?}"))
            }
        }
    }
}

impl FileName {
    /// Sanitises `raw` as described on [`FileName`].
    pub fn sanitise(raw: &str) -> Result<Self, FileNameError> {
        if raw.trim().is_empty() {
            return Err(FileNameError::Missing);
        }
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned = collapse_spaces(last);
        let cleaned = cleaned.trim_matches(|c: char| c == '.' || c == ' ');
        if cleaned.is_empty() || cleaned.chars().all(|c| c == '_') {
            return Err(FileNameError::NothingLeft(raw.to_owned()));
        }
        let cleaned = avoid_reserved(cleaned);
        Ok(Self(truncate_keeping_extension(&cleaned, MAX_LEN)))
    }

    /// The sanitised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Replaces forbidden characters by `_`, drops control and format characters, and turns every
/// run of white space into one space.
fn collapse_spaces(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_was_space = false;
    for c in name.chars() {
        if c.is_whitespace() {
            if !last_was_space {
                out.push(' ');
            }
            last_was_space = true;
            continue;
        }
        last_was_space = false;
        if c.is_control() || is_invisible_format(c) {
            continue;
        }
        out.push(if FORBIDDEN.contains(&c) { '_' } else { c });
    }
    out
}

/// Zero-width and bidirectional controls that can disguise a name (e.g. `exe.pdf` shown as
/// `fdp.exe`).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Prefixes `_` to a Windows device name such as `CON` or `nul.txt`.
fn avoid_reserved(name: &str) -> String {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if RESERVED.contains(&stem.to_ascii_lowercase().as_str()) {
        format!("_{name}")
    } else {
        name.to_owned()
    }
}

/// Cuts `name` to at most `max` bytes on a character boundary, keeping a short extension.
fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.len() <= 16)
        .unwrap_or_default();
    let mut stem_len = max - extension.len();
    while !name.is_char_boundary(stem_len) {
        stem_len -= 1;
    }
    format!("{}{extension}", &name[..stem_len])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(raw: &str) -> String {
        FileName::sanitise(raw).expect("usable").to_string()
    }

    #[test]
    fn vietnamese_names_are_kept() {
        assert_eq!(
            clean("Báo cáo chuyển đổi số 2023.pdf"),
            "Báo cáo chuyển đổi số 2023.pdf"
        );
    }

    #[test]
    fn paths_are_reduced_to_their_last_component() {
        assert_eq!(clean("../../etc/passwd"), "passwd");
        assert_eq!(clean("C:\\Users\\so-tttt\\bao-cao.docx"), "bao-cao.docx");
    }

    #[test]
    fn unsafe_characters_and_spacing_are_cleaned() {
        assert_eq!(clean("  a\tb\n\nc?.pdf  "), "a b c_.pdf");
        assert_eq!(clean("x\u{202E}fdp.exe"), "xfdp.exe");
        assert_eq!(clean("report.pdf."), "report.pdf");
        assert_eq!(clean("a<b>c|d\"e.xlsx"), "a_b_c_d_e.xlsx");
    }

    #[test]
    fn device_names_are_defused() {
        assert_eq!(clean("CON"), "_CON");
        assert_eq!(clean("nul.txt"), "_nul.txt");
        assert_eq!(clean("console.pdf"), "console.pdf");
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.pdf", "đ".repeat(300));
        let cut = clean(&long);
        assert!(cut.len() <= 255, "{}", cut.len());
        assert!(cut.ends_with(".pdf"));
        assert!(cut.starts_with("đđ"));
    }

    #[test]
    fn empty_or_unusable_names_are_refused() {
        assert_eq!(FileName::sanitise("  "), Err(FileNameError::Missing));
        assert!(matches!(
            FileName::sanitise("../.."),
            Err(FileNameError::NothingLeft(_))
        ));
        assert!(matches!(
            FileName::sanitise("dir/"),
            Err(FileNameError::NothingLeft(_))
        ));
        assert!(matches!(
            FileName::sanitise("???"),
            Err(FileNameError::NothingLeft(_))
        ));
    }
}
