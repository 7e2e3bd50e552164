//! Benchmark helper: writes the full-tree index (the `5-filesystem/tree-index.jsonl` member) of a
//! directory to stdout, exactly as `forensic collect` builds it for a container root.
//!
//! `cargo run --release -p forensic-collect --example index_tree -- DIR > index.jsonl`

use forensic_collect::rootfs::RootFs;
use forensic_collect::rootfs::index::{IndexOptions, write_index};
use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: index_tree DIR");
        return ExitCode::from(2);
    };
    let root = match RootFs::open(std::path::Path::new(&dir)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("index_tree: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    match write_index(&root, &mut out, &IndexOptions::default()).and_then(|s| {
        out.flush().map_err(|e| forensic_collect::rootfs::RootError::Io {
            path: "stdout".into(),
            source: e,
        })?;
        Ok(s)
    }) {
        Ok(s) => {
            eprintln!(
                "{} entries, {} files hashed, {} bytes",
                s.entries, s.files_hashed, s.bytes_hashed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("index_tree: {e}");
            ExitCode::from(1)
        }
    }
}
