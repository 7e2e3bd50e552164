//! `forensic show` and `forensic timeline` on a bundle collected from a real podman container:
//! the socket decoder agrees with `ss -tanp` run in the container's network namespace, the
//! process start times with the host's /proc, the body file is accepted by `mactime`
//! (sleuthkit), Falco's 12-digit container ids are matched, and a bundle that does not verify is
//! refused unless --force.

use crate::attack::DROPPER;
use crate::podman::{Container, Image, podman};
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// One TCP socket as `ss -tanp` shows it, in the decoder's words: `(local, remote, state)`, with
/// the `(pid, fd)` of its owners.
type Socket = ((String, String, String), BTreeSet<(u64, u64)>);

/// `ss` writes the wildcard of a dual-stack IPv6 socket as `*` (it knows `IPV6_V6ONLY` from
/// netlink; `/proc/net/tcp6` does not say), a zero port as `*`, and a bound device as `%dev`.
fn ss_address(a: &str) -> String {
    let (host, port) = a.rsplit_once(':').unwrap();
    let host = host.split('%').next().unwrap();
    let host = if host == "*" { "[::]" } else { host };
    let port = if port == "*" { "0" } else { port };
    format!("{host}:{port}")
}

/// ss's state names, as /proc and the decoder name them.
fn ss_state(s: &str) -> String {
    match s {
        "ESTAB" => "ESTABLISHED".into(),
        "UNCONN" => "CLOSE".into(),
        other => other
            .replace('-', "_")
            .replace("WAIT_1", "WAIT1")
            .replace("WAIT_2", "WAIT2"),
    }
}

/// `ss -tanp` in the container's network namespace (the test enters it; the collector never
/// does), TIME-WAIT rows left out (they have no owner and expire on their own).
fn ss(pid: u32) -> Vec<Socket> {
    let o = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-n", "ss", "-tanpH"])
        .output()
        .expect("nsenter and ss (util-linux, iproute2) are installed");
    assert!(o.status.success(), "ss: {}", String::from_utf8_lossy(&o.stderr));
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 || f[0] == "TIME-WAIT" {
            continue;
        }
        let users = f[5..].join(" ");
        let owners = users
            .split("pid=")
            .skip(1)
            .map(|s| {
                let pid: u64 = s.split(',').next().unwrap().parse().unwrap();
                let fd: u64 = s
                    .split("fd=")
                    .nth(1)
                    .unwrap()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                (pid, fd)
            })
            .collect();
        rows.push(((ss_address(f[3]), ss_address(f[4]), ss_state(f[0])), owners));
    }
    rows.sort();
    rows
}

/// The TCP sockets of `show network --json`, the same way (TIME_WAIT left out).
fn shown_tcp(v: &Value) -> Vec<Socket> {
    let mut rows: Vec<Socket> = v["inet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["proto"].as_str().unwrap().starts_with("tcp") && s["state"] != "TIME_WAIT")
        .map(|s| {
            let key = (
                s["local"].as_str().unwrap().to_string(),
                s["remote"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            );
            let owners = s["owners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| (o["pid"].as_u64().unwrap(), o["fd"].as_u64().unwrap()))
                .collect();
            (key, owners)
        })
        .collect();
    rows.sort();
    rows
}

/// A Falco log with one alert of this container (by its 12-digit id) and one of another.
fn falco_log(path: &Path, id12: &str, name: &str) {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
    let alert = |id: &str, rule: &str| {
        serde_json::json!({
            "hostname": "node-1",
            "output": format!("{now}: Warning {rule} (user=root command=nc -l -p 4444 container_id={id} container_name={name})"),
            "priority": "Warning",
            "rule": rule,
            "source": "syscall",
            "tags": ["container", "network"],
            "time": now,
            "output_fields": {"container.id": id, "container.name": name, "proc.cmdline": "nc -l -p 4444"}
        })
        .to_string()
    };
    let text = format!(
        "{}\n{}\n",
        alert(id12, "Netcat Remote Code Execution in Container"),
        alert("0123456789ab", "Another container's alert")
    );
    std::fs::write(path, text).unwrap();
}

/// A file's metadata as coreutils `stat` reads it through `/proc/PID/root` (an oracle that
/// shares no code with the collector).
struct Stat {
    size: u64,
    mode: String,
    uid: u32,
    gid: u32,
    inode: u64,
    /// Modification and change times, in seconds.
    mc: [i64; 2],
}

fn coreutils_stat(pid: u32, path: &str) -> Stat {
    let o = Command::new("stat")
        .args(["-c", "%s %A %u %g %i %Y %Z", &format!("/proc/{pid}/root{path}")])
        .output()
        .expect("stat (coreutils) runs");
    assert!(o.status.success(), "stat: {}", stderr(&o));
    let text = stdout(&o);
    let f: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(f.len(), 7, "{text}");
    Stat {
        size: f[0].parse().unwrap(),
        mode: f[1].to_string(),
        uid: f[2].parse().unwrap(),
        gid: f[3].parse().unwrap(),
        inode: f[4].parse().unwrap(),
        mc: [f[5].parse().unwrap(), f[6].parse().unwrap()],
    }
}

impl Stat {
    /// The `(date, "size,macb,mode,uid,gid,inode")` rows `mactime -y -d` prints for the file:
    /// one per distinct time; the body file leaves access and birth times unrecorded (-1, which
    /// mactime leaves out).
    fn mactime_rows(&self) -> BTreeSet<(String, String)> {
        let [m, c] = self.mc;
        let mut times: Vec<i64> = vec![m, c];
        times.sort_unstable();
        times.dedup();
        times
            .into_iter()
            .map(|t| {
                let letter = |x: i64, l: char| if x == t { l } else { '.' };
                let macb: String = [letter(m, 'm'), '.', letter(c, 'c'), '.'].into_iter().collect();
                let date = chrono::DateTime::from_timestamp(t, 0)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                // mactime writes a regular file's mode with an `r/r` prefix.
                let mode = format!("r/r{}", &self.mode[1..]);
                let (size, uid, gid, inode) = (self.size, self.uid, self.gid, self.inode);
                (date, format!("{size},{macb},{mode},{uid},{gid},{inode}"))
            })
            .collect()
    }
}

/// Start time of a host process from the host's /proc, as the analysis computes it: btime +
/// starttime / 100 + 0.505 s (the middle of the window the start lies in), to hundredths.
/// The window a process's start lies in, from the host's `/proc` (an oracle independent of the
/// collector): `btime` is whole seconds, so [btime + ticks·10 ms, that + 1.01 s), in ns.
fn host_window(pid: u64) -> (i64, i64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let btime: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pstat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = pstat.rsplit_once(')').unwrap().1;
    // Field 22 (starttime) is the 20th after the command name.
    let ticks: i64 = after_comm.split_whitespace().nth(19).unwrap().parse().unwrap();
    let lo = btime * 1_000_000_000 + ticks * 10_000_000;
    (lo, lo + 1_010_000_000)
}

fn host_start(pid: u64) -> String {
    let (lo, hi) = host_window(pid);
    forensic_analysis::time::format_ns_digits((lo + hi) / 2, 2)
}

fn show_json(bundle: &str, what: &str, extra: &[&str]) -> Value {
    let mut args = vec!["show", bundle, what, "--json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(code(&o), 0, "show {what}: {}{}", stdout(&o), stderr(&o));
    json(&o)
}

fn timeline(bundle: &str, args: &[&str]) -> String {
    let mut all = vec!["timeline", bundle];
    all.extend_from_slice(args);
    let o = run(&all);
    assert_eq!(code(&o), 0, "timeline {args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn show_and_timeline_of_an_attacked_podman_container() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("s{}", std::process::id());
    let image = Image::build_with(w, &tag, &[("etc/show-e2e", b"show\n")]);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let dropper = String::from_utf8(DROPPER.to_vec()).unwrap();
    c.sh(&format!(
        "printf '%s' '{dropper}' > /tmp/dropper.sh && chmod 755 /tmp/dropper.sh \
         && echo 'backdoor:x:0:0::/root:/bin/sh' >> /etc/passwd"
    ));
    // A backdoor on IPv6 (dual-stack wildcard), a web server on IPv4 loopback, and one
    // connection between two processes of the container (IPv4 client, IPv4-mapped IPv6 server).
    c.spawn("exec nc -l -p 4444");
    c.spawn("exec /bin/busybox httpd -f -p 127.0.0.1:8080 -h /tmp");
    c.spawn("sleep 100000 | nc -l -p 4446");
    let pid = c.pid();
    c.wait_for("the listeners", || {
        ss(pid).iter().filter(|s| s.0.2 == "LISTEN").count() == 3
    });
    c.spawn("sleep 100000 | nc 127.0.0.1 4446");
    c.wait_for("the connection", || {
        ss(pid).iter().filter(|s| s.0.2 == "ESTABLISHED").count() == 2
    });
    let before = ss(pid);

    let id = String::from_utf8(podman(&["inspect", "--format", "{{.Id}}", &c.name]).stdout).unwrap();
    let id = id.trim();
    let falco = w.join("falco.log");
    falco_log(&falco, &id[..12], &c.name);
    let (key, _) = keygen(w, "responder");
    let bundle = w.join("attacked.zip");
    let audit_log = sample("k8s-audit/elastic-test-audit.log");
    c.collect(
        &bundle,
        &key,
        &["--falco-log", s(&falco), "--audit-log", s(&audit_log), "--quiet"],
    );
    assert_eq!(ss(pid), before, "the sockets changed while collecting: compare again");
    let b = bundle.to_str().unwrap();

    // network: every TCP socket ss shows, with the same owners, decoded from /proc/<pid>/net.
    let net = show_json(b, "network", &[]);
    assert_eq!(
        (&net["schema"], &net["view"], &net["verified"]),
        (&"forensic-show/1".into(), &"network".into(), &true.into())
    );
    assert_eq!(shown_tcp(&net), before, "show network vs ss -tanp");
    let families: BTreeSet<&str> = net["inet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["family"].as_str().unwrap())
        .collect();
    assert_eq!(families, BTreeSet::from(["ipv4", "ipv6"]));
    let backdoor = net["inet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local"] == "[::]:4444")
        .expect("the listener on 4444");
    assert_eq!(backdoor["state"], "LISTEN");
    assert_eq!(backdoor["owners"][0]["cmdline"], "nc -l -p 4444");
    assert_eq!(backdoor["evidence"], "2-network/proc-net/tcp6");
    let nc_pid = backdoor["owners"][0]["pid"].as_u64().unwrap();
    let text = stdout(&run(&["show", b, "network"]));
    assert!(
        text.lines().any(|l| l.starts_with("tcp6   LISTEN")
            && l.contains("[::]:4444")
            && l.contains(&format!("pid {nc_pid} fd 3 nc -l -p 4444"))),
        "{text}"
    );

    // processes: the tree, with start times that agree with the host's /proc.
    let procs = show_json(b, "processes", &[]);
    assert!(procs["boot_time"].is_string(), "{procs}");
    let rows = procs["processes"].as_array().unwrap();
    assert_eq!(rows[0]["pid"], pid, "the container's first process is the root");
    assert_eq!(rows[0]["depth"], 0);
    let nc = rows.iter().find(|p| p["pid"] == nc_pid).unwrap();
    assert_eq!(nc["cmdline"], serde_json::json!(["nc", "-l", "-p", "4444"]));
    assert_eq!(nc["start_time"], host_start(nc_pid).as_str());
    assert_eq!(rows[0]["start_time"], host_start(u64::from(pid)).as_str());
    assert_eq!(nc["exe"], "/bin/busybox");

    // files: the dropped script, with its SHA-256.
    let files = show_json(b, "files", &["--path", "/tmp", "--executable"]);
    let listed: Vec<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["/tmp/dropper.sh"]);
    assert_eq!(
        files["files"][0]["sha256"],
        forensic_bundle::digest::Digest::of(DROPPER).hex().as_str()
    );
    assert_eq!(files["shown"], 1);
    let raw = stdout(&run(&["show", b, "files", "--json", "--setuid"]));
    assert_eq!(
        raw.matches("\"warnings\"").count(),
        1,
        "one key, written after the stream: {raw}"
    );
    assert_eq!(
        json(&run(&["show", b, "files", "--json", "--setuid"]))["files"],
        serde_json::json!([])
    );

    // suspicious: the checklist's items, each with its evidence; Falco matched by 12 digits.
    let sus = show_json(b, "suspicious", &[]);
    let findings = sus["findings"].as_array().unwrap();
    let find = |kind: &str, needle: &str| {
        findings
            .iter()
            .find(|f| f["kind"] == kind && f["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no {kind} finding with {needle:?}: {sus:#}"))
    };
    assert_eq!(find("executable-in-temp-dir", "/tmp/dropper.sh")["severity"], "high");
    assert_eq!(find("uid0-user", "backdoor")["severity"], "critical");
    let listener = find("listening-socket", "[::]:4444");
    assert_eq!(
        listener["evidence"][0].as_str().unwrap().split(':').next(),
        Some("2-network/proc-net/tcp6")
    );
    assert!(
        listener["message"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {nc_pid} fd 3 (nc -l -p 4444)"))
    );
    let alert = find("falco-alert", "Netcat Remote Code Execution in Container (1 alerts at ");
    assert_eq!(alert["severity"], "medium");
    assert!(
        alert["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with("8-alerts/falco.log line 1: ")
    );
    assert_eq!(
        find("falco-other-containers", "1 of 2")["evidence"],
        serde_json::json!(["8-alerts/falco.log"])
    );

    // summary: counts and the custody head verify prints.
    let summary = show_json(b, "summary", &[]);
    let verified = json(&run(&["verify", b, "--json"]));
    assert_eq!(summary["custody"]["head_sha256"], verified["custody_head_sha256"]);
    assert_eq!(summary["target"]["container_id"], id);
    // nc -l stops listening once it accepted its one connection: 4444 and 8080 remain.
    assert_eq!(summary["counts"]["listening"], 2);
    assert_eq!(summary["counts"]["alerts_for_container"], 1);
    assert_eq!(summary["sections"].as_array().unwrap().len(), 9);
    assert_eq!(summary["top_findings"][0]["severity"], "critical");

    // timeline: one order across sources; the container's alert only, unless --all-alerts.
    let lines: Vec<Value> = timeline(b, &["--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let times: Vec<i64> = lines.iter().map(|e| e["time_ns"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|t| t[0] <= t[1]), "time-ordered");
    let sources: BTreeSet<&str> = lines.iter().map(|e| e["source"].as_str().unwrap()).collect();
    assert_eq!(
        sources,
        BTreeSet::from([
            "audit",
            "collection",
            "container",
            "custody",
            "falco",
            "file",
            "process"
        ])
    );
    let falco_events: Vec<&Value> = lines.iter().filter(|e| e["source"] == "falco").collect();
    assert_eq!(falco_events.len(), 1);
    assert_eq!(falco_events[0]["evidence"], "8-alerts/falco.log line 1");
    let all = timeline(b, &["--format", "jsonl", "--all-alerts"]);
    assert_eq!(all.lines().filter(|l| l.contains("\"source\":\"falco\"")).count(), 2);
    let start = lines
        .iter()
        .find(|e| e["source"] == "process" && e["detail"]["pid"] == nc_pid)
        .unwrap();
    // The event is the start's window: within [btime + ticks, btime + ticks + 1.01 s), the
    // window `btime`'s whole seconds leave (cut at the container's creation when it holds it).
    let (lo, hi) = host_window(nc_pid);
    let (t, u) = (
        start["time_ns"].as_i64().unwrap(),
        start["uncertainty_ns"].as_i64().unwrap(),
    );
    assert!(lo <= t - u && t + u <= hi, "{start} outside [{lo}, {hi}]");
    let csv = timeline(b, &["--format", "csv", "--since", "1h"]);
    assert_eq!(
        csv.lines().next(),
        Some("time,time_ns,source,kind,description,evidence")
    );

    // bodyfile: mactime (sleuthkit) reads it.
    let body = w.join("body.txt");
    std::fs::write(&body, timeline(b, &["--format", "bodyfile"])).unwrap();
    let dropper_stat = coreutils_stat(pid, "/tmp/dropper.sh");
    let o = Command::new("mactime")
        .args(["-b", body.to_str().unwrap(), "-y", "-d"])
        .env("TZ", "UTC")
        .output()
        .expect("mactime (Debian package sleuthkit) is installed");
    assert!(o.status.success(), "mactime: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    let mactime = String::from_utf8_lossy(&o.stdout).into_owned();
    let row = |needle: &str| {
        mactime
            .lines()
            .find(|l| l.contains(needle) && !l.starts_with("0000-00-00"))
            .unwrap_or_else(|| panic!("mactime shows no {needle:?}:\n{mactime}"))
            .to_string()
    };
    // -d: Date,Size,Type,Mode,UID,GID,Meta,"File Name"; one row per distinct time, the date
    // written only when it changes. The oracle: coreutils stat of the file, read from the host.
    let mut date = String::new();
    let mut dropper_rows = BTreeSet::new();
    for line in mactime.lines().skip(1) {
        let f: Vec<&str> = line.splitn(8, ',').collect();
        if !f[0].is_empty() {
            date = f[0].to_string();
        }
        if f.get(7) == Some(&"\"/tmp/dropper.sh\"") {
            dropper_rows.insert((date.clone(), f[1..7].join(",")));
        }
    }
    assert_eq!(dropper_rows, dropper_stat.mactime_rows(), "{mactime}");
    assert!(row("[falco] Warning: Netcat Remote Code Execution in Container").contains(",macb,"));
    assert!(row(&format!("[process] start: pid {nc_pid} ")).contains("nc -l -p 4444"));
    // With a date range, the unrecorded access and birth times (0) are left out.
    let o = Command::new("mactime")
        .args(["-b", body.to_str().unwrap(), "-y", "2000-01-01"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("0000-00-00"));

    refused_unless_forced(w, &bundle);
}

/// A bundle whose process list was changed after sealing.
fn refused_unless_forced(w: &Path, bundle: &Path) {
    let mut m = members(&std::fs::read(bundle).unwrap());
    let procs = m
        .iter_mut()
        .find(|(n, _, _)| n == "1-processes/processes.json")
        .unwrap();
    let text = String::from_utf8(procs.1.clone()).unwrap();
    procs.1 = text.replace("\"nc\"", "\"ok\"").into_bytes();
    let bad = w.join("tampered.zip");
    std::fs::write(&bad, rezip(&m)).unwrap();
    let b = bad.to_str().unwrap();
    for args in [
        vec!["show", b, "processes"],
        vec!["timeline", b, "--format", "bodyfile"],
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 1, "{args:?}: {}{}", stdout(&o), stderr(&o));
        assert_eq!(stdout(&o), "");
        assert!(stderr(&o).contains("did not verify"), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("digest-mismatch: 1-processes/processes.json"),
            "{}",
            stderr(&o)
        );
    }
    // Shown with --force: exit 1 all the same (README, "Exit codes").
    let o = run(&["show", b, "processes", "--force"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let first = stdout(&o).lines().next().unwrap().to_string();
    assert!(first.starts_with(&format!("WARNING: {b} DID NOT VERIFY")), "{first}");
    assert!(stdout(&o).contains("WARNING: member 1-processes/processes.json does not match the manifest"));
    let o = run(&["timeline", b, "--format", "bodyfile", "--force"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).starts_with(&format!("# WARNING: {b} DID NOT VERIFY")));
    let v = json(&run(&["show", b, "summary", "--json", "--force"]));
    assert_eq!((&v["verified"], &v["forced"]), (&false.into(), &true.into()));
    assert_eq!(v["verification_failures"][0]["class"], "digest-mismatch");
}
