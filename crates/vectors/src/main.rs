//! `forensic-vectors [--check] [DIR]`: writes the test vectors of SPEC §13 into DIR (default: the
//! workspace's `format-spec/vectors`), or with `--check` compares DIR with them and writes
//! nothing.
//!
//! Exit status: 0 done (or up to date), 1 `--check` found a difference, 2 error.

use forensic_vectors::{Error, default_dir, diff_dir, generate, render_files};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: forensic-vectors [--check] [DIR]

Writes the bundle format's test vectors (format-spec/SPEC.md §13) into DIR
(default: the workspace's format-spec/vectors), removing stale vectors.
  --check   write nothing; exit 1 listing every file that differs, is missing or extra";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("forensic-vectors: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, Error> {
    let mut check = false;
    let mut dir: Option<PathBuf> = None;
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("--check") => check = true,
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            Some(a) if a.starts_with('-') => return Err(Error::new(format!("unknown option {a}\n{USAGE}"))),
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => return Err(Error::new(format!("more than one directory given\n{USAGE}"))),
        }
    }
    let dir = dir.unwrap_or_else(default_dir);
    let vectors = generate()?;
    let files = render_files(&vectors)?;
    if check {
        let diffs = diff_dir(&dir, &files)?;
        if diffs.is_empty() {
            println!(
                "{}: {} vectors, all {} files up to date",
                dir.display(),
                vectors.len(),
                files.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        for d in &diffs {
            println!("{d}");
        }
        eprintln!(
            "forensic-vectors: {} file(s) differ from the generated vectors; run `cargo run -p forensic-vectors`",
            diffs.len()
        );
        return Ok(ExitCode::from(1));
    }
    let (written, removed) = write_dir(&dir, &files)?;
    println!(
        "{}: {} vectors; {written} file(s) written, {removed} stale file(s) removed",
        dir.display(),
        vectors.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes every file that differs (through a temporary file renamed into place), gives private
/// keys mode 0600 (SPEC §8), and removes generated-looking files (`*.zip`, `*.expect`,
/// `keys/*.key`, `keys/*.pub`) that are no longer generated. Returns (written, removed).
fn write_dir(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(usize, usize), Error> {
    let mut written = 0;
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == *bytes) {
            continue;
        }
        let parent = path
            .parent()
            .ok_or_else(|| Error::new(format!("{} has no parent", path.display())))?;
        std::fs::create_dir_all(parent)?;
        let tmp = parent.join(format!(
            ".{}.tmp",
            path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        ));
        std::fs::write(&tmp, bytes)?;
        if rel.ends_with(".key") {
            restrict(&tmp)?;
        }
        std::fs::rename(&tmp, &path)?;
        written += 1;
    }
    let mut removed = 0;
    for (sub, exts) in [("", &["zip", "expect"][..]), ("keys", &["key", "pub"][..])] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel = if sub.is_empty() {
                name.clone()
            } else {
                format!("{sub}/{name}")
            };
            let ours = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e));
            if ours && path.is_file() && !files.contains_key(&rel) {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
    }
    Ok((written, removed))
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> std::io::Result<()> {
    Ok(())
}
