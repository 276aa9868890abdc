//! Any text as a cohort document: decoded or refused with an error, never a panic.
#![no_main]

use dti_domain::values::decode_cohort;
use dti_domain::FrameworkCatalog;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn catalog() -> &'static FrameworkCatalog {
    static CATALOG: OnceLock<FrameworkCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| FrameworkCatalog::builtin().expect("built-in frameworks"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = decode_cohort(text, catalog());
    assert!(decoded.value.is_some() || decoded.issues.iter().any(|i| i.is_error()));
});
