//! The files of the vectors directory: rendering them, and comparing them with a directory.

use crate::{Error, Vector, keys};
use forensic_bundle::keys::{private_key_pem, public_key_pem};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

/// The workspace's `format-spec/vectors` directory (found from this crate's manifest directory).
pub fn default_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/vectors -> the workspace root.
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .join("format-spec/vectors")
}

/// The text of `NAME.expect` (SPEC §13): a `description:` line, an `expect:` line (`ok`, or the
/// class ids sorted and space-separated), one `trust:` line per trusted key file and a `head:`
/// line for a recorded custody head.
pub fn expect_text(v: &Vector) -> String {
    let mut classes = v.expect.clone();
    classes.sort_unstable();
    classes.dedup();
    let expect = if classes.is_empty() {
        "ok".to_string()
    } else {
        classes.join(" ")
    };
    let mut out = format!("description: {}\nexpect: {expect}\n", v.description);
    for t in &v.trust {
        out.push_str(&format!("trust: {t}\n"));
    }
    if let Some(h) = &v.head {
        out.push_str(&format!("head: {h}\n"));
    }
    for t in &v.tsa_trust {
        out.push_str(&format!("tsa-trust: {t}\n"));
    }
    out
}

/// A parsed `.expect` file (SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The `description:` sentence.
    pub description: String,
    /// The class ids, sorted; empty for `expect: ok`.
    pub expect: Vec<String>,
    /// The `trust:` key files, relative to the vectors directory.
    pub trust: Vec<String>,
    /// The `head:` recorded custody head (SPEC §9.5), if any.
    pub head: Option<String>,
    /// The `tsa-trust:` certificate files (SPEC §9.6), relative to the vectors directory.
    pub tsa_trust: Vec<String>,
}

impl Expect {
    /// Parses `key: value` lines: exactly one `description` and one `expect` (`ok`, or class ids
    /// sorted, unique and separated by single spaces), any number of `trust`, at most one `head`
    /// (64 lowercase hex digits).
    ///
    /// # Errors
    /// [`Error`] naming the line that is not of that form.
    pub fn parse(text: &str) -> Result<Expect, Error> {
        let (mut description, mut expect, mut trust, mut head) = (None, None, Vec::new(), None);
        let mut tsa_trust = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let (k, v) = line
                .split_once(": ")
                .ok_or_else(|| Error::new(format!("line {}: not of the form `key: value`", n + 1)))?;
            let dup = |what: &str| Error::new(format!("line {}: a second `{what}` line", n + 1));
            match k {
                "description" if description.is_none() => description = Some(v.to_string()),
                "expect" if expect.is_none() => {
                    let c: Vec<String> = if v == "ok" {
                        Vec::new()
                    } else {
                        v.split(' ').map(str::to_string).collect()
                    };
                    if c.windows(2).any(|w| w.first() >= w.get(1)) || c.iter().any(String::is_empty) {
                        return Err(Error::new(format!(
                            "line {}: the classes are not sorted, unique and space-separated",
                            n + 1
                        )));
                    }
                    expect = Some(c);
                }
                "head" if head.is_none() => {
                    if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                        return Err(Error::new(format!(
                            "line {}: head is not 64 lowercase hex digits",
                            n + 1
                        )));
                    }
                    head = Some(v.to_string());
                }
                "description" | "expect" | "head" => return Err(dup(k)),
                "trust" => trust.push(v.to_string()),
                "tsa-trust" => tsa_trust.push(v.to_string()),
                _ => return Err(Error::new(format!("line {}: unknown key {k:?}", n + 1))),
            }
        }
        Ok(Expect {
            description: description.ok_or_else(|| Error::new("no `description:` line"))?,
            expect: expect.ok_or_else(|| Error::new("no `expect:` line"))?,
            trust,
            head,
            tsa_trust,
        })
    }
}

const README: &str = "# Test vectors of the forensic bundle format

Normative test vectors of `../SPEC.md` (§13). Each `NAME.zip` is a bundle and `NAME.expect` says
what a conforming verifier reports for it:

    description: one sentence
    expect: ok                  (or the failure classes of SPEC §12, sorted, space-separated)
    trust: keys/alice.pub       (optional, repeatable: verify with this trust list)
    head: 64 hex digits         (optional: verify with this recorded custody head, SPEC §9.5)
    tsa-trust: tsa/root.pem     (optional, repeatable: verify time-stamp tokens against it, SPEC §9.6)

`keys/` holds the keys that signed them: **public TEST keys**, each derived from a fixed seed
(the SHA-256 of the ASCII text `forensic test vector key NAME`). Everyone has the private keys;
never trust them for anything else. `tsa/root.pem` is the root of a test time-stamping PKI whose
Ed25519 keys are derived the same way (`forensic test vector tsa key NAME`): never trust it either.

Every file here is generated; do not edit them by hand. To regenerate them byte for byte, and to
check that the committed files are exactly what the generator makes:

    cargo run -p forensic-vectors              # rewrite this directory
    cargo run -p forensic-vectors -- --check   # change nothing; exit 1 if anything differs
    cargo test -p forensic-vectors             # the same check, plus every vector verified

The generator is `crates/vectors` (`src/catalog/` lists the vectors and how each is made).
";

/// Every file of the vectors directory, by path relative to it (with `/` separators): the
/// README, `keys/NAME.key` and `keys/NAME.pub` for each test key, and `NAME.zip` and
/// `NAME.expect` for each vector.
///
/// # Errors
/// [`Error`] if a key cannot be encoded (a bug).
pub fn render_files(vectors: &[Vector]) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let mut files = BTreeMap::new();
    files.insert("README.md".to_string(), README.as_bytes().to_vec());
    for (name, key) in keys() {
        files.insert(format!("keys/{name}.key"), private_key_pem(&key)?.into_bytes());
        files.insert(
            format!("keys/{name}.pub"),
            public_key_pem(&key.verifying_key())?.into_bytes(),
        );
    }
    files.insert(
        "tsa/root.pem".to_string(),
        crate::tsa::Pki::new()?.root_pem()?.into_bytes(),
    );
    for v in vectors {
        files.insert(format!("{}.zip", v.name), v.bytes.clone());
        files.insert(format!("{}.expect", v.name), expect_text(v).into_bytes());
    }
    Ok(files)
}

/// Every file under `dir`, by relative path with `/` separators. A missing `dir` has none.
pub(crate) fn list_dir(dir: &Path) -> io::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = todo.pop() {
        let rd = match std::fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound && prefix.is_empty() => return Ok(out),
            Err(e) => return Err(e),
        };
        for entry in rd {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                todo.push((entry.path(), format!("{rel}/")));
            } else {
                out.insert(rel);
            }
        }
    }
    Ok(out)
}

/// Compares `dir` with `files`: one line per file that differs (`differs: PATH`), is missing
/// (`missing: PATH`) or is in `dir` but not generated (`extra: PATH`). Empty means identical.
///
/// # Errors
/// [`io::Error`] if `dir` cannot be read.
pub fn diff_dir(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> io::Result<Vec<String>> {
    let present = list_dir(dir)?;
    let mut out = Vec::new();
    for (rel, bytes) in files {
        if !present.contains(rel) {
            out.push(format!("missing: {rel}"));
        } else if std::fs::read(dir.join(rel))? != *bytes {
            out.push(format!("differs: {rel}"));
        }
    }
    out.extend(
        present
            .iter()
            .filter(|p| !files.contains_key(*p))
            .map(|p| format!("extra: {p}")),
    );
    Ok(out)
}
