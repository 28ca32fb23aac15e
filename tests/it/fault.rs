//! The fault-injection harness's short tier (tests/fault/run, scenarios 1-3:
//! kill -9 of PostgreSQL mid-load, SIGTERM under load, SMTP down / hanging /
//! refusing) against this build's binary, on the harness's own private
//! PostgreSQL cluster. Fails when any figure misses its target; the harness's
//! table of figures is printed either way (`cargo test fault -- --nocapture`).

use std::process::Command;

#[test]
fn short_tier_of_the_fault_harness_keeps_every_figure_on_target() {
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fault/fault.py");
    let output = Command::new("python3")
        .arg(harness)
        .args(["--bin", env!("CARGO_BIN_EXE_tessera")])
        .output()
        .expect("running python3 tests/fault/fault.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the fault harness reports broken figures (exit {:?}):\n{}",
        output.status.code(),
        stdout
            .lines()
            .filter(|line| line.contains("BROKEN"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stdout.contains("every figure on target"),
        "the harness did not reach its summary"
    );
}
