//! The names of the evidence members the tools read (`format-spec/CONTENTS.md` lists every member
//! `collect` writes). Full names, section prefix included; [`local`] gives the name within the
//! section, which is what a collector's section writer passes to its sink.

/// Section 1: the decoded process list ([`crate::records::process::ProcessRecord`], a JSON array).
pub const PROCESSES: &str = "1-processes/processes.json";
/// Section 1: the process tree as indented text.
pub const PROCESS_TREE: &str = "1-processes/tree.txt";
/// Section 1: the host's boot time, `btime SECONDS` (from `/proc/stat`).
pub const BOOT: &str = "1-processes/boot.txt";
/// Section 2: the decoded sockets ([`crate::records::network::Sockets`]).
pub const SOCKETS: &str = "2-network/sockets.json";
/// Section 2: prefix of the raw `/proc/<pid>/net` tables.
pub const PROC_NET: &str = "2-network/proc-net/";
/// Section 5: the full-tree index ([`crate::records::tree::TreeEntry`] lines).
pub const TREE_INDEX: &str = "5-filesystem/tree-index.jsonl";
/// Section 5: every mount of the container, classified
/// ([`crate::records::mounts::MountRecord`]s, a JSON array).
pub const MOUNTS: &str = "5-filesystem/mounts.json";
/// Section 5: the writable layer's change list ([`crate::records::upper::UpperChange`] lines).
pub const UPPER_CHANGES: &str = "5-filesystem/upper-changes.jsonl";
/// Section 5: setuid and setgid regular files ([`crate::records::derived::DerivedEntry`] lines).
pub const DERIVED_SETUID: &str = "5-filesystem/derived/setuid.jsonl";
/// Section 5: executables under the temporary directories.
pub const DERIVED_TMP_EXEC: &str = "5-filesystem/derived/tmp-executables.jsonl";
/// Section 5: recently modified or changed regular files.
pub const DERIVED_RECENT: &str = "5-filesystem/derived/recent.jsonl";
/// Section 5: prefix of the copies of the places attackers use ([`crate::paths::copy_member`]).
pub const ROOT_COPIES: &str = "5-filesystem/root/";
/// Section 5: prefix of the copies of files changed since the container started that the bundle
/// holds nowhere else, e.g. a file changed in the node's copy of an image layer
/// ([`crate::paths::changed_copy`], CONTENTS.md §3).
pub const CHANGED_COPIES: &str = "5-filesystem/changed/";
/// Section 5: prefix of the writable layer's copies.
pub const UPPER_COPIES: &str = "5-filesystem/upper/";
/// Section 4: prefix of the kubelet's log files of the container, copied byte for byte
/// (`4-logs/pods/CONTAINER/FILE`, CONTENTS.md §16).
pub const KUBELET_LOGS: &str = "4-logs/pods/";
/// Section 6: the runtime's inspect output (a CLI's, verbatim) or, for containerd, the
/// [`crate::records::containerd::ContainerdInspect`] document.
pub const INSPECT: &str = "6-podspec/inspect.json";
/// Section 6: containerd's document of the previous instance of the container (a restarted
/// container's exited instance), as [`INSPECT`].
pub const PREVIOUS_INSPECT: &str = "6-podspec/previous-inspect.json";
/// Section 6: a pod's containers resolved from their CRI identity
/// ([`crate::records::containerd::PodContainers`]).
pub const POD_CONTAINERS: &str = "6-podspec/pod-containers.json";
/// Section 6: where a container collected offline was found and every metadata file read to
/// find it ([`crate::records::offline::OfflineSource`], CONTENTS.md §17).
pub const OFFLINE_SOURCE: &str = "6-podspec/offline-source.json";
/// Section 6: the normalised container record ([`crate::records::container::ContainerRecord`]).
pub const CONTAINER: &str = "6-podspec/container.json";
/// Section 7: the Kubernetes audit log.
pub const AUDIT_LOG: &str = "7-audit/audit.log";
/// Section 8: the Falco log file as copied.
pub const FALCO_LOG: &str = "8-alerts/falco.log";
/// Section 8: `journalctl -u falco -o cat` output.
pub const FALCO_JOURNAL: &str = "8-alerts/falco-journal.txt";
/// Section 9: the image reference ([`crate::records::image::ImageReference`]).
pub const IMAGE: &str = "9-image/image.json";
/// Section 9: the image manifest as the runtime stores it, byte for byte (containerd's content
/// store).
pub const IMAGE_MANIFEST: &str = "9-image/manifest.json";
/// Section 9: the image config as the runtime stores it, byte for byte.
pub const IMAGE_CONFIG: &str = "9-image/config.json";
/// Section 9: the list of the image's lower layers on the node, top first
/// ([`crate::records::image::LowerLayer`]s).
pub const LAYERS_LIST: &str = "9-image/layers.json";
/// Section 9: prefix of the copies of lower-layer files that differ from the node's record of
/// their layer ([`crate::paths::layer_changed_copy`], CONTENTS.md §7).
pub const LAYER_CHANGED_COPIES: &str = "9-image/layer-changed/";
/// Every section: the commands run for it ([`crate::records::command::CommandRecord`] lines);
/// the name within the section.
pub const COMMANDS: &str = "commands.jsonl";

/// Every section: the calls made to a runtime's API for it
/// ([`crate::records::api::ApiCall`] lines); the name within the section.
pub const API_CALLS: &str = "api-calls.jsonl";

/// The index of lower layer `n` (0 is the topmost), named as in [`LAYERS_LIST`] (within section 9).
pub fn layer_index(n: usize) -> String {
    format!("layers/{n}.jsonl")
}

/// The full name of a member named `local` within section 9.
pub fn in_image_section(local: &str) -> String {
    format!("9-image/{local}")
}

/// The name within its section of the full member name `full` (after the first `/`).
///
/// ```
/// assert_eq!(forensic_evidence::members::local(forensic_evidence::members::TREE_INDEX), "tree-index.jsonl");
/// ```
pub fn local(full: &str) -> &str {
    full.split_once('/').map_or(full, |(_, rest)| rest)
}

/// The Kubernetes audit logs of a bundle: [`AUDIT_LOG`], and for a sealed checklist directory
/// any other member of section 7 (`audit*.log`, `kube-audit*`).
pub fn audit_logs<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    section_logs(names, "7-audit/")
}

/// The Falco alert logs of a bundle: [`FALCO_LOG`], [`FALCO_JOURNAL`], and for a sealed
/// checklist directory any other member of section 8 (`falco*.json`, `alerts*.json`, …).
pub fn alert_logs<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    section_logs(names, "8-alerts/")
}

fn section_logs<'a>(names: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    names
        .filter(|n| n.starts_with(prefix) && !n.ends_with(".stderr") && !n.ends_with(COMMANDS))
        .map(str::to_string)
        .collect()
}
