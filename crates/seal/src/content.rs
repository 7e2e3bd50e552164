//! Opening and reading one evidence file safely: no symlinks followed, no blocking on special
//! files, no atime change where the kernel allows it, and a check that the file opened is the one
//! that was listed.

use forensic_bundle::verify::Progress;
use forensic_bundle::writer::Compression;
use rustix::fs::OFlags;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// How much of a file is deflated to decide whether to compress it.
pub(crate) const SAMPLE: u64 = forensic_bundle::writer::COMPRESSION_SAMPLE as u64;

/// `flags` as the `c_int` [`OpenOptionsExt::custom_flags`] takes.
pub(crate) fn oflag_bits(flags: OFlags) -> io::Result<i32> {
    i32::try_from(flags.bits()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "open flags out of range"))
}

/// Opens `path` read-only with `O_NOFOLLOW|O_NONBLOCK|O_NOATIME|O_CLOEXEC`, retrying without
/// `O_NOATIME` when the kernel refuses it (`EPERM`: the caller does not own the file).
pub(crate) fn open_evidence(path: &Path) -> io::Result<File> {
    let base = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let open = |flags: OFlags| File::options().read(true).custom_flags(oflag_bits(flags)?).open(path);
    match open(base | OFlags::NOATIME) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => open(base),
        other => other,
    }
}

/// Why an evidence file could not be opened, in words for a manifest gap.
pub(crate) fn open_failure(e: &io::Error) -> String {
    use rustix::io::Errno;
    match e.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::ACCESS | Errno::PERM) => format!("permission denied: not readable by the sealing user ({e})"),
        Some(Errno::LOOP) => "replaced by a symlink after it was listed: not followed".to_string(),
        Some(Errno::NOENT) => "removed after it was listed".to_string(),
        _ => format!("could not be opened: {e}"),
    }
}

/// Whether the open file is still the regular file `lstat` saw when the directory was listed.
pub(crate) fn same_file(fstat: &Metadata, lstat: &Metadata) -> bool {
    fstat.is_file() && fstat.dev() == lstat.dev() && fstat.ino() == lstat.ino()
}

/// Reads the first [`SAMPLE`] bytes (at most `size`) and decides the storage method: deflate when
/// a fast deflate of the sample shrinks it below 90 %, stored otherwise.
pub(crate) fn sample(file: &File, size: u64) -> io::Result<(Vec<u8>, Compression)> {
    let want = size.min(SAMPLE);
    let mut head = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
    file.take(want).read_to_end(&mut head)?;
    let method = Compression::for_sample(&head);
    Ok((head, method))
}

/// Whether a byte exists at offset `size`: the file is longer than `size`.
pub(crate) fn longer_than(file: &File, size: u64) -> io::Result<bool> {
    let mut one = [0u8; 1];
    loop {
        match file.read_at(&mut one, size) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A reader that reports progress and keeps its own read error, so that a failure reading
/// evidence can be told apart from a failure writing the bundle.
pub(crate) struct Counting<'a, R> {
    inner: R,
    progress: Option<&'a Progress>,
    /// The first non-retryable read error, if any.
    pub error: Option<io::Error>,
}

impl<'a, R: Read> Counting<'a, R> {
    /// Wraps `inner`.
    pub fn new(inner: R, progress: Option<&'a Progress>) -> Self {
        Counting {
            inner,
            progress,
            error: None,
        }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                if let (Some(p), true) = (self.progress, n > 0) {
                    p(n as u64);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.error = Some(e);
                Err(copy)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn symlinks_are_not_followed_and_fifos_do_not_block() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("t");
        std::fs::write(&target, b"secret")?;
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link)?;
        let e = open_evidence(&link).err();
        assert_eq!(
            e.as_ref().and_then(io::Error::raw_os_error),
            Some(rustix::io::Errno::LOOP.raw_os_error())
        );
        assert!(e.map(|e| open_failure(&e)).unwrap_or_default().contains("not followed"));
        let fifo = dir.path().join("p");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )?;
        // O_NONBLOCK: opening a FIFO with no writer returns at once; the type check then refuses it.
        let f = open_evidence(&fifo)?;
        assert!(!same_file(&f.metadata()?, &fifo.symlink_metadata()?));
        Ok(())
    }

    #[test]
    fn same_file_compares_device_and_inode() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"1")?;
        std::fs::write(&b, b"2")?;
        let f = open_evidence(&a)?;
        assert!(same_file(&f.metadata()?, &a.symlink_metadata()?));
        assert!(!same_file(&f.metadata()?, &b.symlink_metadata()?));
        Ok(())
    }

    #[test]
    fn compressible_samples_are_deflated_and_random_ones_stored() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let text = dir.path().join("text");
        std::fs::write(&text, "GET /index.html 200\n".repeat(10_000))?;
        let (head, method) = sample(&File::open(&text)?, 200_000)?;
        assert_eq!((head.len() as u64, method), (SAMPLE, Compression::Deflate));
        let noise = dir.path().join("noise");
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect();
        std::fs::write(&noise, &bytes)?;
        assert_eq!(sample(&File::open(&noise)?, 100_000)?.1, Compression::Stored);
        let (head, method) = sample(&File::open(&noise)?, 10)?;
        assert_eq!(
            (head.as_slice(), method),
            (bytes.get(..10).unwrap_or_default(), Compression::Stored)
        );
        assert_eq!(sample(&File::open(&noise)?, 0)?, (Vec::new(), Compression::Stored));
        Ok(())
    }

    #[test]
    fn longer_than_sees_growth_and_counting_reports_progress() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("g");
        std::fs::write(&p, b"abc")?;
        let f = File::open(&p)?;
        assert!(!longer_than(&f, 3)?);
        assert!(longer_than(&f, 2)?);
        let seen = Arc::new(AtomicU64::new(0));
        let s2 = Arc::clone(&seen);
        let progress: Progress = Arc::new(move |n| {
            s2.fetch_add(n, Ordering::Relaxed);
        });
        let mut c = Counting::new(&b"hello world"[..], Some(&progress));
        io::copy(&mut c, &mut io::sink())?;
        assert_eq!(seen.load(Ordering::Relaxed), 11);
        assert!(c.error.is_none());
        Ok(())
    }
}
