//! Cutting a byte stream into JSON records, with a bound on each.
//!
//! Two layouts are read:
//!
//! - **JSON lines** (what kube-apiserver's log backend writes): every line is one record. A line
//!   that is not valid JSON is one bad record; the next line starts afresh, so one truncated line
//!   (a log rotated mid-write) costs only itself.
//! - **A JSON document** (pretty-printed, as `jq .` or `python -m json.tool` write it): chosen when
//!   the first non-blank line is a lone `{` or `[`. Records are then the top-level values however
//!   many lines they span; a top-level array is transparent (each element is a record), so a large
//!   exported array of events is never held whole.
//!
//! A record longer than the limit is not kept: it is reported as [`Frame::TooLong`] with its
//! length, and reading goes on after it. A UTF-8 byte order mark at the start is ignored.

use memchr::memchr;
use std::io::{self, BufRead};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What [`Framer::next_frame`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A record, in [`Framer::record`].
    Record,
    /// A line holding only white space (JSON-lines layout only).
    Blank,
    /// A record longer than the limit: `len` bytes, not kept.
    TooLong {
        /// Its length in bytes.
        len: u64,
    },
    /// The end of the stream.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing but blank lines read yet.
    Start,
    /// One record per line.
    Lines,
    /// Top-level JSON values; `in_array` while inside a transparent top-level array.
    Document { in_array: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An object or array: ends when the brackets balance.
    Container,
    /// A string: ends at its closing quote.
    Text,
    /// A number, literal or stray byte: ends before white space, `,`, `]` or `}`.
    Scalar,
}

/// The state of a document-layout value being scanned (it may span many reads).
#[derive(Debug, Clone, Copy)]
struct Scan {
    kind: Kind,
    depth: u32,
    in_str: bool,
    esc: bool,
    len: u64,
    over: bool,
}

/// Splits a stream into records. See the module documentation.
pub(crate) struct Framer<R: BufRead> {
    r: R,
    buf: Vec<u8>,
    max: usize,
    mode: Mode,
    scan: Option<Scan>,
    /// Line feeds consumed so far.
    lines: u64,
    /// Bytes consumed so far.
    offset: u64,
    /// Whether the last byte consumed was not a line feed (a line is open).
    open_line: bool,
    /// 1-based line and byte offset where the last frame starts.
    at: (u64, u64),
}

impl<R: BufRead> Framer<R> {
    /// A framer over `r` keeping records of at most `max` bytes.
    pub(crate) fn new(r: R, max: usize) -> Framer<R> {
        Framer {
            r,
            buf: Vec::new(),
            max,
            mode: Mode::Start,
            scan: None,
            lines: 0,
            offset: 0,
            open_line: false,
            at: (1, 0),
        }
    }

    /// The bytes of the last [`Frame::Record`].
    pub(crate) fn record(&self) -> &[u8] {
        &self.buf
    }

    /// The 1-based line and the byte offset where the last frame starts.
    pub(crate) fn location(&self) -> (u64, u64) {
        self.at
    }

    /// Lines read so far (a last line without a line feed counts).
    pub(crate) fn lines(&self) -> u64 {
        self.lines + u64::from(self.open_line)
    }

    /// The 1-based number of the line being read.
    pub(crate) fn current_line(&self) -> u64 {
        self.lines + 1
    }

    /// Bytes read so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.offset
    }

    /// Whether the records are top-level values of a JSON document rather than lines.
    pub(crate) fn is_document(&self) -> bool {
        matches!(self.mode, Mode::Document { .. })
    }

    /// The underlying reader.
    pub(crate) fn into_inner(self) -> R {
        self.r
    }

    /// The next frame.
    ///
    /// # Errors
    /// Errors of the underlying reader.
    pub(crate) fn next_frame(&mut self) -> io::Result<Frame> {
        match self.mode {
            Mode::Start => self.start(),
            Mode::Lines => self.next_line(),
            Mode::Document { .. } => self.next_value(),
        }
    }

    /// Reads lines until the layout is known: a lone `{` or `[` selects the document layout.
    fn start(&mut self) -> io::Result<Frame> {
        let first = self.offset == 0;
        let lines_before = self.lines;
        let frame = self.next_line()?;
        if first && frame == Frame::Record && self.buf.starts_with(BOM) {
            self.buf.drain(..BOM.len());
            if self.buf.trim_ascii().is_empty() {
                return Ok(Frame::Blank);
            }
        }
        match frame {
            Frame::Record => {}
            Frame::TooLong { .. } => {
                self.mode = Mode::Lines;
                return Ok(frame);
            }
            Frame::Blank | Frame::End => return Ok(frame),
        }
        match self.buf.trim_ascii() {
            b"{" => {
                self.mode = Mode::Document { in_array: false };
                if self.lines > lines_before {
                    self.buf.push(b'\n');
                }
                self.scan = Some(Scan {
                    kind: Kind::Container,
                    depth: 1,
                    in_str: false,
                    esc: false,
                    len: self.buf.len() as u64,
                    over: false,
                });
                self.next_value()
            }
            b"[" => {
                self.mode = Mode::Document { in_array: true };
                self.next_value()
            }
            _ => {
                self.mode = Mode::Lines;
                Ok(Frame::Record)
            }
        }
    }

    /// One line into `buf` (without its line feed), or [`Frame::TooLong`].
    fn next_line(&mut self) -> io::Result<Frame> {
        self.buf.clear();
        self.at = (self.lines + 1, self.offset);
        let mut len = 0u64;
        let mut over = false;
        let mut any = false;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (take, end) = match memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            len += take as u64;
            if !over {
                if self.buf.len().saturating_add(take) > self.max {
                    over = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(avail.get(..take).unwrap_or_default());
                }
            }
            let used = take + usize::from(end);
            self.r.consume(used);
            self.offset += used as u64;
            self.open_line = !end;
            if end {
                self.lines += 1;
                break;
            }
        }
        if !any {
            return Ok(Frame::End);
        }
        if over {
            return Ok(Frame::TooLong { len });
        }
        if self.buf.trim_ascii().is_empty() {
            return Ok(Frame::Blank);
        }
        Ok(Frame::Record)
    }

    /// Consumes white space (and, inside a transparent array, the separators and its end).
    /// Returns the next significant byte without consuming it.
    fn skip_between_values(&mut self) -> io::Result<Option<u8>> {
        loop {
            let avail = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let Some(&b) = avail.first() else {
                return Ok(None);
            };
            let in_array = matches!(self.mode, Mode::Document { in_array: true });
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b',' if in_array => {}
                b']' if in_array => self.mode = Mode::Document { in_array: false },
                b'[' if !in_array => self.mode = Mode::Document { in_array: true },
                _ => return Ok(Some(b)),
            }
            if b == b'\n' {
                self.lines += 1;
            }
            self.open_line = b != b'\n';
            self.r.consume(1);
            self.offset += 1;
        }
    }

    /// The next top-level value of a document.
    fn next_value(&mut self) -> io::Result<Frame> {
        if self.scan.is_none() {
            self.buf.clear();
            let Some(first) = self.skip_between_values()? else {
                return Ok(Frame::End);
            };
            self.at = (self.lines + 1, self.offset);
            let kind = match first {
                b'{' | b'[' => Kind::Container,
                b'"' => Kind::Text,
                _ => Kind::Scalar,
            };
            self.scan = Some(Scan {
                kind,
                depth: 0,
                in_str: false,
                esc: false,
                len: 0,
                over: false,
            });
        }
        loop {
            let avail = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let Some(s) = self.scan.as_mut() else {
                return Ok(Frame::End);
            };
            if avail.is_empty() {
                // The stream ends inside the value: hand over what there is (the parser says why).
                let s = *s;
                self.scan = None;
                return Ok(finish(s));
            }
            let (used, done) = step(s, avail);
            let part = avail.get(..used).unwrap_or_default();
            s.len += used as u64;
            if !s.over {
                if self.buf.len().saturating_add(used) > self.max {
                    s.over = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            self.lines += memchr::memchr_iter(b'\n', part).count() as u64;
            if let Some(&last) = part.last() {
                self.open_line = last != b'\n';
            }
            self.r.consume(used);
            self.offset += used as u64;
            if done {
                let s = *s;
                self.scan = None;
                return Ok(finish(s));
            }
        }
    }
}

fn finish(s: Scan) -> Frame {
    if s.over {
        Frame::TooLong { len: s.len }
    } else {
        Frame::Record
    }
}

/// Advances the scan over `bytes`: how many bytes belong to the value, and whether it ended.
fn step(s: &mut Scan, bytes: &[u8]) -> (usize, bool) {
    for (i, &b) in bytes.iter().enumerate() {
        let first = s.len == 0 && i == 0;
        if s.in_str {
            if s.esc {
                s.esc = false;
            } else if b == b'\\' {
                s.esc = true;
            } else if b == b'"' {
                s.in_str = false;
                if s.kind == Kind::Text {
                    return (i + 1, true);
                }
            }
            continue;
        }
        match s.kind {
            Kind::Text => s.in_str = true,
            Kind::Container => match b {
                b'"' => s.in_str = true,
                b'{' | b'[' => s.depth += 1,
                b'}' | b']' => {
                    s.depth = s.depth.saturating_sub(1);
                    if s.depth == 0 {
                        return (i + 1, true);
                    }
                }
                _ => {}
            },
            Kind::Scalar => {
                if !first
                    && matches!(
                        b,
                        b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}' | b'{' | b'[' | b'"'
                    )
                {
                    return (i, true);
                }
            }
        }
    }
    (bytes.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8], max: usize) -> Vec<(Frame, (u64, u64), String)> {
        let mut f = Framer::new(io::BufReader::with_capacity(7, input), max);
        let mut out = Vec::new();
        loop {
            let fr = f.next_frame().unwrap();
            if fr == Frame::End {
                break;
            }
            let text = if fr == Frame::Record {
                String::from_utf8_lossy(f.record()).into_owned()
            } else {
                String::new()
            };
            out.push((fr, f.location(), text));
        }
        out
    }

    #[test]
    fn json_lines_with_blank_long_and_unterminated_last_line() {
        let got = frames(b"{\"a\":1}\n\n  \n{\"b\":\"0123456789\"}\n{\"c\":2}", 12);
        assert_eq!(
            got,
            [
                (Frame::Record, (1, 0), "{\"a\":1}".to_string()),
                (Frame::Blank, (2, 8), String::new()),
                (Frame::Blank, (3, 9), String::new()),
                (Frame::TooLong { len: 18 }, (4, 12), String::new()),
                (Frame::Record, (5, 31), "{\"c\":2}".to_string()),
            ]
        );
    }

    #[test]
    fn a_pretty_printed_document_is_cut_into_values() {
        let doc = b"\xEF\xBB\xBF{\n  \"a\": \"}{\\\"\",\n  \"b\": [1, {\"c\": 2}]\n}\n{\n\"d\": 1\n}\n";
        let got = frames(doc, 1 << 20);
        assert_eq!(
            got,
            [
                (
                    Frame::Record,
                    (1, 0),
                    "{\n  \"a\": \"}{\\\"\",\n  \"b\": [1, {\"c\": 2}]\n}".to_string()
                ),
                (Frame::Record, (5, 43), "{\n\"d\": 1\n}".to_string()),
            ]
        );
    }

    #[test]
    fn a_top_level_array_is_transparent() {
        let doc = b"[\n  {\"a\": [1]},\n  \"x\",\n  42\n]\n[{\"b\": 2}]";
        let got: Vec<(Frame, u64, String)> = frames(doc, 1 << 20)
            .into_iter()
            .map(|(f, (line, _), t)| (f, line, t))
            .collect();
        assert_eq!(
            got,
            [
                (Frame::Record, 2, "{\"a\": [1]}".to_string()),
                (Frame::Record, 3, "\"x\"".to_string()),
                (Frame::Record, 4, "42".to_string()),
                (Frame::Record, 6, "{\"b\": 2}".to_string()),
            ]
        );
    }

    #[test]
    fn a_document_value_past_the_limit_is_skipped_whole() {
        let doc = b"{\n\"a\": \"0123456789012345\"\n}\n{\"b\":1}\n";
        let got = frames(doc, 16);
        assert_eq!(
            got,
            [
                (Frame::TooLong { len: 27 }, (1, 0), String::new()),
                (Frame::Record, (4, 28), "{\"b\":1}".to_string()),
            ]
        );
    }

    #[test]
    fn a_document_cut_short_hands_over_what_there_is() {
        let got = frames(b"{\n\"a\": [1, 2", 100);
        assert_eq!(got, [(Frame::Record, (1, 0), "{\n\"a\": [1, 2".to_string())]);
    }
}
