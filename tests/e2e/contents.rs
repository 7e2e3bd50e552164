//! CONTENTS.md and format-spec/schemas/: a real container's bundle, every JSON and JSON-lines
//! member validated by an independent validator (Python `jsonschema`) and read back through the
//! shared record types of `forensic-evidence`.

use crate::podman::{Container, Image};
use crate::util::{keygen, run, s};
use forensic_evidence::lines::{LineLimits, for_each_line, parse_line, parse_whole};
use forensic_evidence::records::command::CommandRecord;
use forensic_evidence::records::container::ContainerJson;
use forensic_evidence::records::derived::DerivedEntry;
use forensic_evidence::records::image::{ImageReference, LowerLayer};
use forensic_evidence::records::mounts::{MountKind, MountRecord};
use forensic_evidence::records::network::Sockets;
use forensic_evidence::records::process::{ProcessFlag, ProcessRecord};
use forensic_evidence::records::tree::TreeEntry;
use forensic_evidence::records::upper::{Change, UpperChange};
use forensic_evidence::{EvidenceError, members};
use std::path::Path;
use std::process::Command;

/// Every record of a JSON-lines member, parsed as `T`.
fn jsonl<T: serde::de::DeserializeOwned>(dir: &Path, member: &str) -> Vec<T> {
    let bytes = std::fs::read(dir.join(member)).unwrap();
    let mut out = Vec::new();
    for_each_line(member, &mut bytes.as_slice(), LineLimits::default(), |n, l| {
        out.push(parse_line::<T>(member, n, l)?);
        Ok::<_, EvidenceError>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    out
}

fn whole<T: serde::de::DeserializeOwned>(dir: &Path, member: &str) -> T {
    parse_whole(member, &std::fs::read(dir.join(member)).unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

/// Extracts `bundle` into `dir` with `forensic extract` and validates every JSON and JSON-lines
/// member against format-spec/schemas/ with the independent validator (Python `jsonschema`);
/// returns its report, one `ok MEMBER …` line each. Panics when a member does not validate.
pub fn validate_independently(bundle: &Path, dir: &Path) -> String {
    let o = run(&["extract", s(bundle), "-o", s(dir)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/validate_contents.py"))
        .arg(dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    report
}

#[test]
fn every_json_member_of_a_real_bundle_follows_its_schema() {
    let t = tempfile::tempdir().unwrap();
    let image = Image::build_with(t.path(), "contents", &[("etc/contents-test", b"contents\n")]);
    let c = Container::start(&image, "forensic-e2e-contents");
    // Something in each list: a dropped executable, a setuid file, a deleted file, a listener.
    c.sh("cp /bin/busybox /tmp/.x && chmod 4755 /tmp/.x && rm /etc/motd && (nc -l -p 4444 >/dev/null 2>&1 &)");
    c.wait_for("the listener", || crate::attack::listening(c.pid(), 4444));
    let (key, _) = keygen(t.path(), "k");
    let bundle = t.path().join("b.zip");
    let o = c.collect(&bundle, &key, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = t.path().join("x");
    let report = validate_independently(&bundle, &dir);
    for m in [
        members::PROCESSES,
        members::SOCKETS,
        members::TREE_INDEX,
        members::MOUNTS,
        members::UPPER_CHANGES,
        members::DERIVED_SETUID,
        members::DERIVED_TMP_EXEC,
        members::CONTAINER,
        members::IMAGE,
        members::LAYERS_LIST,
        "9-image/layers/0.jsonl",
        "6-podspec/commands.jsonl",
    ] {
        assert!(
            report.lines().any(|l| l.starts_with(&format!("ok {m} "))),
            "{m} not validated:\n{report}"
        );
    }

    // The same members through the shared types, with what the container holds.
    let procs: Vec<ProcessRecord> = whole(&dir, members::PROCESSES);
    assert!(
        procs
            .iter()
            .any(|p| p.cmdline.first().map(String::as_str) == Some("/bin/sleep"))
    );
    assert!(procs.iter().all(|p| !p.flags.contains(&ProcessFlag::DeletedExecutable)));
    let sockets: Sockets = whole(&dir, members::SOCKETS);
    assert!(
        sockets
            .inet
            .iter()
            .any(|s| s.local.ends_with(":4444") && s.state == "LISTEN")
    );
    let tree: Vec<TreeEntry<'static>> = jsonl(&dir, members::TREE_INDEX);
    let dropped = tree.iter().find(|e| e.path.as_bytes() == b"/tmp/.x").unwrap();
    assert!(dropped.is_setuid() && dropped.is_executable());
    assert_eq!(
        dropped.sha256.as_deref(),
        Some(crate::util::sha256sum(&crate::rootfs::host_busybox()).as_str())
    );
    let mounts: Vec<MountRecord<'static>> = whole(&dir, members::MOUNTS);
    assert_eq!(
        mounts.first().map(|m| (m.mount_point.shown(), m.kind)),
        Some(("/".to_string(), MountKind::Root))
    );
    assert!(
        mounts
            .iter()
            .any(|m| m.mount_point.as_bytes() == b"/dev/shm" && m.kind == MountKind::Tmpfs)
    );
    let upper: Vec<UpperChange<'static>> = jsonl(&dir, members::UPPER_CHANGES);
    assert!(
        upper
            .iter()
            .any(|u| u.path.as_bytes() == b"/etc/motd" && u.change == Change::Deleted)
    );
    let setuid: Vec<DerivedEntry<'static>> = jsonl(&dir, members::DERIVED_SETUID);
    assert!(setuid.iter().any(|e| e.path.as_bytes() == b"/tmp/.x" && e.is_setid()));
    let container: ContainerJson = whole(&dir, members::CONTAINER);
    assert_eq!(
        container.container().and_then(|r| r.name.as_deref()),
        Some("forensic-e2e-contents")
    );
    let image_ref: ImageReference = whole(&dir, members::IMAGE);
    assert_eq!(image_ref.image_ref.as_deref(), Some(image.name.as_str()));
    let layers: Vec<LowerLayer> = whole(&dir, members::LAYERS_LIST);
    assert_eq!(layers.first().map(|l| l.member.as_str()), Some("layers/0.jsonl"));
    let lower: Vec<TreeEntry<'static>> = jsonl(&dir, "9-image/layers/0.jsonl");
    assert!(lower.iter().any(|e| e.path.as_bytes() == b"/etc/contents-test"));
    let commands: Vec<CommandRecord> = jsonl(&dir, "6-podspec/commands.jsonl");
    assert!(commands.iter().all(|c| c.argv.first().is_some_and(|a| !a.is_empty())));
}

#[test]
fn every_json_member_of_an_offline_bundle_follows_its_schema() {
    use crate::collect_offline::{CTD_META, CTD_VICTIM, MINER, Node};
    use forensic_evidence::records::offline::OfflineSource;
    let node = Node::stage();
    let t = tempfile::tempdir().unwrap();
    let (key, _) = keygen(t.path(), "k");
    let bundle = t.path().join("b.zip");
    let o = run(&[
        "collect",
        "--offline-root",
        s(node.dir.path()),
        "--container",
        CTD_VICTIM,
        "-o",
        s(&bundle),
        "--key",
        s(&key),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = t.path().join("x");
    let report = validate_independently(&bundle, &dir);
    for m in [
        members::OFFLINE_SOURCE,
        members::TREE_INDEX,
        members::UPPER_CHANGES,
        members::CONTAINER,
        members::IMAGE,
        members::LAYERS_LIST,
        "9-image/layers/0.jsonl",
        "9-image/layers/1.jsonl",
    ] {
        assert!(
            report.lines().any(|l| l.starts_with(&format!("ok {m} "))),
            "{m} not validated:\n{report}"
        );
    }
    assert!(!report.contains("1-processes/"), "{report}");
    let src: OfflineSource = whole(&dir, members::OFFLINE_SOURCE);
    assert_eq!(src.root, s(node.dir.path()));
    assert_eq!(
        (src.runtime.as_str(), src.namespace.as_deref(), src.container.as_str()),
        ("containerd", Some("k8s.io"), CTD_VICTIM)
    );
    let meta = src.metadata_read.iter().find(|r| r.path == CTD_META).unwrap();
    assert_eq!(meta.sha256, crate::util::sha256sum(&node.p(CTD_META)));
    // The merged view: the writable layer's files, the top image layer's /etc/motd, the link to
    // /etc/shadow recorded as a link.
    let tree: Vec<TreeEntry<'static>> = jsonl(&dir, members::TREE_INDEX);
    let at = |p: &str| tree.iter().find(|e| e.path.as_bytes() == p.as_bytes()).unwrap();
    let miner = std::fs::write(t.path().join("miner"), MINER)
        .map(|()| t.path().join("miner"))
        .unwrap();
    assert_eq!(
        at("/tmp/miner").sha256.as_deref(),
        Some(crate::util::sha256sum(&miner).as_str())
    );
    assert_eq!(
        at("/tmp/shadowlink").symlink_target.as_ref().unwrap().as_bytes(),
        b"/etc/shadow"
    );
    std::fs::write(t.path().join("motd"), b"layer 2\n").unwrap();
    assert_eq!(
        at("/etc/motd").sha256.as_deref(),
        Some(crate::util::sha256sum(&t.path().join("motd")).as_str())
    );
}
