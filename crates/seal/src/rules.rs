//! Which section each evidence file goes to: user rules first, then the built-in table.
//!
//! # Built-in rules
//!
//! Tried in this order; the first that matches places the file. A pattern without `/` is matched
//! against the file's base name; `DIR/**` matches anything under a directory named `DIR` at any
//! depth. Matching is case-sensitive.
//!
//! | section | patterns |
//! |---|---|
//! | `filesystem` | anything under a `files/` or `copied/` directory |
//! | `podspec` | `*.yaml` under a `podspec/` directory |
//! | `podspec` | `pod-spec.yaml`, `pod-describe.txt`, `events.txt`, `container-id.txt`, `container-inspect.json`, `inspect.json` |
//! | `logs` | `pod-logs.txt`, `pod-logs-previous.txt`, `container-logs*.txt`, `crictl-logs*.txt` |
//! | `network` | `connections.txt`, `ss*.txt`, `netstat*.txt`, `net-tcp*`, `net-udp*`, `tcp`, `tcp6`, `udp`, `udp6`, `resolv.conf` |
//! | `processes` | `processes.txt`, `ps*.txt`, `pstree*.txt`, `cmdline*.txt`, `environ*.txt`, `open-files.txt`, `maps*.txt` |
//! | `filesystem` | `tmp-files.txt`, `shm-files.txt`, `*-files.txt`, `setuid*.txt`, `recent*.txt` |
//! | `audit` | `audit.log`, `audit*.log`, `kube-audit*` |
//! | `alerts` | `falco*.log`, `falco*.json`, `falco*.txt`, `alerts*.json` |
//! | `memory` | `*.core`, `core.*`, `memory*` |
//! | `image` | `image*.json`, `image*.txt` |
//!
//! # User rules
//!
//! `--section NAME=GLOB` ([`parse_rule`]) places files matching `GLOB` in section `NAME` (a section
//! name of SPEC §4). User rules are tried before the built-ins, in the order given. `GLOB` is
//! matched against the path relative to the evidence directory with `/` separators; `*` and `?`
//! do not cross `/`, `**` does. A glob without `/` is also matched against the base name alone, so
//! `--section filesystem='*'` places every file that no earlier rule placed.

use crate::SealError;
use forensic_bundle::section::Section;
use globset::{GlobBuilder, GlobMatcher};
use std::path::Path;

/// The built-in table: `(section, glob)`, tried in order (see the module documentation).
pub const BUILTIN: &[(Section, &str)] = &[
    (Section::Filesystem, "**/files/**"),
    (Section::Filesystem, "**/copied/**"),
    (Section::PodSpec, "**/podspec/**/*.yaml"),
    (Section::PodSpec, "pod-spec.yaml"),
    (Section::PodSpec, "pod-describe.txt"),
    (Section::PodSpec, "events.txt"),
    (Section::PodSpec, "container-id.txt"),
    (Section::PodSpec, "container-inspect.json"),
    (Section::PodSpec, "inspect.json"),
    (Section::Logs, "pod-logs.txt"),
    (Section::Logs, "pod-logs-previous.txt"),
    (Section::Logs, "container-logs*.txt"),
    (Section::Logs, "crictl-logs*.txt"),
    (Section::Network, "connections.txt"),
    (Section::Network, "ss*.txt"),
    (Section::Network, "netstat*.txt"),
    (Section::Network, "net-tcp*"),
    (Section::Network, "net-udp*"),
    (Section::Network, "tcp"),
    (Section::Network, "tcp6"),
    (Section::Network, "udp"),
    (Section::Network, "udp6"),
    (Section::Network, "resolv.conf"),
    (Section::Processes, "processes.txt"),
    (Section::Processes, "ps*.txt"),
    (Section::Processes, "pstree*.txt"),
    (Section::Processes, "cmdline*.txt"),
    (Section::Processes, "environ*.txt"),
    (Section::Processes, "open-files.txt"),
    (Section::Processes, "maps*.txt"),
    (Section::Filesystem, "tmp-files.txt"),
    (Section::Filesystem, "shm-files.txt"),
    (Section::Filesystem, "*-files.txt"),
    (Section::Filesystem, "setuid*.txt"),
    (Section::Filesystem, "recent*.txt"),
    (Section::Audit, "audit.log"),
    (Section::Audit, "audit*.log"),
    (Section::Audit, "kube-audit*"),
    (Section::Alerts, "falco*.log"),
    (Section::Alerts, "falco*.json"),
    (Section::Alerts, "falco*.txt"),
    (Section::Alerts, "alerts*.json"),
    (Section::Memory, "*.core"),
    (Section::Memory, "core.*"),
    (Section::Memory, "memory*"),
    (Section::Image, "image*.json"),
    (Section::Image, "image*.txt"),
];

/// One rule: files matching a glob go to a section.
#[derive(Debug, Clone)]
pub struct Rule {
    section: Section,
    glob: String,
    matcher: GlobMatcher,
    base_name_too: bool,
}

impl Rule {
    /// A rule placing files that match `glob` in `section`.
    ///
    /// # Errors
    /// [`SealError::BadRule`] if `glob` is empty or not a valid glob.
    pub fn new(section: Section, glob: &str) -> Result<Rule, SealError> {
        if glob.is_empty() {
            return Err(SealError::BadRule(format!("{}=: the glob is empty", section.name())));
        }
        let matcher = GlobBuilder::new(glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| SealError::BadRule(format!("{}={glob}: {e}", section.name())))?
            .compile_matcher();
        Ok(Rule {
            section,
            glob: glob.to_string(),
            matcher,
            base_name_too: !glob.contains('/'),
        })
    }

    /// The section it places files in.
    pub fn section(&self) -> Section {
        self.section
    }

    /// The glob as given.
    pub fn glob(&self) -> &str {
        &self.glob
    }

    /// Whether the file at `rel` (relative to the evidence directory) matches.
    pub fn matches(&self, rel: &Path) -> bool {
        self.matcher.is_match(rel) || (self.base_name_too && rel.file_name().is_some_and(|b| self.matcher.is_match(b)))
    }
}

/// Parses a `NAME=GLOB` rule, e.g. `filesystem=notes/**` or `logs=*.log`.
///
/// # Errors
/// [`SealError::BadRule`] if there is no `=`, `NAME` is not a section of SPEC §4, or `GLOB` is
/// not a valid glob; the message lists the section names.
pub fn parse_rule(text: &str) -> Result<Rule, SealError> {
    let (name, glob) = text
        .split_once('=')
        .ok_or_else(|| SealError::BadRule(format!("{text:?} is not NAME=GLOB, e.g. filesystem='*.txt'")))?;
    let section = Section::from_name(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = Section::ALL.iter().map(|s| s.name()).collect();
        SealError::BadRule(format!(
            "{text:?}: {name:?} is not a section; use one of {}",
            names.join(", ")
        ))
    })?;
    Rule::new(section, glob)
}

/// The built-in rules of [`BUILTIN`], compiled.
///
/// # Errors
/// Never in practice: the built-in globs are valid (a test checks it).
pub fn builtin_rules() -> Result<Vec<Rule>, SealError> {
    BUILTIN.iter().map(|(s, g)| Rule::new(*s, g)).collect()
}

/// Places files: user rules in order, then the built-ins.
#[derive(Debug, Clone)]
pub struct Placer {
    rules: Vec<Rule>,
}

impl Placer {
    /// A placer trying `user` rules first, then [`BUILTIN`].
    ///
    /// # Errors
    /// Only if a built-in glob failed to compile, which a test rules out.
    pub fn new(user: &[Rule]) -> Result<Placer, SealError> {
        let mut rules = user.to_vec();
        rules.extend(builtin_rules()?);
        Ok(Placer { rules })
    }

    /// The section of the first rule that matches `rel`, or `None`.
    pub fn place(&self, rel: &Path) -> Option<Section> {
        self.rules.iter().find(|r| r.matches(rel)).map(Rule::section)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(user: &[Rule], rel: &str) -> Result<Option<Section>, SealError> {
        Ok(Placer::new(user)?.place(Path::new(rel)))
    }

    #[test]
    fn the_checklist_files_are_placed_by_the_builtin_table() -> Result<(), SealError> {
        let cases = [
            ("pod-spec.yaml", Some(Section::PodSpec)),
            ("pod-logs.txt", Some(Section::Logs)),
            ("pod-logs-previous.txt", Some(Section::Logs)),
            ("pod-describe.txt", Some(Section::PodSpec)),
            ("events.txt", Some(Section::PodSpec)),
            ("container-id.txt", Some(Section::PodSpec)),
            ("container-inspect.json", Some(Section::PodSpec)),
            ("inspect.json", Some(Section::PodSpec)),
            ("connections.txt", Some(Section::Network)),
            ("open-files.txt", Some(Section::Processes)),
            ("tmp-files.txt", Some(Section::Filesystem)),
            ("shm-files.txt", Some(Section::Filesystem)),
            ("var-tmp-files.txt", Some(Section::Filesystem)),
            ("files/suspicious-binary", Some(Section::Filesystem)),
            ("files/pod-logs.txt", Some(Section::Filesystem)),
            ("copied/tmp/payload.sh", Some(Section::Filesystem)),
            ("host/copied/x", Some(Section::Filesystem)),
            ("podspec/deploy.yaml", Some(Section::PodSpec)),
            ("podspec/nested/svc.yaml", Some(Section::PodSpec)),
            ("podspec/readme.md", None),
            ("deploy.yaml", None),
            ("ps-aux.txt", Some(Section::Processes)),
            ("pstree.txt", Some(Section::Processes)),
            ("cmdline-2092.txt", Some(Section::Processes)),
            ("environ.txt", Some(Section::Processes)),
            ("maps-1.txt", Some(Section::Processes)),
            ("ss-tuanp.txt", Some(Section::Network)),
            ("netstat.txt", Some(Section::Network)),
            ("net-tcp6", Some(Section::Network)),
            ("proc/net/tcp", Some(Section::Network)),
            ("udp6", Some(Section::Network)),
            ("resolv.conf", Some(Section::Network)),
            ("setuid-files.txt", Some(Section::Filesystem)),
            ("recently-modified.txt", Some(Section::Filesystem)),
            ("audit.log", Some(Section::Audit)),
            ("audit-2024.log", Some(Section::Audit)),
            ("kube-audit.json", Some(Section::Audit)),
            ("falco.log", Some(Section::Alerts)),
            ("falco-alerts.json", Some(Section::Alerts)),
            ("alerts.json", Some(Section::Alerts)),
            ("app.core", Some(Section::Memory)),
            ("core.2092", Some(Section::Memory)),
            ("memory-2092.bin", Some(Section::Memory)),
            ("image-inspect.json", Some(Section::Image)),
            ("image.txt", Some(Section::Image)),
            ("Pod-Spec.yaml", None),
            ("notes.md", None),
            ("tcp.bak", None),
        ];
        for (rel, want) in cases {
            assert_eq!(placed(&[], rel)?, want, "{rel}");
        }
        Ok(())
    }

    #[test]
    fn user_rules_come_first_in_the_order_given() -> Result<(), SealError> {
        let rules = [
            parse_rule("alerts=pod-logs.txt")?,
            parse_rule("image=*")?,
            parse_rule("memory=*")?,
        ];
        assert_eq!(placed(&rules, "pod-logs.txt")?, Some(Section::Alerts));
        assert_eq!(placed(&rules, "notes.md")?, Some(Section::Image));
        assert_eq!(
            placed(&rules, "deep/dir/notes.md")?,
            Some(Section::Image),
            "no '/': base name matches"
        );
        Ok(())
    }

    #[test]
    fn globs_with_a_slash_match_the_relative_path() -> Result<(), SealError> {
        let r = parse_rule("filesystem=notes/*.md")?;
        assert!(r.matches(Path::new("notes/a.md")));
        assert!(!r.matches(Path::new("a.md")));
        assert!(!r.matches(Path::new("notes/sub/a.md")), "'*' does not cross '/'");
        assert!(!r.matches(Path::new("x/notes/a.md")));
        let deep = parse_rule("filesystem=notes/**")?;
        assert!(deep.matches(Path::new("notes/sub/a.md")));
        assert_eq!(deep.section(), Section::Filesystem);
        assert_eq!(deep.glob(), "notes/**");
        // A non-UTF-8 name can still be matched.
        use std::os::unix::ffi::OsStrExt;
        assert!(parse_rule("logs=*")?.matches(Path::new(std::ffi::OsStr::from_bytes(b"a\xffb"))));
        Ok(())
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let msg = |s: &str| parse_rule(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg("filesystem").contains("NAME=GLOB"));
        assert!(msg("Filesystem=*").contains("processes, network, memory"));
        assert!(msg("files=*").contains("\"files\" is not a section"));
        assert!(msg("logs=").contains("empty"));
        assert!(msg("logs=a[").contains("logs=a["));
        assert!(matches!(parse_rule("x"), Err(SealError::BadRule(_))));
    }

    #[test]
    fn every_builtin_glob_compiles() -> Result<(), SealError> {
        assert_eq!(builtin_rules()?.len(), BUILTIN.len());
        Ok(())
    }
}
