//! What the image targets share: a scratch directory and bounded options.

use std::path::PathBuf;
use std::sync::OnceLock;

/// A directory of this fuzzing process's own, created once (removed by the OS's tmp cleaning;
/// a fuzzing process runs for minutes, not once per input).
pub fn scratch() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("forensic-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
    .clone()
}

/// The defaults with the decompression and entry bounds lowered to what a fuzz input can
/// reach in libFuzzer's time limit (the bounds themselves are what is being tested).
pub fn image_options() -> forensic_image::ImageOptions {
    forensic_image::ImageOptions {
        max_layer_size: 64 << 20,
        max_entries: 100_000,
        max_file_size: 64 << 20,
        max_metadata_size: 1 << 20,
        ..forensic_image::ImageOptions::default()
    }
}
