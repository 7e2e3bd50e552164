//! OCI `index.json`, image manifest, config and one layer, as an OCI layout directory. The input
//! holds the four separated by `\n--8<--\n`; the strings `MANIFEST_DIGEST`, `CONFIG_DIGEST` and
//! `LAYER_DIGEST` in it are replaced by the real digests, so that mutations reach the JSON and
//! tar parsers behind the digest checks.
#![no_main]
use forensic_fuzz::{image_options, scratch};
use forensic_image::open_image;
use libfuzzer_sys::fuzz_target;

fn hex(bytes: &[u8]) -> String {
    forensic_bundle::digest::Digest::of(bytes).hex()
}

fn replace(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        let (head, tail) = rest.split_at(at);
        out.extend_from_slice(head);
        out.extend_from_slice(with);
        rest = tail.get(needle.len()..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    out
}

fn write_layout(data: &[u8]) -> std::io::Result<std::path::PathBuf> {
    const CUT: &[u8] = b"\n--8<--\n";
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < 3 {
        let Some(at) = rest.windows(CUT.len()).position(|w| w == CUT) else {
            break;
        };
        let (head, tail) = rest.split_at(at);
        parts.push(head);
        rest = tail.get(CUT.len()..).unwrap_or_default();
    }
    parts.push(rest);
    let part = |i: usize| parts.get(i).copied().unwrap_or_default();
    let layer = part(3);
    let config = replace(part(2), b"LAYER_DIGEST", hex(layer).as_bytes());
    let manifest = replace(part(1), b"CONFIG_DIGEST", hex(&config).as_bytes());
    let manifest = replace(&manifest, b"LAYER_DIGEST", hex(layer).as_bytes());
    let index = replace(part(0), b"MANIFEST_DIGEST", hex(&manifest).as_bytes());

    let dir = scratch().join("layout");
    let _ = std::fs::remove_dir_all(&dir);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    std::fs::write(dir.join("index.json"), &index)?;
    for blob in [&manifest[..], &config[..], layer] {
        std::fs::write(blobs.join(hex(blob)), blob)?;
    }
    Ok(dir)
}

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = write_layout(data) else {
        return;
    };
    if let Ok(image) = open_image(&dir, &image_options()) {
        let _ = image.index();
    }
});
