//! Request fields from arbitrary bytes: a year and texts for the framework, unit and UUID
//! fields. Parsing never panics, and what is accepted parses again to the same value.
#![no_main]

use dti_proto::dti::common::v1 as common;
use dti_proto::request::{parse_round, parse_unit, parse_uuid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let year = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let text = String::from_utf8_lossy(&data[4..]);
    let round = common::RoundRef {
        year,
        framework: text.to_string(),
    };
    if let Ok(parsed) = parse_round(Some(&round)) {
        let again = common::RoundRef {
            year: u32::from(parsed.year),
            framework: parsed.framework.to_string(),
        };
        assert_eq!(parse_round(Some(&again)), Ok(parsed));
    }
    let unit = common::UnitRef {
        unit_id: text.to_string(),
    };
    if let Ok(parsed) = parse_unit(Some(&unit)) {
        let again = common::UnitRef {
            unit_id: parsed.to_string(),
        };
        assert_eq!(parse_unit(Some(&again)), Ok(parsed));
    }
    if let Ok(id) = parse_uuid("id", &text) {
        assert_eq!(parse_uuid("id", &id.to_string()), Ok(id));
    }
});
