//! What a document is, judged from its bytes only: magic numbers through the `infer` crate,
//! and for ZIP containers a look at the entry names in the ZIP central directory, so that a
//! DOCX or XLSX is recognised whatever order its writer put the entries in.
//!
//! The client's declared content type is never trusted; it is only compared with what the
//! bytes say ([`declared_matches`]).

/// PDF.
pub const PDF: &str = "application/pdf";
/// Word document (Office Open XML).
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
/// Excel workbook (Office Open XML).
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// PowerPoint presentation (Office Open XML).
pub const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
/// PNG image.
pub const PNG: &str = "image/png";
/// JPEG image.
pub const JPEG: &str = "image/jpeg";
/// A ZIP archive that is not an Office document.
const ZIP: &str = "application/zip";

/// The content types accepted unless configured otherwise.
pub const DEFAULT_ALLOWED: [&str; 5] = [PDF, DOCX, XLSX, PNG, JPEG];

/// How many leading bytes [`sniff`] needs.
pub const HEAD_LEN: usize = 8 * 1024;

/// How many trailing bytes [`sniff`] looks at for a ZIP central directory. Office documents
/// keep it small (a few KiB); one larger than this is judged by its leading bytes only.
pub const TAIL_LEN: usize = 256 * 1024;

/// Whether `mime` is a type [`sniff`] can recognise (and so may be allowed in configuration).
pub fn is_recognised(mime: &str) -> bool {
    infer::is_mime_supported(mime) || [DOCX, XLSX, PPTX].contains(&mime)
}

/// The content type of a document whose first bytes are `head` (at least [`HEAD_LEN`] of them
/// when the document is that long) and whose last bytes are `tail` (at most [`TAIL_LEN`]; the
/// whole document when it is shorter). `None` when the bytes match no known type.
pub fn sniff(head: &[u8], tail: &[u8]) -> Option<&'static str> {
    let detected = infer::get(head).map(|kind| kind.mime_type());
    match detected {
        Some(ZIP) | None if head.starts_with(ZIP_LOCAL_HEADER) => {
            office_type_from_entries(tail).or(detected)
        }
        other => other,
    }
}

/// The essence of a declared content type: lowercase, without parameters (`; charset=…`).
pub fn normalise_declared(declared: &str) -> String {
    declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a client's (normalised) declaration agrees with the sniffed type. An empty or
/// generic declaration (`application/octet-stream`) says nothing and agrees with anything.
pub fn declared_matches(declared: &str, sniffed: &str) -> bool {
    declared.is_empty() || declared == "application/octet-stream" || declared == sniffed
}

/// Signature of a ZIP local file header, the first bytes of every ZIP file.
const ZIP_LOCAL_HEADER: &[u8] = b"PK\x03\x04";
/// Signature of the ZIP end-of-central-directory record.
const END_OF_CENTRAL_DIRECTORY: &[u8] = b"PK\x05\x06";
/// Signature of a ZIP central directory file header.
const CENTRAL_FILE_HEADER: &[u8] = b"PK\x01\x02";
/// Fixed size of the end-of-central-directory record (before its comment).
const END_RECORD_LEN: usize = 22;
/// Fixed size of a central directory file header (before its name, extra field and comment).
const CENTRAL_HEADER_LEN: usize = 46;

/// The Office Open XML type named by the central directory at the end of a ZIP file, when the
/// whole directory lies within `tail`.
fn office_type_from_entries(tail: &[u8]) -> Option<&'static str> {
    let names = central_directory_names(tail)?;
    let has = |wanted: &str| names.contains(&wanted.as_bytes());
    if !has("[Content_Types].xml") {
        return None;
    }
    if has("word/document.xml") {
        Some(DOCX)
    } else if has("xl/workbook.xml") {
        Some(XLSX)
    } else if has("ppt/presentation.xml") {
        Some(PPTX)
    } else {
        None
    }
}

/// The entry names of the ZIP central directory that ends `tail`, or `None` when `tail` does
/// not end with a well-formed, complete central directory.
fn central_directory_names(tail: &[u8]) -> Option<Vec<&[u8]>> {
    let end = find_end_record(tail)?;
    let record = tail.get(end..end + END_RECORD_LEN)?;
    let entries = usize::from(read_u16(record, 10)?);
    let directory_len = usize::try_from(read_u32(record, 12)?).ok()?;
    let mut at = end.checked_sub(directory_len)?;
    let mut names = Vec::with_capacity(entries);
    for _ in 0..entries {
        let header = tail.get(at..at + CENTRAL_HEADER_LEN)?;
        if !header.starts_with(CENTRAL_FILE_HEADER) {
            return None;
        }
        let name_len = usize::from(read_u16(header, 28)?);
        let extra_len = usize::from(read_u16(header, 30)?);
        let comment_len = usize::from(read_u16(header, 32)?);
        let name_start = at + CENTRAL_HEADER_LEN;
        names.push(tail.get(name_start..name_start + name_len)?);
        at = name_start + name_len + extra_len + comment_len;
    }
    Some(names)
}

/// Offset of the last end-of-central-directory record in `tail` (it is followed only by its
/// comment of at most 64 KiB).
fn find_end_record(tail: &[u8]) -> Option<usize> {
    let last_start = tail.len().checked_sub(END_RECORD_LEN)?;
    let earliest = last_start.saturating_sub(usize::from(u16::MAX));
    (earliest..=last_start)
        .rev()
        .find(|&at| tail[at..].starts_with(END_OF_CENTRAL_DIRECTORY))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Minimal, valid sample documents of each default type, for tests and benchmarks.
pub mod samples {
    /// A ZIP archive (stored, no compression) with `entries` in that order, each holding its
    /// bytes. Office writers differ in entry order, which is why detection reads the central
    /// directory.
    pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
            let crc = crc32(data);
            let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&name_len.to_le_bytes());
            out.extend_from_slice(&0_u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&name_len.to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
        let directory_len = u32::try_from(central.len()).unwrap_or(u32::MAX);
        let directory_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&directory_len.to_le_bytes());
        out.extend_from_slice(&directory_offset.to_le_bytes());
        out.extend_from_slice(&0_u16.to_le_bytes());
        out
    }

    /// A DOCX with its entries in the order Word writes them.
    pub fn docx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", b"<w:document/>"),
        ])
    }

    /// An XLSX with `docProps` before the workbook, an order `infer` alone does not recognise.
    pub fn xlsx_docprops_first() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("docProps/app.xml", b"<Properties/>"),
            ("docProps/core.xml", b"<cp:coreProperties/>"),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", b"<workbook/>"),
        ])
    }

    /// A PDF of `len` bytes (padded with a comment).
    pub fn pdf(len: usize) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut fill = 0_u8;
        while out.len() + 6 < len {
            out.push(b'0' + fill % 10);
            fill = fill.wrapping_add(1);
        }
        out.extend_from_slice(b"%%EOF\n");
        out.truncate(len.max(16));
        out
    }

    /// A PNG signature and header chunk followed by `len` bytes in total.
    pub fn png(len: usize) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        out.resize(len.max(out.len()), 0);
        out
    }

    const CONTENT_TYPES: &[u8] = b"<?xml version=\"1.0\"?><Types/>";
    const RELS: &[u8] = b"<?xml version=\"1.0\"?><Relationships/>";

    /// CRC-32 (IEEE) of `data`, bit by bit: sample data is small.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFF_u32;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
        !crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff_whole(bytes: &[u8]) -> Option<&'static str> {
        let head = &bytes[..bytes.len().min(HEAD_LEN)];
        let tail = &bytes[bytes.len().saturating_sub(TAIL_LEN)..];
        sniff(head, tail)
    }

    #[test]
    fn pdf_png_and_jpeg_are_recognised_by_their_magic_numbers() {
        assert_eq!(sniff_whole(&samples::pdf(4000)), Some(PDF));
        assert_eq!(sniff_whole(&samples::png(100)), Some(PNG));
        assert_eq!(
            sniff_whole(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x02"),
            Some(JPEG)
        );
    }

    #[test]
    fn docx_in_word_order_is_recognised() {
        assert_eq!(sniff_whole(&samples::docx()), Some(DOCX));
    }

    #[test]
    fn xlsx_with_docprops_first_is_recognised_from_the_central_directory() {
        let xlsx = samples::xlsx_docprops_first();
        assert_ne!(
            infer::get(&xlsx).map(|kind| kind.mime_type()),
            Some(XLSX),
            "this order is the case the fallback exists for"
        );
        assert_eq!(sniff_whole(&xlsx), Some(XLSX));
    }

    #[test]
    fn a_plain_zip_stays_a_zip_and_text_is_unknown() {
        let zip = samples::zip(&[("notes.txt", b"hello"), ("more.txt", b"again")]);
        assert_eq!(sniff_whole(&zip), Some(ZIP));
        assert_eq!(sniff_whole(b"just some text, not a document"), None);
        assert_eq!(sniff_whole(b""), None);
    }

    #[test]
    fn a_truncated_central_directory_is_not_trusted() {
        let mut xlsx = samples::xlsx_docprops_first();
        let cut = xlsx.len() - 30;
        xlsx.drain(cut..cut + 8);
        assert_ne!(sniff_whole(&xlsx), Some(XLSX));
    }

    #[test]
    fn declarations_are_normalised_and_compared() {
        assert_eq!(
            normalise_declared(" Application/PDF; charset=binary"),
            "application/pdf"
        );
        assert!(declared_matches("", PDF));
        assert!(declared_matches("application/octet-stream", PNG));
        assert!(declared_matches(PDF, PDF));
        assert!(!declared_matches(PDF, PNG));
    }

    #[test]
    fn the_default_types_are_recognised_and_made_up_ones_are_not() {
        assert!(DEFAULT_ALLOWED.iter().all(|mime| is_recognised(mime)));
        assert!(!is_recognised("text/x-made-up"));
    }
}
