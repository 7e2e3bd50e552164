//! Which members to extract, and where: filters, the path check and the collision check.

use crate::ExtractError;
use forensic_bundle::name;
use forensic_bundle::section::Section;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// Parses a section given as its name (`filesystem`), number (`5`) or prefix (`5-filesystem`).
pub fn parse_section(s: &str) -> Option<Section> {
    let s = s.trim_end_matches('/');
    Section::from_name(s)
        .or_else(|| s.parse().ok().and_then(Section::from_number))
        .or_else(|| Section::ALL.into_iter().find(|x| x.prefix().trim_end_matches('/') == s))
}

/// The section whose prefix `name` starts with, and the rest of the name.
pub(crate) fn split_section(name: &str) -> Option<(Section, &str)> {
    Section::ALL.into_iter().find_map(|s| {
        name.strip_prefix(s.prefix().as_str())
            .filter(|rest| !rest.is_empty())
            .map(|rest| (s, rest))
    })
}

/// `--section` and `--path` filters: a member passes when its section is one of `sections` (or
/// none are given) and its path within the section matches one of `paths` (or none are given).
#[derive(Debug)]
pub(crate) struct Filter {
    sections: Vec<Section>,
    paths: Option<GlobSet>,
}

impl Filter {
    /// Builds the filter; in the globs, `*` does not cross `/` and `**` does.
    pub(crate) fn new(sections: &[Section], paths: &[String]) -> Result<Filter, ExtractError> {
        let paths = if paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in paths {
                let g = GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| ExtractError::Filter(format!("--path {p:?}: {e}")))?;
                b.add(g);
            }
            Some(b.build().map_err(|e| ExtractError::Filter(e.to_string()))?)
        };
        Ok(Filter {
            sections: sections.to_vec(),
            paths,
        })
    }

    /// Whether the member `name` is selected (a name outside every section never is).
    pub(crate) fn selects(&self, name: &str) -> bool {
        let Some((section, rest)) = split_section(name) else {
            return false;
        };
        (self.sections.is_empty() || self.sections.contains(&section))
            && self.paths.as_ref().is_none_or(|g| g.is_match(rest))
    }
}

/// The path segments a member name is written to, after checking it again against SPEC §3 and
/// that it lies in a section: no empty, `.` or `..` segment, no control character, backslash or
/// NUL, so no absolute path and no way out of the output directory.
pub(crate) fn dest_segments(member: &str) -> Result<Vec<&str>, String> {
    name::validate(member).map_err(|e| format!("not a safe member name: {e}"))?;
    if split_section(member).is_none() {
        return Err("not in a section (SPEC §4): only evidence members are extracted".into());
    }
    let segments: Vec<&str> = member.split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == ".." || s.contains(['\0', '\\']))
    {
        return Err("not a safe member name".into());
    }
    Ok(segments)
}

/// A name as a file system that ignores case or Unicode normalisation might store it.
fn fold(path: &str) -> String {
    let lower = path.nfd().collect::<String>().to_lowercase();
    lower.nfd().collect()
}

/// The files and directories claimed so far, by folded name, with the member that claimed them.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    files: HashMap<String, String>,
    dirs: HashMap<String, String>,
}

impl Claims {
    /// Claims with `names` reserved as files at the top of the output directory.
    pub(crate) fn reserving(names: &[&str]) -> Claims {
        let mut c = Claims::default();
        for n in names {
            c.files.insert(fold(n), format!("the extraction's own {n}"));
        }
        c
    }

    /// Claims `segments` as a file (and its parents as directories), unless a file system could
    /// make it the same file as, or a parent of, one claimed before.
    pub(crate) fn claim(&mut self, member: &str, segments: &[&str]) -> Result<(), String> {
        let mut keys = Vec::with_capacity(segments.len());
        let mut path = String::new();
        for s in segments {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(s);
            keys.push(fold(&path));
        }
        let Some((file, parents)) = keys.split_last() else {
            return Err("empty name".into());
        };
        if let Some(other) = parents.iter().find_map(|k| self.files.get(k)) {
            return Err(format!(
                "a parent directory would be the file of member {other:?} (names equal ignoring case or Unicode normalisation)"
            ));
        }
        if let Some(other) = self.files.get(file) {
            return Err(format!(
                "collides with member {other:?}: the same file on a file system that ignores case or Unicode normalisation"
            ));
        }
        if let Some(other) = self.dirs.get(file) {
            return Err(format!("collides with a directory of member {other:?}"));
        }
        for k in parents {
            self.dirs.entry(k.clone()).or_insert_with(|| member.to_string());
        }
        self.files.insert(file.clone(), member.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_never_become_paths() {
        for bad in [
            "../evil",
            "5-filesystem/../../evil",
            "/etc/passwd",
            "5-filesystem//x",
            "5-filesystem/./x",
            "5-filesystem/x\0y",
            "5-filesystem/a\\..\\b",
            "5-filesystem/",
            "5-filesystem",
            "evil",
            "manifest.cbor",
            "SHA256SUMS",
        ] {
            assert!(dest_segments(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            dest_segments("5-filesystem/tmp/x").unwrap(),
            ["5-filesystem", "tmp", "x"]
        );
    }

    #[test]
    fn names_equal_after_case_folding_or_normalisation_collide() {
        let mut c = Claims::reserving(&["SHA256SUMS"]);
        let mut claim = |n: &str| c.claim(n, &n.split('/').collect::<Vec<_>>());
        assert!(claim("5-filesystem/tmp/Miner").is_ok());
        assert!(claim("5-filesystem/tmp/miner").is_err());
        assert!(claim("5-filesystem/TMP/MINER").is_err());
        // U+00E9 and e + U+0301 (NFC and NFD of "é").
        assert!(claim("5-filesystem/caf\u{e9}").is_ok());
        assert!(claim("5-filesystem/cafe\u{301}").is_err());
        // A file where a directory is needed, and the reverse.
        assert!(claim("5-filesystem/tmp/miner/x").is_err());
        assert!(claim("5-filesystem/d/e").is_ok());
        assert!(claim("5-filesystem/D").is_err());
        assert!(claim("5-filesystem/D/f").is_ok(), "two members in one directory");
        assert!(claim("sha256sums").is_err());
    }

    #[test]
    fn filters_select_by_section_and_path_within_it() {
        let f = Filter::new(&[Section::Filesystem], &["tmp/*".into()]).unwrap();
        assert!(f.selects("5-filesystem/tmp/x"));
        assert!(!f.selects("5-filesystem/tmp/a/x"), "* does not cross /");
        assert!(!f.selects("4-logs/tmp/x"));
        let all = Filter::new(&[], &["**/*.log".into()]).unwrap();
        assert!(all.selects("4-logs/a/b/c.log"));
        assert!(!Filter::new(&[], &[]).unwrap().selects("manifest.cbor"));
        assert!(Filter::new(&[], &["[".into()]).is_err());
        assert_eq!(parse_section("5"), Some(Section::Filesystem));
        assert_eq!(parse_section("5-filesystem"), Some(Section::Filesystem));
        assert_eq!(parse_section("audit"), Some(Section::Audit));
        assert_eq!(parse_section("10"), None);
    }
}
