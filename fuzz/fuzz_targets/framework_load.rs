//! Any text as a framework file: loaded or refused with problems, never a panic.
#![no_main]

use dti_domain::framework::load::parse_framework;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = parse_framework("fuzz.toml", text) {
        assert!(!error.problems.is_empty());
    }
});
