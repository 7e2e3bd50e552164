//! Prints every bucket of a bbolt file ([`forensic_bolt::dump`]).
//!
//! `cargo run -p forensic-bolt --example dump -- /path/to/meta.db`

use std::io::{Read, Write};
use std::process::ExitCode;

/// The largest file read (a busy node's meta.db is a few MiB).
const MAX_FILE: u64 = 256 << 20;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dump FILE");
        return ExitCode::from(2);
    };
    let shown = path.to_string_lossy().into_owned();
    let mut data = Vec::new();
    let read = std::fs::File::open(&path).and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut data));
    if let Err(e) = read {
        eprintln!("{shown}: {e}");
        return ExitCode::from(2);
    }
    if data.len() as u64 > MAX_FILE {
        eprintln!("{shown}: larger than {MAX_FILE} bytes");
        return ExitCode::from(2);
    }
    match forensic_bolt::Db::open(&data).and_then(|db| forensic_bolt::dump(&db)) {
        Ok(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{shown}: {e}");
            ExitCode::from(1)
        }
    }
}
