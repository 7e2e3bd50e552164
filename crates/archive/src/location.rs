//! Object locations: `s3://BUCKET/KEY[?versionId=V]`, checked before any request is made.

use crate::ArchiveError;
use std::fmt;

/// Longest object key S3 accepts, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// One object (and optionally one version of it) in a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The bucket: 3–63 characters of `a-z 0-9 . -`, starting and ending with a letter or digit.
    pub bucket: String,
    /// The object key: 1–1024 bytes of UTF-8 without control characters, taken literally (no
    /// percent-decoding).
    pub key: String,
    /// A version id (`?versionId=V`), for `get` and `status` of one version.
    pub version_id: Option<String>,
}

impl Location {
    /// Parses `s3://BUCKET/KEY` or `s3://BUCKET/KEY?versionId=V`.
    ///
    /// # Errors
    /// [`ArchiveError::Location`] naming what is wrong: another scheme, a bucket name S3 does not
    /// allow, an empty or too long key, a control character, a query other than `versionId`.
    ///
    /// ```
    /// let l = forensic_archive::Location::parse("s3://evidence/case-42/bundle.zip?versionId=3HL4k")?;
    /// assert_eq!((l.bucket.as_str(), l.key.as_str(), l.version_id.as_deref()), ("evidence", "case-42/bundle.zip", Some("3HL4k")));
    /// # Ok::<(), forensic_archive::ArchiveError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Location, ArchiveError> {
        let err = |reason: &str| ArchiveError::Location {
            text: text.chars().take(200).collect(),
            reason: reason.to_string(),
        };
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| err("it does not start with s3://"))?;
        if rest.chars().any(char::is_control) {
            return Err(err("it contains a control character"));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let (bucket, key) = path
            .split_once('/')
            .ok_or_else(|| err("there is no /KEY after the bucket"))?;
        check_bucket(bucket).map_err(|r| err(&r))?;
        if key.is_empty() {
            return Err(err("the key is empty"));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(err("the key is longer than 1024 bytes"));
        }
        let version_id = match query {
            None => None,
            Some(q) => {
                let v = q
                    .strip_prefix("versionId=")
                    .ok_or_else(|| err("the only query allowed is ?versionId=V"))?;
                if v.is_empty() || v.contains(['&', '=', '?']) {
                    return Err(err("the versionId is empty or not one value"));
                }
                Some(v.to_string())
            }
        };
        Ok(Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id,
        })
    }

    /// The same object, at `version`.
    pub fn at_version(&self, version: &str) -> Location {
        Location {
            version_id: Some(version.to_string()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        if let Some(v) = &self.version_id {
            write!(f, "?versionId={v}")?;
        }
        Ok(())
    }
}

/// The bucket naming rules of S3 (general purpose buckets).
fn check_bucket(b: &str) -> Result<(), String> {
    if !(3..=63).contains(&b.len()) {
        return Err(format!("bucket name {b:?} is not 3 to 63 characters long"));
    }
    if !b
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
    {
        return Err(format!(
            "bucket name {b:?} has a character other than a-z, 0-9, '.' and '-'"
        ));
    }
    let edge_ok = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(b.bytes().next()) || !edge_ok(b.bytes().last()) || b.contains("..") {
        return Err(format!(
            "bucket name {b:?} does not start and end with a letter or digit, or has '..'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn parses_and_refuses() {
        let l = Location::parse("s3://my-bucket.x/a/b c?versionId=v1").unwrap();
        assert_eq!(l.bucket, "my-bucket.x");
        assert_eq!(l.key, "a/b c");
        assert_eq!(l.version_id.as_deref(), Some("v1"));
        assert_eq!(l.to_string(), "s3://my-bucket.x/a/b c?versionId=v1");
        for bad in [
            "http://b/k",
            "s3://bucket",
            "s3://bucket/",
            "s3://Bucket/k",
            "s3://ab/k",
            "s3://-abc/k",
            "s3://bucket/k\n",
            "s3://bucket/k?part=1",
            "s3://bucket/k?versionId=",
            "s3://bucket/k?versionId=a&b=c",
        ] {
            let e = Location::parse(bad).unwrap_err().to_string();
            assert!(e.contains("is not an object location"), "{bad}: {e}");
        }
        let long = format!("s3://bucket/{}", "k".repeat(1025));
        assert!(
            Location::parse(&long)
                .unwrap_err()
                .to_string()
                .contains("longer than 1024")
        );
    }
}
