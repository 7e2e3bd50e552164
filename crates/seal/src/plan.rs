//! Placing the walked files: which become members in which section, which become gaps.

use crate::SealError;
use crate::rules::Placer;
use crate::walk::{Found, Walk, display};
use forensic_bundle::METADATA_NAMES;
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::{FileKind, Gap};
use forensic_bundle::name::{escape_segment, validate};
use forensic_bundle::section::Section;
use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// One file to write as a member.
pub(crate) struct Planned<'a> {
    /// The file as listed.
    pub found: &'a Found,
    /// Name below the section prefix.
    pub name: String,
}

/// What one section will receive.
#[derive(Default)]
pub(crate) struct SectionPlan<'a> {
    /// Files to write, sorted by path.
    pub members: Vec<Planned<'a>>,
    /// Gaps known before reading anything.
    pub gaps: Vec<Gap>,
}

/// Places every file; lists every unplaced one in a single error.
pub(crate) fn plan<'a>(walked: &'a Walk, placer: &Placer) -> Result<BTreeMap<Section, SectionPlan<'a>>, SealError> {
    let mut plan: BTreeMap<Section, SectionPlan<'a>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    let mut count = 0usize;
    for f in &walked.found {
        let kind = forensic_disk::meta::kind_of(f.lstat.file_type());
        let section = placer.place(&f.rel);
        let (section, reason) = match (kind, section) {
            (Some(FileKind::File | FileKind::Symlink), None) => {
                unplaced.push(display(&f.rel));
                continue;
            }
            (Some(FileKind::File | FileKind::Symlink), Some(s)) => {
                let name = member_name(&f.rel);
                match validate(&format!("{}{name}", s.prefix())) {
                    Ok(()) => {
                        count += 1;
                        plan.entry(s).or_default().members.push(Planned { found: f, name });
                        continue;
                    }
                    Err(e) => (s, format!("cannot be named in a bundle (SPEC §3): {e}")),
                }
            }
            (kind, s) => (s.unwrap_or(Section::Filesystem), not_opened(kind)),
        };
        plan.entry(section).or_default().gaps.push(Gap {
            section,
            what: display(&f.abs),
            reason,
        });
    }
    for u in &walked.unlisted {
        let reason = format!("could not be examined: {}", u.error);
        plan.entry(Section::Filesystem).or_default().gaps.push(Gap {
            section: Section::Filesystem,
            what: display(&u.abs),
            reason,
        });
    }
    if !unplaced.is_empty() {
        return Err(SealError::Unplaced(unplaced));
    }
    let max = usize::try_from(Limits::default().max_members)
        .unwrap_or(usize::MAX)
        .saturating_sub(METADATA_NAMES.len());
    if count > max {
        return Err(SealError::TooManyMembers { count, max });
    }
    Ok(plan)
}

/// The member name below the section prefix: each path component escaped (SPEC §3).
fn member_name(rel: &Path) -> String {
    let parts: Vec<String> = rel.iter().map(|c| escape_segment(c.as_bytes())).collect();
    parts.join("/")
}

/// Why a special file was not opened.
fn not_opened(kind: Option<FileKind>) -> String {
    match kind {
        Some(FileKind::Fifo) => "named pipe: not opened".into(),
        Some(FileKind::Socket) => "socket: not opened".into(),
        Some(FileKind::Char) => "character device: not opened".into(),
        Some(FileKind::Block) => "block device: not opened".into(),
        _ => "unknown file type: not opened".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule;
    use crate::walk::Found;
    use std::ffi::OsStr;
    use std::path::PathBuf;

    fn listed(rels: &[PathBuf], lstat: &std::fs::Metadata) -> Walk {
        let found = rels
            .iter()
            .map(|rel| Found {
                rel: rel.clone(),
                abs: Path::new("/ev").join(rel),
                lstat: lstat.clone(),
            })
            .collect();
        Walk {
            found,
            unlisted: Vec::new(),
        }
    }

    #[test]
    fn member_names_escape_each_component() {
        let rel = Path::new(OsStr::from_bytes(b"files/a\nb/100%/\xff.bin"));
        assert_eq!(member_name(rel), "files/a%0Ab/100%25/%FF.bin");
    }

    #[test]
    fn a_path_too_long_for_a_member_name_is_a_gap() -> Result<(), Box<dyn std::error::Error>> {
        let file = tempfile::NamedTempFile::new()?;
        let lstat = file.path().symlink_metadata()?;
        let long: PathBuf = std::iter::repeat_n("d".repeat(200), 6).collect();
        let walked = listed(&[long.join("x.txt"), PathBuf::from("pod-spec.yaml")], &lstat);
        let plan = plan(&walked, &Placer::new(&[parse_rule("filesystem=**")?])?)?;
        let fs = plan.get(&Section::Filesystem).ok_or("no filesystem section")?;
        assert_eq!(fs.members.len(), 1);
        let gap = fs.gaps.first().ok_or("no gap")?;
        assert!(
            gap.reason.starts_with("cannot be named in a bundle (SPEC §3)"),
            "{}",
            gap.reason
        );
        Ok(())
    }

    #[test]
    fn more_files_than_a_bundle_holds_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let file = tempfile::NamedTempFile::new()?;
        let lstat = file.path().symlink_metadata()?;
        let rels: Vec<PathBuf> = (0..65_533).map(|i| PathBuf::from(format!("f{i}"))).collect();
        let walked = listed(&rels, &lstat);
        let err = plan(&walked, &Placer::new(&[parse_rule("filesystem=*")?])?).err();
        assert!(
            matches!(
                err,
                Some(SealError::TooManyMembers {
                    count: 65_533,
                    max: 65_532
                })
            ),
            "{err:?}"
        );
        Ok(())
    }
}
