//! Builders for the tests: tars written header by header (so hostile names and sizes can be
//! written exactly), compression, and OCI layouts / docker archives made by hand.

use forensic_bundle::digest::Digest;
use forensic_image::index::{FileEntry, FileIndex, Kind};
use forensic_image::{ImageError, ImageOptions, open_image};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Modification time of every entry the builder writes.
pub const MTIME: u64 = 1_700_000_000;

/// A tar written one raw header at a time.
#[derive(Default)]
pub struct Tar {
    out: Vec<u8>,
}

impl Tar {
    pub fn new() -> Self {
        Tar::default()
    }

    /// One entry with a raw name (at most 100 bytes), type flag, data and link name.
    pub fn raw(&mut self, name: &[u8], typ: u8, data: &[u8], link: &[u8], size: u64) -> &mut Self {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(tar::EntryType::new(typ));
        h.set_mode(match typ {
            b'5' => 0o755,
            b'2' => 0o777,
            _ => 0o644,
        });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(MTIME);
        h.set_size(size);
        h.set_cksum();
        self.out.extend_from_slice(h.as_bytes());
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw(name.as_bytes(), b'0', data, b"", data.len() as u64)
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.raw(name.as_bytes(), b'5', b"", b"", 0)
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name.as_bytes(), b'2', b"", target.as_bytes(), 0)
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name.as_bytes(), b'1', b"", target.as_bytes(), 0)
    }

    /// A PAX extended header for the next entry.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            // "LEN KEY=VALUE\n", where LEN counts itself.
            let body = k.len() + v.len() + 3;
            let mut len = body + 1;
            while len.to_string().len() + body != len {
                len += 1;
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        self.raw(b"PaxHeader", b'x', &data.clone(), b"", data.len() as u64)
    }

    /// The tar with its end-of-archive marker.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.out);
        v.extend_from_slice(&[0u8; 1024]);
        v
    }

    /// The tar as written so far, without an end-of-archive marker.
    pub fn unfinished(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

pub fn sha(data: &[u8]) -> Digest {
    Digest::of(data)
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Indexes `path` with default options.
pub fn index_of(path: &Path) -> Result<FileIndex, ImageError> {
    index_with(path, &ImageOptions::default())
}

pub fn index_with(path: &Path, opts: &ImageOptions) -> Result<FileIndex, ImageError> {
    open_image(path, opts)?.index()
}

/// The content digest of a regular file in the index (panics when absent or not a file).
pub fn file_sha(idx: &FileIndex, path: &str) -> Digest {
    let e = idx
        .get(path)
        .unwrap_or_else(|| panic!("{path} missing from {:?}", idx.keys()));
    assert_eq!(e.kind, Kind::File, "{path}");
    e.sha256.unwrap()
}

/// The paths of the index.
pub fn paths(idx: &FileIndex) -> Vec<&str> {
    idx.keys().map(String::as_str).collect()
}

/// A layer: how it is stored and its media type.
pub struct Layer {
    pub tar: Vec<u8>,
    pub stored: Vec<u8>,
    pub media_type: &'static str,
}

impl Layer {
    pub fn plain(tar: Vec<u8>) -> Layer {
        Layer {
            stored: tar.clone(),
            tar,
            media_type: "application/vnd.oci.image.layer.v1.tar",
        }
    }
    pub fn gzip(tar: Vec<u8>) -> Layer {
        Layer {
            stored: gzip(&tar),
            tar,
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip",
        }
    }
    pub fn zstd(tar: Vec<u8>) -> Layer {
        Layer {
            stored: zstd(&tar),
            tar,
            media_type: "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// An OCI image layout being written by hand.
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: PathBuf) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir }
    }

    /// Stores a blob and gives its descriptor.
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let d = sha(bytes);
        std::fs::write(self.blob_path(&d), bytes).unwrap();
        json!({"mediaType": media_type, "digest": format!("sha256:{d}"), "size": bytes.len()})
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(d.hex())
    }

    /// Stores an image (layers, config, manifest) and gives the manifest's descriptor, labelled
    /// with `platform` (`os/arch[/variant]`) when given.
    pub fn image(&self, layers: &[Layer], platform: Option<&str>) -> Value {
        let descs: Vec<Value> = layers.iter().map(|l| self.blob(l.media_type, &l.stored)).collect();
        let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha(&l.tar))).collect();
        let (os, arch, variant) = match platform.map(|p| p.split('/').collect::<Vec<_>>()).as_deref() {
            Some([os, arch]) => (*os, *arch, None),
            Some([os, arch, v]) => (*os, *arch, Some(*v)),
            _ => ("linux", "amd64", None),
        };
        let mut config = json!({"architecture": arch, "os": os, "rootfs": {"type": "layers", "diff_ids": diff_ids}});
        if let Some(v) = variant {
            config["variant"] = json!(v);
        }
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": descs,
        });
        let mut desc = self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        );
        if platform.is_some() {
            let mut p = json!({"os": os, "architecture": arch});
            if let Some(v) = variant {
                p["variant"] = json!(v);
            }
            desc["platform"] = p;
        }
        desc
    }

    pub fn index(&self, manifests: Vec<Value>) {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }

    /// A one-image layout.
    pub fn single(dir: PathBuf, layers: &[Layer]) -> Layout {
        let l = Layout::new(dir);
        let m = l.image(layers, None);
        l.index(vec![m]);
        l
    }

    /// The layout as an OCI archive at `to`: `oci-layout`, `index.json`, then the blobs in name
    /// order (as `podman image save --format oci-archive` lays it out).
    pub fn archive(&self, to: &Path) {
        let mut t = Tar::new();
        for name in ["oci-layout", "index.json"] {
            t.file(name, &std::fs::read(self.dir.join(name)).unwrap());
        }
        t.dir("blobs/").dir("blobs/sha256/");
        let mut blobs: Vec<_> = std::fs::read_dir(self.dir.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        blobs.sort();
        for b in blobs {
            t.file(
                &format!("blobs/sha256/{b}"),
                &std::fs::read(self.dir.join("blobs/sha256").join(&b)).unwrap(),
            );
        }
        std::fs::write(to, t.finish()).unwrap();
    }
}

/// A regular file entry as the test tars write it.
pub fn tar_file(path: &str, data: &[u8]) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        kind: Kind::File,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.len() as u64,
        mtime_ns: Some(MTIME as i64 * 1_000_000_000),
        sha256: Some(sha(data)),
        link_target: None,
    }
}
