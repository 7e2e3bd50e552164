use super::*;

const PASSWD_IMAGE: &str = "root:x:0:0:root:/root:/bin/sh\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
app:x:1000:1000::/home/app:/bin/sh\n\
old:x:1001:1001::/home/old:/bin/sh\n";

fn pair<'a>(path: &'a str, image: Option<&'a str>, container: Option<&'a str>) -> FilePair<'a> {
    FilePair {
        path,
        image: image.map(str::as_bytes),
        container: container.map(str::as_bytes),
        evidence: vec!["ev".into()],
    }
}

/// `(severity, kind, message)` of each finding, sorted.
fn summary(out: &[Finding]) -> Vec<(Severity, &str, &str)> {
    for f in out {
        assert!(f.kind.allows(f.severity), "{} with severity {}", f.kind, f.severity);
    }
    let mut v: Vec<(Severity, &str, &str)> = out
        .iter()
        .map(|f| (f.severity, f.kind.as_str(), f.message.as_str()))
        .collect();
    v.sort();
    v
}

#[test]
fn passwd_changes_against_the_image() {
    let container = "root:x:0:0:root:/root:/bin/sh\n\
daemon:x:1:1:daemon:/usr/sbin:/bin/sh\n\
app:x:0:1000::/srv:/bin/sh\n\
backdoor:x:0:0::/root:/bin/sh\n\
svc:x:999:999::/var/lib/svc:/bin/false\n\
guest::1002:1002::/home/guest:/bin/sh\n";
    let mut out = Vec::new();
    passwd_findings(&pair("/etc/passwd", Some(PASSWD_IMAGE), Some(container)), &mut out);
    assert_eq!(
        summary(&out),
        [
            (
                Severity::Critical,
                "empty-password",
                "account \"guest\" has an empty password in /etc/passwd: anyone can log in as it"
            ),
            (
                Severity::Critical,
                "uid0-user-added",
                "account \"backdoor\" was added with uid 0 (root's powers), shell \"/bin/sh\""
            ),
            (
                Severity::Critical,
                "uid0-user-changed",
                "account \"app\" now has uid 0 (was 1000)"
            ),
            (
                Severity::High,
                "account-added",
                "account \"guest\" was added: uid 1002, gid 1002, home \"/home/guest\", shell \"/bin/sh\""
            ),
            (
                Severity::High,
                "account-added",
                "account \"svc\" was added: uid 999, gid 999, home \"/var/lib/svc\", shell \"/bin/false\""
            ),
            (
                Severity::High,
                "account-shell-changed",
                "account \"daemon\": shell \"/usr/sbin/nologin\" became \"/bin/sh\""
            ),
            (
                Severity::Medium,
                "account-home-changed",
                "account \"app\": home \"/home/app\" became \"/srv\""
            ),
            (Severity::Medium, "account-removed", "account \"old\" was removed"),
        ]
    );
    assert!(
        out.iter()
            .all(|f| f.path.as_deref() == Some("/etc/passwd") && f.evidence == ["ev"])
    );
}

#[test]
fn passwd_without_the_image_copy_reports_what_the_container_copy_shows() {
    let container = "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nnopw::5:5::/:/bin/sh\nbroken line\n";
    let mut out = Vec::new();
    passwd_findings(&pair("/etc/passwd", None, Some(container)), &mut out);
    assert_eq!(
        summary(&out),
        [
            (
                Severity::Critical,
                "empty-password",
                "account \"nopw\" has an empty password in /etc/passwd: anyone can log in as it"
            ),
            (
                Severity::Critical,
                "uid0-user",
                "account \"toor\" has uid 0 (root's powers); without the image's copy it cannot be told whether it is new"
            ),
            (
                Severity::High,
                "account-file-changed",
                "/etc/passwd changed; the image's content is not in the evidence (only its hash: the node's layer \
                 indexes record hashes, not contents; --image with the original image compares the entries), \
                 so its entries cannot be compared"
            ),
            (
                Severity::Low,
                "account-file-malformed",
                "/etc/passwd: lines 4 are not entries"
            ),
        ]
    );
    // Neither copy: only that it changed.
    let mut out = Vec::new();
    passwd_findings(&pair("/etc/passwd", None, None), &mut out);
    assert_eq!(
        summary(&out).iter().map(|s| s.1).collect::<Vec<_>>(),
        ["account-file-changed"]
    );
}

#[test]
fn shadow_changes() {
    let image = "root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\nsvc:$6$a$b:1::::::\ngone:*:1::::::\n";
    let container = "root:$6$salt$hash:19000:0:99999:7:::\napp::19000:0:99999:7:::\nsvc:$6$a$b:1::::::\nnew:$6$n$n:1::::::\ndup:*:1::::::\ndup:x:1::::::\n";
    let mut out = Vec::new();
    shadow_findings(&pair("/etc/shadow", Some(image), Some(container)), &mut out);
    assert_eq!(
        summary(&out),
        [
            (
                Severity::Critical,
                "empty-password",
                "account \"app\" has an empty password in /etc/shadow: anyone can log in as it"
            ),
            (
                Severity::High,
                "password-added",
                "account \"new\" was given a password hash"
            ),
            (
                Severity::High,
                "password-changed",
                "account \"root\": the password hash changed (the account was locked and now has a usable password)"
            ),
            (
                Severity::Medium,
                "account-duplicate",
                "/etc/shadow: names on more than one line (the first counts): dup"
            ),
            (
                Severity::Low,
                "shadow-entry-removed",
                "account \"gone\" was removed from /etc/shadow"
            ),
        ]
    );
    // Without the image's copy, an empty hash is still reported.
    let mut out = Vec::new();
    shadow_findings(
        &pair("/etc/shadow", None, Some("root:*:1::::::\napp::1::::::\n")),
        &mut out,
    );
    assert_eq!(
        summary(&out).iter().map(|s| s.1).collect::<Vec<_>>(),
        ["empty-password", "account-file-changed"]
    );
}

#[test]
fn group_changes() {
    let image = "root:x:0:\nwheel:x:10:alice\nstaff:x:50:\nold:x:60:\n";
    let container = "root:x:0:mallory\nwheel:x:10:alice\nstaff:x:0:bob\nnewgrp:x:70:\nzero:x:0:\n";
    let mut out = Vec::new();
    group_findings(&pair("/etc/group", Some(image), Some(container)), &mut out);
    assert_eq!(
        summary(&out),
        [
            (
                Severity::High,
                "group-added",
                "group \"zero\" was added: gid 0, members []"
            ),
            (Severity::High, "group-changed", "group \"staff\": gid 50 became 0"),
            (
                Severity::High,
                "group-member-added",
                "group \"root\" gained members [\"mallory\"]"
            ),
            (
                Severity::High,
                "group-member-added",
                "group \"staff\" gained members [\"bob\"]"
            ),
            (
                Severity::Medium,
                "group-added",
                "group \"newgrp\" was added: gid 70, members []"
            ),
            (Severity::Low, "group-removed", "group \"old\" was removed"),
        ]
    );
}
