//! The `dti-ranking` binary as an operator starts it: a bad setting stops it at once with exit
//! code 2 and a message naming the setting. (Its integration test also makes `cargo test`
//! build the binary the system tests run.)

use std::process::Command;

#[test]
fn a_bad_setting_stops_the_binary_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_dti-ranking"))
        .env_remove("DTI_RANKING_CONFIG_FILE")
        .env("DTI_RANKING_NATS_PREFIX", "not.a.prefix")
        .output()
        .expect("dti-ranking runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nats.prefix"), "{stderr}");
}
