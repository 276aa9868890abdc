//! The catalogues are complete and lean: every key is in both languages, every message of
//! each parses and formats, and every key is used somewhere in the workspace's Rust source
//! (a key written as a string literal, `"form-title"`; the keys of dtictl's help, built from
//! command paths, are checked by dtictl's help tests). A key added in one language only, or
//! left behind after its use was removed, fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dti_i18n::{message_keys, section_keys, Lang, HELP_SECTION};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, skipping build output and hidden folders.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_key_is_in_both_languages() {
    let vi: BTreeSet<String> = message_keys(Lang::Vi.source()).into_iter().collect();
    let en: BTreeSet<String> = message_keys(Lang::En.source()).into_iter().collect();
    let only_vi: Vec<_> = vi.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&vi).collect();
    assert!(only_vi.is_empty(), "keys without English: {only_vi:?}");
    assert!(only_en.is_empty(), "keys without Vietnamese: {only_en:?}");
    assert!(
        vi.len() > 50,
        "the catalogues hold the forms' texts: {}",
        vi.len()
    );
    for lang in Lang::ALL {
        let keys = message_keys(lang.source());
        assert_eq!(keys.len(), vi.len(), "{lang}: a key is defined twice");
        let catalog = lang.catalog();
        assert_eq!(catalog.keys(), keys.as_slice());
        for key in &keys {
            let text = catalog.text(key);
            assert_ne!(&text, key, "{lang}: {key} does not parse");
            assert!(!text.trim().is_empty(), "{lang}: {key} is empty");
        }
    }
}

#[test]
fn every_key_is_used_in_the_source() {
    let mut files = Vec::new();
    for dir in ["shared", "services", "proto", "tests"] {
        rust_files(&repo().join(dir), &mut files);
    }
    let this_test = Path::new(file!()).file_name().expect("a file name");
    let source: String = files
        .iter()
        .filter(|path| path.file_name() != Some(this_test))
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect();
    assert!(
        source.contains("\"form-title\""),
        "the scan reads the forms crate"
    );
    let help = section_keys(Lang::Vi.source(), HELP_SECTION);
    assert!(help.len() > 200, "the help section is read: {}", help.len());
    let unused: Vec<String> = message_keys(Lang::Vi.source())
        .into_iter()
        .filter(|key| !help.contains(key) && !source.contains(&format!("\"{key}\"")))
        .collect();
    assert!(unused.is_empty(), "keys used nowhere: {unused:?}");
}
