//! Issue 15: the collector image `packaging/image/build.sh` builds from the binary under test
//! (FROM scratch: the binary, the libraries `ldd` lists, `/tmp`), run with README's flags
//! (`--pid=host --uts=host --privileged`, the runtime's state and `/run` mounted), collects an
//! attacked podman container on this host by `--pid`; the bundle verifies outside, on the host,
//! and a responder's checks (`attack::check_bundle`) find everything planted, as when the binary
//! runs on the host itself.

use crate::attack::{self, output_with_watchdog};
use crate::package::{ldd, ok, repo};
use crate::podman::{Container, Image, RUN_FLAGS};
use crate::util::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The collector image under test, removed on drop.
pub struct CollectorImage {
    pub tag: String,
}

impl CollectorImage {
    /// Builds it with the repository's script alone; checks what the script prints.
    pub fn build(tag: &str) -> CollectorImage {
        let out = ok(
            "bash",
            &[
                s(&repo().join("packaging/image/build.sh")),
                "--binary",
                env!("CARGO_BIN_EXE_forensic"),
                "--tag",
                tag,
            ],
        );
        let image = CollectorImage { tag: tag.to_string() };
        let size = ok("podman", &["image", "inspect", "--format", "{{.Size}}", tag]);
        let size: u64 = size.trim().parse().unwrap();
        let mib = format!("{:.1} MiB", size as f64 / 1048576.0);
        assert_eq!(out, format!("{tag} {size} bytes ({mib})\n"));
        image
    }

    /// Every path in the image (`/usr/bin/forensic`, …) with its type and mode (`d 1777`, `f 755`,
    /// `l ../run`), read through `podman image mount`.
    fn tree(&self) -> BTreeSet<String> {
        let root = ok("podman", &["image", "mount", &self.tag]).trim().to_string();
        let mut entries = BTreeSet::new();
        walk(Path::new(&root), Path::new(&root), &mut entries);
        ok("podman", &["image", "unmount", &self.tag]);
        entries
    }
}

impl Drop for CollectorImage {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["image", "unmount", &self.tag]).output();
        let _ = Command::new("podman").args(["rmi", "-f", &self.tag]).output();
    }
}

/// Adds `PATH TYPE MODE` (or `PATH l TARGET`) of everything under `dir` to `into`.
fn walk(root: &Path, dir: &Path, into: &mut BTreeSet<String>) {
    use std::os::unix::fs::PermissionsExt;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let md = p.symlink_metadata().unwrap();
        let name = format!("/{}", p.strip_prefix(root).unwrap().display());
        let mode = md.permissions().mode() & 0o7777;
        if md.is_symlink() {
            into.insert(format!("{name} l {}", std::fs::read_link(&p).unwrap().display()));
        } else if md.is_dir() {
            into.insert(format!("{name} d {mode:o}"));
            walk(root, &p, into);
        } else {
            into.insert(format!("{name} f {mode:o}"));
        }
    }
}

/// The directories above `path` (`/a/b/c` → `/a`, `/a/b`).
fn parents(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    (1..parts.len()).map(|n| format!("/{}", parts[..n].join("/"))).collect()
}

/// README's run line ("Install", the collector image) for a podman node, with this machine's
/// podman flags (`RUN_FLAGS`), `evidence` as the output directory and `keys` read-only.
fn collector_run(image: &str, name: &str, evidence: &Path, keys: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("podman");
    c.args(["run", "--rm", "--name", name])
        .args(RUN_FLAGS)
        .args(["--pid=host", "--uts=host", "--privileged"])
        .args(["-v", "/run:/run", "-v", "/var/lib/containers:/var/lib/containers"])
        .args(["-v", "/var/log:/var/log:ro"])
        .args(["-v", &format!("{}:/evidence", evidence.display())])
        .args(["-v", &format!("{}:/keys:ro", keys.display())])
        .arg(image)
        .args(args);
    c
}

/// Removes a container by name on drop (a collector run that failed or hung).
struct Named(String);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rm", "-f", "-t", "0", &self.0]).output();
    }
}

#[test]
fn the_collector_image_collects_a_podman_container_from_the_host() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let id = std::process::id();
    let image = CollectorImage::build(&format!("localhost/forensic-collector-e2e:{id}"));

    // Only the binary, its libraries, the directories collect needs and the CA bundle of
    // `archive put`.
    let mut want: BTreeSet<String> = [
        "/usr/bin/forensic f 755",
        "/tmp d 1777",
        "/evidence d 755",
        "/run d 755",
        "/etc d 755",
        "/etc/ssl d 755",
        "/etc/ssl/certs d 755",
        "/etc/ssl/certs/ca-certificates.crt f 644",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    want.insert("/var/run l ../run".into());
    let libs = ldd(Path::new(env!("CARGO_BIN_EXE_forensic")));
    for f in libs.iter().map(String::as_str).chain(["/usr/bin/forensic", "/var/run"]) {
        want.extend(parents(f).into_iter().map(|d| format!("{d} d 755")));
    }
    want.extend(libs.iter().map(|l| format!("{l} f 755")));
    assert_eq!(image.tree(), want);

    // The target: a busybox container in podman's default store, attacked.
    let target_image = Image::build(w, &format!("img{id}"));
    let target = Container::start(&target_image, &format!("forensic-e2e-target-{id}"));
    let planted = attack::plant(&target, &format!("img{id}"));
    let pid = target.pid();

    let keys = w.join("keys");
    let evidence = w.join("evidence");
    std::fs::create_dir(&keys).unwrap();
    std::fs::create_dir(&evidence).unwrap();
    let (_, public) = keygen(&keys, "responder");
    let name = format!("forensic-e2e-collector-{id}");
    let _cleanup = Named(name.clone());
    let pid_arg = pid.to_string();
    let o = output_with_watchdog(
        &mut collector_run(
            &image.tag,
            &name,
            &evidence,
            &keys,
            &[
                "collect",
                "--pid",
                &pid_arg,
                "-o",
                "case.zip",
                "--key",
                "/keys/responder.key",
                "--case",
                "E2E-IMAGE",
            ],
        ),
        "the collector image",
    );
    assert_eq!(code(&o), 0, "collector: {}{}", stdout(&o), stderr(&o));
    let bundle = evidence.join("case.zip");

    // Outside, on the host: it verifies, signed by the responder's key.
    let v = run(&["verify", s(&bundle), "--trust", s(&public)]);
    assert_eq!(code(&v), 0, "{}{}", stdout(&v), stderr(&v));
    let summary = json(&run(&["show", s(&bundle), "summary", "--json", "--trust", s(&public)]));
    let with_members: Vec<&str> = summary["sections"]
        .as_array()
        .unwrap_or_else(|| panic!("{summary}"))
        .iter()
        .filter(|s| s["members"].as_u64().unwrap() > 0)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // By --pid: no runtime record, so no container logs or image inspect; no --memory, and no
    // audit or Falco log on this machine.
    assert_eq!(
        with_members,
        ["processes", "network", "filesystem", "podspec", "image"],
        "{summary}"
    );
    assert_eq!(summary["verified"], true);
    assert_eq!(summary["case"]["case_id"], "E2E-IMAGE");
    assert_eq!(summary["target"]["pid"], pid, "{summary}");
    // --uts=host: the bundle names the node, not the collector's container.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(summary["target"]["node"], host.trim());
    assert_eq!(summary["collector"]["host"], host.trim());
    assert_eq!(summary["collector"]["version"], env!("CARGO_PKG_VERSION"));
    // The sleep, the listener and the ghost: the collector's own processes are not the target's.
    assert_eq!(summary["counts"]["processes"], 3, "{summary}");
    assert_eq!(summary["counts"]["listening"], 1, "{summary}");

    // Everything planted is found, as when the binary runs on the host.
    let x = attack::check_bundle(w, &bundle, &planted, pid);
    attack::check_shm_script(&bundle, &x);
}
