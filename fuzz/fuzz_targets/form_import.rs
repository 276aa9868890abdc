//! Any bytes as a filled .xlsx form: imported or refused with problems, never a panic.
#![no_main]

use dti_domain::{FrameworkCatalog, UnitRegistry};
use dti_forms::{import_form, ImportOptions};
use dti_i18n::Lang;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn catalog() -> &'static FrameworkCatalog {
    static CATALOG: OnceLock<FrameworkCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| FrameworkCatalog::builtin().expect("built-in frameworks"))
}

fn registry() -> &'static UnitRegistry {
    static REGISTRY: OnceLock<UnitRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| UnitRegistry::builtin().expect("built-in registry"))
}

fuzz_target!(|data: &[u8]| {
    let options = ImportOptions {
        catalog: catalog(),
        registry: registry(),
        framework: None,
        year: None,
        lang: Lang::En,
    };
    if let Err(problems) = import_form(data, &options) {
        assert!(!problems.is_empty());
    }
});
