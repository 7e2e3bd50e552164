//! Reading one member's content: decompression, length and CRC-32 checked while streaming.

use super::{Method, ZipEntry};
use std::io::{self, Read, Seek, SeekFrom};

/// Streams one member's content, checking that it decompresses to exactly the declared size and
/// CRC-32. A violation is reported as an [`io::ErrorKind::InvalidData`] error from `read`.
pub struct MemberReader<R: Read> {
    inner: Decoder<R>,
    crc: crc32fast::Hasher,
    remaining: u64,
    compressed_size: u64,
    expected_crc: u32,
    done: bool,
}

enum Decoder<R: Read> {
    Stored(io::Take<R>),
    Deflate(Box<flate2::read::DeflateDecoder<io::Take<R>>>),
}

impl<R: Read + Seek> MemberReader<R> {
    /// Positions `r` at the member's data and wraps it.
    ///
    /// # Errors
    /// If seeking fails.
    pub fn new(mut r: R, e: &ZipEntry) -> io::Result<Self> {
        r.seek(SeekFrom::Start(e.data_offset))?;
        let raw = r.take(e.compressed_size);
        let inner = match e.method {
            Method::Stored => Decoder::Stored(raw),
            Method::Deflate => Decoder::Deflate(Box::new(flate2::read::DeflateDecoder::new(raw))),
        };
        Ok(MemberReader {
            inner,
            crc: crc32fast::Hasher::new(),
            remaining: e.size,
            compressed_size: e.compressed_size,
            expected_crc: e.crc32,
            done: false,
        })
    }
}

fn corrupt(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl<R: Read> Read for MemberReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = match &mut self.inner {
            Decoder::Stored(t) => t.read(buf)?,
            Decoder::Deflate(d) => d
                .read(buf)
                .map_err(|e| corrupt(format!("the deflate data is corrupt: {e}")))?,
        };
        if n == 0 {
            self.done = true;
            if self.remaining != 0 {
                return Err(corrupt(format!(
                    "the data ends {} bytes before the declared size",
                    self.remaining
                )));
            }
            if let Decoder::Deflate(d) = &self.inner
                && d.total_in() != self.compressed_size
            {
                return Err(corrupt(format!(
                    "the deflate stream ends after {} of its {} compressed bytes",
                    d.total_in(),
                    self.compressed_size
                )));
            }
            let crc = std::mem::take(&mut self.crc).finalize();
            if crc != self.expected_crc {
                return Err(corrupt(format!(
                    "CRC-32 is {crc:08x}, the archive declares {:08x}",
                    self.expected_crc
                )));
            }
            return Ok(0);
        }
        let n64 = n as u64;
        if n64 > self.remaining {
            return Err(corrupt("the data decompresses past the declared size".to_string()));
        }
        self.remaining -= n64;
        self.crc.update(buf.get(..n).unwrap_or(&[]));
        Ok(n)
    }
}

/// Reads a whole small member (metadata members), refusing more than `max` bytes.
///
/// # Errors
/// [`io::ErrorKind::InvalidData`] if the member is corrupt; other errors from the reader.
pub fn read_small<R: Read + Seek>(r: R, e: &ZipEntry, max: u64) -> io::Result<Vec<u8>> {
    if e.size > max {
        return Err(corrupt(format!("{} bytes is more than the {max} allowed", e.size)));
    }
    let mut out = Vec::with_capacity(usize::try_from(e.size).unwrap_or(0));
    MemberReader::new(r, e)?.read_to_end(&mut out)?;
    Ok(out)
}
