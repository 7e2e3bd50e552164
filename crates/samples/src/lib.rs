//! Where the shared real-world samples are, for the tests of every crate.
//!
//! The samples (captured outputs copied from other projects' test fixtures; see
//! `shared/samples/README.md`) are not part of this repository: they live in a folder `shared/`
//! **beside** it, so a clone at `<parent>/<any name>/` reads them from `<parent>/shared/samples/`.
//! This crate is the one place that knows that layout; it is a dev-dependency only.
#![deny(missing_docs)]

use std::io;
use std::path::{Path, PathBuf};

/// `<parent>/shared/samples`, where `<parent>` is the folder holding this repository.
pub fn dir() -> PathBuf {
    // This crate is `<repository>/crates/samples`.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples")
}

/// The sample at `relative` (e.g. `crictl-inspect/bpfman-operator-containerd-kind.json`).
pub fn path(relative: &str) -> PathBuf {
    dir().join(relative)
}

/// The bytes of the sample at `relative`.
///
/// # Errors
/// When it cannot be read; the message names the path and where the samples are expected.
pub fn read(relative: &str) -> io::Result<Vec<u8>> {
    let p = path(relative);
    std::fs::read(&p).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "sample {}: {e} (the samples live in shared/samples/ beside the repository)",
                p.display()
            ),
        )
    })
}

/// The text of the sample at `relative`.
///
/// # Errors
/// As [`read`], and when the sample is not UTF-8.
pub fn read_to_string(relative: &str) -> io::Result<String> {
    String::from_utf8(read(relative)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sample {relative} is not UTF-8: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_samples_are_found_beside_the_repository() -> std::io::Result<()> {
        let readme = super::read_to_string("README.md")?;
        assert!(readme.starts_with("# Real-world samples"), "{readme}");
        Ok(())
    }
}
