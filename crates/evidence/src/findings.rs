//! The one findings model: a [`Severity`] scale, the [`FindingId`] of every check, and a
//! [`Finding`] (id, severity, message, the evidence that shows it).
//!
//! `forensic show BUNDLE suspicious` (`forensic-analysis`) and `forensic diff`
//! (`forensic-image`) both report these; a finding id means the same fact wherever it appears,
//! in text and in `--json`. `docs/findings.md` lists every id with its severities, the command
//! that raises it and what raises it; a test checks that list against [`FindingId::ALL`].
//! `forensic timeline` raises no findings.

use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// How urgent a finding is, most urgent first (the derived order sorts `Critical` first).
///
/// On the wire (`--json`) and in text output the lowercase word: `critical`, `high`, `medium`,
/// `low`, `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Root-level compromise on its own: an account with uid 0 or without a password, a setuid
    /// root file that the image does not have, the dynamic linker's preload list changed.
    Critical,
    /// Look at it first: a sign of compromise on its own (persistence, replaced programs,
    /// executables in temporary directories, a privileged container, …).
    High,
    /// Likely part of an attack; check it.
    Medium,
    /// Worth knowing; often benign.
    Low,
    /// Context for the examiner.
    Info,
}

impl Severity {
    /// Every severity, most urgent first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// `critical`, `high`, `medium`, `low`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares [`FindingId`]: variant, wire id, the severities it may carry, the commands that
/// raise it. One table, so that an id cannot exist without its severities and commands.
macro_rules! finding_ids {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, [$($sev:ident),+], [$($cmd:literal),+]; )*) => {
        /// The stable id of a check (`kind` in `--json`, `[id]` in text output).
        ///
        /// Ordered by the id's text, so that sorting by id sorts as the words do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FindingId {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl FindingId {
            /// Every id the tools can raise.
            pub const ALL: &'static [FindingId] = &[$(FindingId::$variant),*];

            /// The id on the wire: `uid0-user`, `falco-alert`, ….
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingId::$variant => $id,)*
                }
            }

            /// The severities a finding with this id can have (most have one; some depend on
            /// what was found, as `docs/findings.md` says).
            pub fn severities(self) -> &'static [Severity] {
                match self {
                    $(FindingId::$variant => &[$(Severity::$sev),+],)*
                }
            }

            /// The commands that raise it: `show` (`show BUNDLE suspicious`, and the top
            /// findings of `show BUNDLE summary`), `diff`.
            pub fn commands(self) -> &'static [&'static str] {
                match self {
                    $(FindingId::$variant => &[$($cmd),+],)*
                }
            }
        }
    };
}

finding_ids! {
    // Section 1, processes (show).
    /// A process runs an executable deleted after it started.
    DeletedExecutable = "deleted-executable", [High], ["show"];
    /// A process runs from a temporary directory.
    RunsFromTempDir = "runs-from-temp-dir", [High], ["show"];
    /// A process has executable code mapped from a temporary directory or a memfd.
    ExecMapFromTemp = "exec-map-from-temp", [High], ["show"];
    /// A process has writable and executable anonymous memory.
    RwxAnonymousMap = "rwx-anonymous-map", [Medium], ["show"];
    /// A process maps a deleted file.
    DeletedMapping = "deleted-mapping", [Medium], ["show"];
    /// A process looks like remote access or data movement.
    ShellOrNetworkTool = "shell-or-network-tool", [Medium], ["show"];
    /// Secret-looking variables in a process's or the container's environment.
    SecretInEnvironment = "secret-in-environment", [Low], ["show"];
    /// Processes running as root.
    RootProcesses = "root-processes", [Info], ["show"];
    // Section 2, network (show).
    /// A listening TCP socket or bound UDP socket.
    ListeningSocket = "listening-socket", [Medium], ["show"];
    /// A connection to a peer.
    EstablishedConnection = "established-connection", [Medium, Low], ["show"];
    // Section 5, filesystem as the bundle recorded it (show).
    /// An executable file in a temporary directory.
    ExecutableInTempDir = "executable-in-temp-dir", [High], ["show"];
    /// A setuid or setgid file outside the system directories.
    SetuidOutsideSystemDirs = "setuid-outside-system-dirs", [High], ["show"];
    /// Setuid or setgid files in the system directories (grouped).
    SetuidFiles = "setuid-files", [Low], ["show"];
    /// Files modified in the window before collection (grouped).
    RecentlyModified = "recently-modified", [Info], ["show"];
    /// A place that runs code or lets someone in was written in the container.
    PersistencePointChanged = "persistence-point-changed", [High], ["show"];
    /// A program or library was written in the container.
    SystemBinaryChanged = "system-binary-changed", [High], ["show"];
    /// Files under `/var/log` were deleted in the container.
    LogDeleted = "log-deleted", [Medium], ["show"];
    /// A program or library of the image was deleted in the container.
    SystemBinaryDeleted = "system-binary-deleted", [High], ["show", "diff"];
    /// A file the container wrote has a modification time set back before the container existed.
    MtimeBackdated = "mtime-backdated", [Medium], ["show"];
    /// A regular file on a tmpfs mount (`/dev/shm`, `/dev`, `--tmpfs`): memory the image does not
    /// have and that vanishes with the container. High when it has an execute bit.
    FileOnTmpfs = "file-on-tmpfs", [High, Medium], ["show", "diff"];
    /// A line of a text file in a temporary directory downloads code and runs it.
    DownloadAndRun = "download-and-run", [High], ["show"];
    /// A line of a text file in a temporary directory names a URL.
    ScriptUrl = "script-url", [Medium], ["show"];
    /// A line of a text file in a temporary directory names an IP address.
    ScriptIpAddress = "script-ip-address", [Medium, Low], ["show"];
    /// A shell history.
    ShellHistory = "shell-history", [Medium], ["show"];
    /// An `authorized_keys` file with keys.
    AuthorizedKeys = "authorized-keys", [Medium], ["show"];
    /// `/etc/ld.so.preload` lists libraries.
    LdPreload = "ld-preload", [High], ["show"];
    // Accounts: show and diff.
    /// An account other than `root` has uid 0 (whether it is new is not known).
    Uid0User = "uid0-user", [Critical], ["show", "diff"];
    /// An account has an empty password.
    EmptyPassword = "empty-password", [Critical], ["show", "diff"];
    /// An account file was written in the container and its entries were not compared with the
    /// image's.
    AccountFileChanged = "account-file-changed", [High], ["show", "diff"];
    // Accounts compared with the image (diff).
    /// An account was added with uid 0.
    Uid0UserAdded = "uid0-user-added", [Critical], ["diff"];
    /// An account was changed to uid 0.
    Uid0UserChanged = "uid0-user-changed", [Critical], ["diff"];
    /// An account was added.
    AccountAdded = "account-added", [High], ["diff"];
    /// An account was removed.
    AccountRemoved = "account-removed", [Medium], ["diff"];
    /// An account's uid or gid changed.
    AccountIdsChanged = "account-ids-changed", [Medium], ["diff"];
    /// An account's shell changed.
    AccountShellChanged = "account-shell-changed", [High, Medium], ["diff"];
    /// An account's home directory changed.
    AccountHomeChanged = "account-home-changed", [Medium], ["diff"];
    /// A password hash changed.
    PasswordChanged = "password-changed", [High], ["diff"];
    /// A password hash was set.
    PasswordAdded = "password-added", [High], ["diff"];
    /// A group was added.
    GroupAdded = "group-added", [High, Medium], ["diff"];
    /// A group's gid changed.
    GroupChanged = "group-changed", [High, Medium], ["diff"];
    /// A group gained members.
    GroupMemberAdded = "group-member-added", [High, Medium], ["diff"];
    /// A group was removed.
    GroupRemoved = "group-removed", [Low], ["diff"];
    /// An account was removed from `/etc/shadow`.
    ShadowEntryRemoved = "shadow-entry-removed", [Low], ["diff"];
    /// An account file was deleted.
    AccountFileRemoved = "account-file-removed", [High], ["diff"];
    /// Lines of an account file that are not entries.
    AccountFileMalformed = "account-file-malformed", [Low], ["diff"];
    /// Names on more than one line of an account file.
    AccountDuplicate = "account-duplicate", [Medium], ["diff"];
    // Files compared with the image (diff).
    /// A program file's content or type differs from the image's.
    BinaryReplaced = "binary-replaced", [High], ["diff"];
    /// A new program file.
    ExecutableAdded = "executable-added", [Medium], ["diff"];
    /// A file gained the setuid bit.
    SetuidAdded = "setuid-added", [Critical, High], ["diff"];
    /// A file gained the setgid bit.
    SetgidAdded = "setgid-added", [High], ["diff"];
    /// A new or rewritten executable in a temporary directory.
    TmpExecutable = "tmp-executable", [High], ["diff"];
    /// `/etc/ld.so.preload` added, changed (critical) or removed (low).
    PersistenceLdPreload = "persistence-ld-preload", [Critical, Low], ["diff"];
    /// A crontab added, changed (high) or removed (low).
    PersistenceCron = "persistence-cron", [High, Low], ["diff"];
    /// An SSH authorized keys file added, changed (high) or removed (low).
    PersistenceSshKey = "persistence-ssh-key", [High, Low], ["diff"];
    /// A sudoers file added, changed (high) or removed (low).
    PersistenceSudoers = "persistence-sudoers", [High, Low], ["diff"];
    /// An init script or service unit added, changed (high) or removed (low).
    PersistenceInit = "persistence-init", [High, Low], ["diff"];
    /// A shell start-up file added, changed (medium) or removed (low).
    PersistenceShellProfile = "persistence-shell-profile", [Medium, Low], ["diff"];
    /// The SSH server's configuration added, changed (medium) or removed (low).
    PersistenceSshdConfig = "persistence-sshd-config", [Medium, Low], ["diff"];
    /// A file whose bytes differ from the image's while its size and modification time are the
    /// image's: the runtime's own diff (`docker diff`) cannot show it.
    ContentChangedMetadataKept = "content-changed-metadata-kept", [High], ["diff"];
    /// A difference from the image that the writable layer does not hold.
    LowerLayerChanged = "lower-layer-changed", [High], ["diff"];
    /// A file of the node's copy of an image layer differs from the node's own record of that
    /// layer (size or CRC-64 in containers/storage's tar-split).
    LayerChecksumMismatch = "layer-checksum-mismatch", [High], ["diff"];
    // Section 6, the container's configuration (show).
    /// The container runs privileged.
    PrivilegedContainer = "privileged-container", [High], ["show"];
    /// Dangerous capabilities were added.
    AddedCapabilities = "added-capabilities", [Medium], ["show"];
    /// A sensitive host path is mounted.
    SensitiveHostMount = "sensitive-host-mount", [High, Medium], ["show"];
    /// The container runs without a seccomp profile.
    SeccompUnconfined = "seccomp-unconfined", [Medium], ["show"];
    // Section 7, Kubernetes audit (show).
    /// An exec, attach or port-forward session into a pod.
    ExecIntoPod = "exec-into-pod", [High, Medium], ["show"];
    /// Secrets read by someone other than the control plane.
    SecretAccess = "secret-access", [Medium], ["show"];
    /// RBAC changed.
    RbacChange = "rbac-change", [Medium], ["show"];
    /// Who created the pod.
    PodCreated = "pod-created", [Info], ["show"];
    // Section 8, Falco (show).
    /// Falco alerts of one rule and priority.
    FalcoAlert = "falco-alert", [High, Medium, Low, Info], ["show"];
    /// Falco alerts about other containers or the host.
    FalcoOtherContainers = "falco-other-containers", [Info], ["show"];
}

impl FindingId {
    /// Whether a finding with this id may have `severity` (one of [`FindingId::severities`]).
    pub fn allows(self, severity: Severity) -> bool {
        self.severities().contains(&severity)
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialOrd for FindingId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FindingId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for FindingId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding: what was found, how urgent, and where it shows.
///
/// In `--json`: `{"severity", "kind", "path", "message", "evidence"}`; `path` only when the
/// finding concerns one container path (every `diff` finding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How urgent.
    pub severity: Severity,
    /// Which check (the id; `kind` on the wire).
    pub kind: FindingId,
    /// The container path concerned, when the finding is about one path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What was found, in words (not for parsing).
    pub message: String,
    /// Where it shows: bundle members (`MEMBER`, `MEMBER line N[: text]`, `MEMBER: pid N`),
    /// index lines, the image's entry.
    pub evidence: Vec<String>,
}

impl Finding {
    /// A finding about no particular path.
    pub fn new(severity: Severity, kind: FindingId, message: impl Into<String>, evidence: Vec<String>) -> Self {
        Finding {
            severity,
            kind,
            path: None,
            message: message.into(),
            evidence,
        }
    }

    /// The same finding, about container path `path`.
    pub fn with_path(self, path: impl Into<String>) -> Self {
        Finding {
            path: Some(path.into()),
            ..self
        }
    }
}

/// The bundle member an evidence line of a [`Finding`] names: the longest prefix of `evidence`
/// for which `is_member` holds and that is the whole line or is followed by ` ` or `:` (the forms
/// `MEMBER`, `MEMBER line N[: text]`, `MEMBER: pid N`). `None` when the line names no member
/// (an image entry, a count).
///
/// ```
/// use forensic_evidence::findings::evidence_member;
/// let is = |m: &str| m == "1-processes/processes.json" || m == "5-filesystem/tree-index.jsonl";
/// assert_eq!(evidence_member("1-processes/processes.json: pid 42", is), Some("1-processes/processes.json"));
/// assert_eq!(evidence_member("5-filesystem/tree-index.jsonl line 7", is), Some("5-filesystem/tree-index.jsonl"));
/// assert_eq!(evidence_member("image: /etc/shadow", is), None);
/// ```
pub fn evidence_member(evidence: &str, is_member: impl Fn(&str) -> bool) -> Option<&str> {
    let boundaries = evidence
        .char_indices()
        .rev()
        .filter(|(_, c)| matches!(c, ' ' | ':'))
        .map(|(i, _)| i);
    std::iter::once(evidence.len())
        .chain(boundaries)
        .filter_map(|end| evidence.get(..end))
        .find(|prefix| !prefix.is_empty() && is_member(prefix))
}

/// The `file-on-tmpfs` finding of a regular file on the tmpfs mounted at `mount`, as `show
/// suspicious` and `diff` both raise it: `described` is the file as the command shows it (path
/// and metadata), `evidence` its tree-index line and the member holding its copy.
pub fn file_on_tmpfs(path: &str, mount: &str, executable: bool, described: &str, evidence: Vec<String>) -> Finding {
    let (severity, what) = if executable {
        (Severity::High, "executable file")
    } else {
        (Severity::Medium, "regular file")
    };
    Finding::new(
        severity,
        FindingId::FileOnTmpfs,
        format!("{what} on the tmpfs mount {mount} (memory only, gone with the container): {described}"),
        evidence,
    )
    .with_path(path)
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
    /// Info.
    pub info: usize,
}

impl SeverityCounts {
    /// Counts `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        let n = |s| findings.iter().filter(|f| f.severity == s).count();
        SeverityCounts {
            critical: n(Severity::Critical),
            high: n(Severity::High),
            medium: n(Severity::Medium),
            low: n(Severity::Low),
            info: n(Severity::Info),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for id in FindingId::ALL {
            let s = id.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s}"
            );
            assert!(!id.severities().is_empty() && !id.commands().is_empty(), "{s}");
        }
    }

    #[test]
    fn a_file_on_tmpfs_is_high_when_executable() {
        let f = file_on_tmpfs("/dev/shm/x", "/dev/shm", false, "/dev/shm/x (…)", vec!["l".into()]);
        assert_eq!(
            (f.severity, f.kind, f.path.as_deref()),
            (Severity::Medium, FindingId::FileOnTmpfs, Some("/dev/shm/x"))
        );
        assert_eq!(
            f.message,
            "regular file on the tmpfs mount /dev/shm (memory only, gone with the container): /dev/shm/x (…)"
        );
        let f = file_on_tmpfs("/scratch/m", "/scratch", true, "/scratch/m", vec![]);
        assert_eq!(f.severity, Severity::High);
        assert!(f.message.starts_with("executable file on the tmpfs mount /scratch"));
        assert!(FindingId::FileOnTmpfs.allows(Severity::High) && FindingId::FileOnTmpfs.allows(Severity::Medium));
    }

    #[test]
    fn wire_form() {
        let f = Finding::new(Severity::Critical, FindingId::Uid0User, "m", vec!["e".into()]);
        assert_eq!(
            serde_json::to_string(&f).ok().as_deref(),
            Some(r#"{"severity":"critical","kind":"uid0-user","message":"m","evidence":["e"]}"#)
        );
        let f = f.with_path("/etc/passwd");
        assert_eq!(
            serde_json::to_string(&f).ok().as_deref(),
            Some(r#"{"severity":"critical","kind":"uid0-user","path":"/etc/passwd","message":"m","evidence":["e"]}"#)
        );
        assert!(Severity::Critical < Severity::Info);
        assert!(FindingId::AccountAdded < FindingId::Uid0User);
    }
}
