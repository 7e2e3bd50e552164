//! Parsers run on real captured inputs: the shared samples (`shared/samples/`, copied from other
//! projects' test fixtures) and this crate's own captures (`tests/fixtures/`, see its README).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod inspect;
mod mountinfo;
mod net;
mod process;

use std::path::Path;

/// Reads `shared/samples/<relative>` (beside the repository).
fn shared_sample(relative: &str) -> Vec<u8> {
    forensic_samples::read(relative).unwrap()
}

/// Reads `tests/fixtures/<relative>`.
fn fixture(relative: &str) -> Vec<u8> {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(relative),
    )
}

fn fixture_text(relative: &str) -> String {
    String::from_utf8(fixture(relative)).unwrap()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("cannot read sample {}: {error}", path.display()))
}
