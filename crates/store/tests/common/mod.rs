//! Shared helpers of the store's integration tests.
#![allow(dead_code)]

use std::process::Command;

/// True when `tool` can be started. When it cannot, the test is skipped with a notice,
/// except under `CI=true`, where a missing tool fails the test.
pub fn require_tool(tool: &str, version_arg: &str) -> bool {
    match Command::new(tool).arg(version_arg).output() {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{tool} is required under CI=true but cannot be started: {e}");
            }
            eprintln!("NOTICE: skipping test: {tool} not available ({e})");
            false
        }
    }
}
