//! Readers a layer flows through: hashing of the stored bytes, compression sniffing and streaming
//! decompression, and a meter that bounds the decompressed size and watches the tar reader.

use forensic_bundle::digest::Digest;
use sha2::{Digest as _, Sha256};
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};

/// Read buffer size (hashing runs at full speed with buffers this large).
pub(crate) const BUF: usize = 256 * 1024;

/// Most bytes of tar extension headers (PAX records, GNU long names) before one entry. The tar
/// reader holds them in memory, so they are bounded here.
pub(crate) const MAX_EXTENSION_HEADERS: u64 = 1 << 20;

/// How a stream is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// Plain tar.
    None,
    /// gzip (one or more members).
    Gzip,
    /// zstd (one or more frames).
    Zstd,
}

/// Recognises gzip and zstd; names other compressions (which are refused); anything else is
/// taken as uncompressed.
pub(crate) fn sniff(head: &[u8]) -> Result<Compression, &'static str> {
    match head {
        [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Err("xz"),
        [b'B', b'Z', b'h', ..] => Err("bzip2"),
        [0x04, 0x22, 0x4d, 0x18, ..] => Err("lz4"),
        _ => Ok(Compression::None),
    }
}

/// Decompresses `input` as `c`, as a stream.
pub(crate) fn decoder<'a, R: BufRead + 'a>(input: R, c: Compression) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            64 * 1024,
            flate2::bufread::MultiGzDecoder::new(input),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            64 * 1024,
            zstd::stream::read::Decoder::with_buffer(input)?,
        )),
    })
}

pub(crate) use forensic_bundle::digest::HashingReader;

/// One `read`, retried on `Interrupted`.
pub(crate) fn read_some<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Why the meter stopped a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// More decompressed bytes than the layer limit.
    LayerLimit,
    /// More extension-header bytes before one entry than [`MAX_EXTENSION_HEADERS`].
    ExtensionHeaders,
}

/// What the meter saw, readable while the tar reader owns the meter.
#[derive(Debug)]
pub(crate) struct MeterState {
    read: Cell<u64>,
    limit: u64,
    headers_from: Cell<Option<u64>>,
    eof: Cell<bool>,
    stop: Cell<Option<Stop>>,
}

impl MeterState {
    pub(crate) fn new(limit: u64) -> Self {
        MeterState {
            read: Cell::new(0),
            limit,
            headers_from: Cell::new(None),
            eof: Cell::new(false),
            stop: Cell::new(None),
        }
    }

    /// From now until [`end_headers`](Self::end_headers) the tar reader reads only headers.
    pub(crate) fn begin_headers(&self) {
        self.headers_from.set(Some(self.read.get()));
    }

    pub(crate) fn end_headers(&self) {
        self.headers_from.set(None);
    }

    /// Whether the stream ended (a read returned nothing).
    pub(crate) fn at_eof(&self) -> bool {
        self.eof.get()
    }

    /// Why a read was stopped, if one was.
    pub(crate) fn stopped(&self) -> Option<Stop> {
        self.stop.get()
    }
}

/// Counts decompressed bytes, refuses to pass the layer limit, and optionally hashes them (a
/// docker `diff_id` of a compressed layer).
pub(crate) struct Meter<'s, R> {
    inner: R,
    state: &'s MeterState,
    hasher: Option<Sha256>,
}

impl<'s, R: Read> Meter<'s, R> {
    pub(crate) fn new(inner: R, state: &'s MeterState, hash: bool) -> Self {
        Meter {
            inner,
            state,
            hasher: hash.then(Sha256::new),
        }
    }

    /// Reads to the end (through the limit), then gives the digest of everything when hashing.
    pub(crate) fn drain(mut self) -> io::Result<Option<Digest>> {
        let mut buf = vec![0u8; BUF];
        while read_some(&mut self, &mut buf)? != 0 {}
        Ok(self.hasher.map(|h| Digest(h.finalize().into())))
    }
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() {
                self.state.eof.set(true);
            }
            return Ok(0);
        }
        self.state.count(n)?;
        if let Some(h) = &mut self.hasher {
            h.update(buf.get(..n).unwrap_or_default());
        }
        Ok(n)
    }
}

impl MeterState {
    /// Counts `n` bytes read, failing past the limit or the extension-header budget.
    pub(crate) fn count(&self, n: usize) -> io::Result<()> {
        let total = self.read.get().saturating_add(n as u64);
        if total > self.limit {
            return Err(self.stop(Stop::LayerLimit));
        }
        if let Some(from) = self.headers_from.get() {
            if total - from > MAX_EXTENSION_HEADERS {
                return Err(self.stop(Stop::ExtensionHeaders));
            }
        }
        self.read.set(total);
        Ok(())
    }

    fn stop(&self, why: Stop) -> io::Error {
        self.stop.set(Some(why));
        io::Error::other(match why {
            Stop::LayerLimit => "decompressed size limit reached",
            Stop::ExtensionHeaders => "extension headers too large",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Ok(Compression::Gzip));
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Ok(Compression::Zstd));
        assert_eq!(sniff(b"\xfd7zXZ\0"), Err("xz"));
        assert_eq!(sniff(b"BZh9"), Err("bzip2"));
        assert_eq!(sniff(b"etc/"), Ok(Compression::None));
        assert_eq!(sniff(b""), Ok(Compression::None));
    }

    #[test]
    fn meter_limits_and_hashes() {
        let state = MeterState::new(10);
        let mut m = Meter::new(&b"0123456789"[..], &state, true);
        let mut v = Vec::new();
        m.read_to_end(&mut v).unwrap();
        assert!(state.at_eof());
        assert_eq!(m.drain().unwrap(), Some(Digest::of(b"0123456789")));
        let state = MeterState::new(9);
        let mut m = Meter::new(&b"0123456789"[..], &state, false);
        assert!(m.read_to_end(&mut Vec::new()).is_err());
        assert_eq!(state.stopped(), Some(Stop::LayerLimit));
    }

    #[test]
    fn hashing_reader_drains() {
        let mut r = HashingReader::new(&b"abcdef"[..]);
        let mut two = [0u8; 2];
        r.read_exact(&mut two).unwrap();
        assert_eq!(r.drain().unwrap(), (6, Digest::of(b"abcdef")));
    }
}
