//! Any text as a unit registry file: loaded or refused with problems, never a panic.
#![no_main]

use dti_domain::UnitRegistry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match UnitRegistry::parse("fuzz.toml", text) {
        Ok(registry) => {
            let _ = registry.units().count();
        }
        Err(error) => assert!(!error.problems.is_empty()),
    }
});
