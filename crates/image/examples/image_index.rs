//! Builds the file index of an image and prints what it found: the form, the layers, and counts
//! of entries by type and of bytes hashed. With `--list`, one line per path as well.
//!
//! `cargo run --release -p forensic-image --example image_index -- IMAGE [--platform OS/ARCH] [--list]`

use forensic_image::index::Kind;
use forensic_image::{ImageOptions, Platform, open_image};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("image_index: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut platform = None;
    let mut list = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--platform" => platform = Some(Platform::parse(&args.next().ok_or("--platform needs a value")?)?),
            "--list" => list = true,
            _ => path = Some(PathBuf::from(a)),
        }
    }
    let path = path.ok_or("usage: image_index IMAGE [--platform OS/ARCH[/VARIANT]] [--list]")?;
    let image = open_image(&path, &ImageOptions::with_platform(platform))?;
    println!("kind: {}", image.kind().name());
    if let Some(d) = image.manifest_digest() {
        println!("manifest: sha256:{d}");
    }
    if let Some(d) = image.config_digest() {
        println!("config: sha256:{d}");
    }
    for l in image.layers() {
        println!("layer: {} {}", l.media_type, l.location);
    }
    let index = image.index()?;
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut bytes = 0u64;
    for e in index.values() {
        *kinds.entry(format!("{:?}", e.kind).to_lowercase()).or_default() += 1;
        if e.kind == Kind::File {
            bytes += e.size;
        }
        if list {
            println!(
                "{} {:?} {:04o} {}:{} {} {} {}",
                e.path,
                e.kind,
                e.mode,
                e.uid,
                e.gid,
                e.size,
                e.sha256.map(|d| d.hex()).unwrap_or_default(),
                e.link_target.as_deref().unwrap_or("")
            );
        }
    }
    println!("entries: {}", index.len());
    for (k, n) in kinds {
        println!("  {k}: {n}");
    }
    println!("file bytes: {bytes}");
    Ok(())
}
