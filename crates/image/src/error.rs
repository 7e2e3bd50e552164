//! Errors of reading an image: each names the file, blob, layer or entry and says what is wrong.

use forensic_bundle::digest::Digest;
use std::io;
use std::path::PathBuf;

/// Why an image (or root filesystem) could not be read.
///
/// `layer` fields name a layer the way an examiner finds it again: its position, digest and the
/// blob or archive member it was read from (`layer 2 of 3 (sha256:…, blobs/sha256/…)`), or the
/// path of a root-filesystem tar. `entry` fields are tar entry names as stored, with bytes that
/// are not UTF-8 written as `\xNN`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Reading the input (a file or directory given on the command line, or a file in it) failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },

    /// The input is none of the supported forms.
    #[error("{path}: not an image or a root filesystem: {why}")]
    UnknownFormat {
        /// The input.
        path: PathBuf,
        /// What was found instead.
        why: String,
    },

    /// Compressed with something other than gzip or zstd.
    #[error("{what} is compressed with {compression}; only gzip and zstd are supported")]
    UnsupportedCompression {
        /// The input file or layer.
        what: String,
        /// The compression recognised from its first bytes.
        compression: &'static str,
    },

    /// The outer tar of an image archive is malformed (truncated, duplicate member, too many
    /// members, unreadable header).
    #[error("image archive {path}: {why}")]
    BadArchive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },

    /// A blob or metadata file the image refers to is not there.
    #[error("{what} is missing from the image ({location})")]
    MissingBlob {
        /// What was looked for (`manifest sha256:…`, `layer 2 of 3`, `index.json`).
        what: String,
        /// Where it should have been (file or archive member name).
        location: String,
    },

    /// A JSON metadata file (index, manifest, config, `manifest.json`) does not parse or lacks a
    /// required field.
    #[error("{what}: not valid JSON of the expected form: {source}")]
    Json {
        /// Which metadata file.
        what: String,
        /// The parser's error (with line and column).
        source: serde_json::Error,
    },

    /// Metadata is well-formed JSON but says something this reader cannot accept (a digest that
    /// is not SHA-256, a media type that is not a layer, a count that does not match).
    #[error("{what}: {why}")]
    BadMetadata {
        /// Which metadata file or field.
        what: String,
        /// What is wrong.
        why: String,
    },

    /// A metadata blob is larger than this reader accepts (JSON is read into memory).
    #[error("{what} is {size} bytes, more than the limit of {limit}")]
    MetadataTooLarge {
        /// Which blob.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// A blob's SHA-256 is not the digest the image's metadata gives for it: the blob was altered
    /// or replaced.
    #[error("{blob}: SHA-256 is sha256:{actual}, but {claimed_by} says sha256:{expected}")]
    DigestMismatch {
        /// The blob (`layer 2 of 3 (…)`, `config sha256:…`, `manifest sha256:…`).
        blob: String,
        /// What gives the expected digest (`the manifest`, `config rootfs.diff_ids[1]`, …).
        claimed_by: String,
        /// The digest the metadata gives.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },

    /// A blob's size is not the size its descriptor gives.
    #[error("{blob}: {actual} bytes, but {claimed_by} says {expected}")]
    SizeMismatch {
        /// The blob.
        blob: String,
        /// What gives the expected size.
        claimed_by: String,
        /// The size the metadata gives.
        expected: u64,
        /// The size of the blob as stored.
        actual: u64,
    },

    /// `--platform` is not of the form `OS/ARCH` or `OS/ARCH/VARIANT`.
    #[error("bad platform {value:?}: expected OS/ARCH or OS/ARCH/VARIANT, such as linux/amd64 or linux/arm64/v8")]
    BadPlatform {
        /// The value given.
        value: String,
    },

    /// No image of the wanted platform.
    #[error("no image for platform {wanted} in {what} (it has: {available}); choose one with --platform")]
    PlatformNotFound {
        /// The platform looked for (with `, the host's` when it was not given).
        wanted: String,
        /// The index or archive.
        what: String,
        /// The platforms it has.
        available: String,
    },

    /// More tar entries across the image than the limit.
    #[error("{layer}: more than {limit} entries in the image (limit)")]
    TooManyEntries {
        /// The layer where the limit was passed.
        layer: String,
        /// The limit.
        limit: u64,
    },

    /// A layer decompresses to more bytes than the limit (a decompression bomb, or a limit too low).
    #[error("{layer}: decompresses to more than {limit} bytes (limit)")]
    LayerTooLarge {
        /// The layer.
        layer: String,
        /// The limit.
        limit: u64,
    },

    /// A tar header declares an absurd size.
    #[error("{layer}: entry {entry:?} declares {size} bytes, more than the limit of {limit}")]
    AbsurdSize {
        /// The layer.
        layer: String,
        /// The entry.
        entry: String,
        /// The declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// The tar ends before an entry's data does, or without its end-of-archive marker.
    #[error("{layer}: truncated: {why}")]
    Truncated {
        /// The layer.
        layer: String,
        /// Which entry was cut short, or that the end marker is missing.
        why: String,
    },

    /// An entry name climbs out of the root with `..`.
    #[error("{layer}: entry {entry:?} escapes the root filesystem with '..'")]
    PathEscape {
        /// The layer.
        layer: String,
        /// The entry name as stored.
        entry: String,
    },

    /// A hard link points outside the root filesystem.
    #[error("{layer}: hard link {entry:?} points outside the root filesystem ({target:?})")]
    LinkOutsideTree {
        /// The layer.
        layer: String,
        /// The link.
        entry: String,
        /// Its target as stored.
        target: String,
    },

    /// A hard link's target is not a file of this or a lower layer (or is a directory).
    #[error("{layer}: hard link {entry:?} points to {target:?}, which {why}")]
    BadLinkTarget {
        /// The layer.
        layer: String,
        /// The link.
        entry: String,
        /// Its target.
        target: String,
        /// What is wrong with the target.
        why: &'static str,
    },

    /// An entry lies below something that is not a directory (a file, or a symlink that an
    /// extractor would follow).
    #[error("{layer}: entry {entry:?} lies below {parent:?}, which is a {kind} and not a directory")]
    ParentNotDirectory {
        /// The layer.
        layer: String,
        /// The entry.
        entry: String,
        /// The ancestor that is not a directory.
        parent: String,
        /// Its type.
        kind: &'static str,
    },

    /// A tar entry of a type a filesystem cannot hold (multi-volume, volume label, unknown).
    #[error("{layer}: entry {entry:?} has unsupported tar type {type_byte:?}")]
    UnsupportedEntryType {
        /// The layer.
        layer: String,
        /// The entry.
        entry: String,
        /// The type flag.
        type_byte: char,
    },

    /// A tar entry with a malformed field (NUL in a name, unparsable number, bad whiteout name).
    #[error("{layer}: entry {entry:?}: {why}")]
    BadEntry {
        /// The layer.
        layer: String,
        /// The entry.
        entry: String,
        /// What is wrong.
        why: String,
    },

    /// The layer's tar or compression stream is malformed, or reading it failed.
    #[error("{layer}: cannot read the layer (after entry {after:?}): {source}")]
    Layer {
        /// The layer.
        layer: String,
        /// The last entry read successfully (empty at the start).
        after: String,
        /// The tar reader's, decompressor's or operating system's error.
        source: io::Error,
    },
}
