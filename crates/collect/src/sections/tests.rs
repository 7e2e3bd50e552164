//! The sections that shell out (kubectl logs, kubectl get/describe/events, journalctl, the
//! runtime's logs), run against [`FakeRunner`]: the exact command lines asked for, and the
//! answers stored byte for byte with their command line and exit status as the source.
//!
//! The target is resolved from a real `crictl inspect` capture (`shared/samples/crictl-inspect`);
//! the Falco journal is the real Falco output of `shared/samples/falco`. No captured `kubectl`
//! output exists in the samples: the kubectl answers are written here in kubectl's formats.

use super::{logs, logsources, podspec};
use crate::CollectOptions;
use crate::command::{CommandRecord, FakeRunner, argv};
use crate::ctx::Ctx;
use crate::procs::ProcRoot;
use crate::sink::MemorySink;
use crate::target::{Resolved, Runtime, TargetSpec, resolve};
use forensic_bundle::manifest::{RawPath, Source};
use forensic_disk::Clock;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CRICTL_SAMPLE: &str = "crictl-inspect/bpfman-operator-containerd-kind.json";
const FALCO_SAMPLE: &str = "falco/elastic-test-falco.log";
/// The container of the crictl sample, its pod, namespace and name.
const ID: &str = "b1f06ea545e81d89dc503414d20a33f1b3f3eca71e3a4344fd16ddc202cc8129";
const POD: &str = "bpfman-operator-65747dc769-pjztg";
const NS: &str = "bpfman";
const NAME: &str = "bpfman-operator";
/// The runtime's log file the sample names (absent here).
const LOG_PATH: &str =
    "/var/log/pods/bpfman_bpfman-operator-65747dc769-pjztg_4cad64d0-7a36-452a-8a08-bd3a694cdad5/bpfman-operator/0.log";

fn options() -> CollectOptions {
    CollectOptions::new(
        TargetSpec::Container {
            id: ID.into(),
            runtime: Some(Runtime::Crictl),
        },
        PathBuf::from("/nonexistent/b.zip"),
        std::sync::Arc::new(forensic_bundle::keys::signing_key_from_seed(&[7; 32])),
        "tester".into(),
    )
}

/// The sample's container, resolved through `crictl inspect` (its PID made to exist in a fake
/// `/proc`); the runner's record of what was asked is cleared afterwards.
fn crictl_target(r: &mut FakeRunner, proc: &Path) -> Resolved {
    let inspect = forensic_samples::read(CRICTL_SAMPLE).unwrap();
    r.answer(&["crictl", "inspect", "-o", "json", ID], 0, &inspect, b"");
    std::fs::create_dir_all(proc.join("2092")).unwrap();
    let spec = TargetSpec::Container {
        id: ID.into(),
        runtime: Some(Runtime::Crictl),
    };
    let t = resolve(&spec, r, &ProcRoot(proc.into()), "kind-control-plane").unwrap();
    assert_eq!(t.pod, Some((POD.into(), NS.into())));
    r.asked.borrow_mut().clear();
    t
}

type Collector = fn(&mut Ctx<'_>, &mut dyn crate::sink::Sink) -> std::io::Result<()>;

/// Runs one section collector; returns what it wrote and the commands it recorded.
fn run(
    collector: Collector,
    r: &FakeRunner,
    target: &mut Resolved,
    opts: &CollectOptions,
) -> (MemorySink, Vec<CommandRecord>) {
    let clock = Clock::new().unwrap();
    let proc = ProcRoot::default();
    let mut ctx = Ctx {
        opts,
        runner: r,
        clock: &clock,
        proc: &proc,
        target,
        pids: Vec::new(),
        socket_owners: BTreeMap::new(),
        commands: Vec::new(),
        api_calls: Vec::new(),
        counts: BTreeMap::new(),
        digests: None,
        layer_records: None,
        overlay: Default::default(),
    };
    let mut sink = MemorySink::default();
    collector(&mut ctx, &mut sink).unwrap();
    (sink, ctx.commands)
}

/// The source a command's member records: its argv and exit status.
fn command_source(parts: &[&str], exit: i64) -> Source {
    Source::Command {
        argv: parts.iter().map(|a| RawPath::Text(a.to_string())).collect(),
        exit: Some(exit),
    }
}

/// `(name, source, content)` of every member written.
fn members(sink: &MemorySink) -> Vec<(&str, &Source, &[u8])> {
    sink.members
        .iter()
        .map(|(m, c, _)| (m.name.as_str(), &m.source, c.as_slice()))
        .collect()
}

fn asked(r: &FakeRunner) -> Vec<Vec<String>> {
    r.asked.borrow().clone()
}

#[test]
fn logs_run_the_runtime_and_kubectl_current_and_previous_with_the_recorded_command_lines() {
    let proc = tempfile::tempdir().unwrap();
    let mut r = FakeRunner::default();
    let mut target = crictl_target(&mut r, proc.path());
    let crictl_logs = ["crictl", "logs", "--timestamps", ID];
    let current = ["kubectl", "logs", POD, "-n", NS, "-c", NAME, "--timestamps"];
    let previous = [
        "kubectl",
        "logs",
        POD,
        "-n",
        NS,
        "-c",
        NAME,
        "--timestamps",
        "--previous",
    ];
    let log = b"2024-01-15T10:00:00.000000001Z stdout F reconciling\n2024-01-15T10:00:01Z stderr P no newline \xff";
    let kubectl_log = b"2024-01-15T10:00:00.000000001Z reconciling\n";
    // kubectl's answer when the container never restarted.
    let no_previous = format!(
        "Error from server (BadRequest): previous terminated container \"{NAME}\" in pod \"{POD}\" not found\n"
    );
    r.answer(&crictl_logs, 0, log, b"");
    r.answer(&current, 0, kubectl_log, b"");
    r.answer(&previous, 1, b"", no_previous.as_bytes());
    let (sink, commands) = run(logs::collect, &r, &mut target, &options());

    assert_eq!(asked(&r), [argv(&crictl_logs), argv(&current), argv(&previous)]);
    assert_eq!(
        members(&sink),
        [
            ("container.log", &command_source(&crictl_logs, 0), &log[..]),
            ("kubectl-logs.txt", &command_source(&current, 0), &kubectl_log[..]),
            ("kubectl-logs-previous.txt", &command_source(&previous, 1), &b""[..]),
            (
                "kubectl-logs-previous.txt.stderr",
                &command_source(&previous, 1),
                no_previous.as_bytes()
            ),
        ]
    );
    assert_eq!(
        sink.gaps,
        [
            // The CRI log file lies in the kubelet's log directory of the container, which is
            // copied whole instead (CONTENTS.md §16); it is absent here.
            (
                Path::new(LOG_PATH).parent().unwrap().display().to_string(),
                "the kubelet's log directory could not be opened: No such file or directory (os error 2)".to_string()
            ),
            (
                previous.join(" "),
                format!("exit status Some(1): {}", no_previous.trim())
            ),
        ]
    );
    let ran: Vec<(Vec<String>, Option<i32>)> = commands.into_iter().map(|c| (c.argv, c.exit)).collect();
    assert_eq!(
        ran,
        [
            (argv(&crictl_logs), Some(0)),
            (argv(&current), Some(0)),
            (argv(&previous), Some(1))
        ]
    );
}

#[test]
fn without_kubectl_the_pod_logs_and_pod_queries_are_gaps() {
    let proc = tempfile::tempdir().unwrap();
    let mut r = FakeRunner::default();
    let mut target = crictl_target(&mut r, proc.path());
    r.answer(&["crictl", "logs", "--timestamps", ID], 0, b"", b"");
    let (sink, _) = run(logs::collect, &r, &mut target, &options());
    assert_eq!(asked(&r), [argv(&["crictl", "logs", "--timestamps", ID])]);
    assert!(
        sink.gaps
            .contains(&("kubectl logs".into(), "kubectl is not installed here".into())),
        "{:?}",
        sink.gaps
    );
    r.asked.borrow_mut().clear();
    let (sink, _) = run(podspec::collect, &r, &mut target, &options());
    assert_eq!(asked(&r), Vec::<Vec<String>>::new());
    assert_eq!(
        sink.gaps,
        [(
            "kubectl get pod / describe / events".to_string(),
            "kubectl is not installed here".to_string()
        )]
    );
}

#[test]
fn podspec_keeps_the_inspect_output_and_asks_kubectl_for_the_pod_description_and_events() {
    let proc = tempfile::tempdir().unwrap();
    let mut r = FakeRunner::default();
    let mut target = crictl_target(&mut r, proc.path());
    let yaml_argv = ["kubectl", "get", "pod", POD, "-n", NS, "-o", "yaml"];
    let describe_argv = ["kubectl", "describe", "pod", POD, "-n", NS];
    let selector = format!("involvedObject.name={POD}");
    let events_argv = [
        "kubectl",
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        &selector,
        "--sort-by=.lastTimestamp",
    ];
    let yaml = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {POD}\n  namespace: {NS}\n");
    let describe = format!("Name:         {POD}\nNamespace:    {NS}\nNode:         kind-control-plane/172.18.0.2\n");
    let events = "LAST SEEN   TYPE     REASON    OBJECT                                 MESSAGE\n\
                  2m          Normal   Pulled    pod/bpfman-operator-65747dc769-pjztg   Container image already present\n";
    r.answer(&yaml_argv, 0, yaml.as_bytes(), b"");
    r.answer(&describe_argv, 0, describe.as_bytes(), b"");
    r.answer(&events_argv, 0, events.as_bytes(), b"");
    let (sink, commands) = run(podspec::collect, &r, &mut target, &options());

    assert_eq!(asked(&r), [argv(&yaml_argv), argv(&describe_argv), argv(&events_argv)]);
    let inspect = forensic_samples::read(CRICTL_SAMPLE).unwrap();
    let written = members(&sink);
    let names: Vec<&str> = written.iter().map(|m| m.0).collect();
    assert_eq!(
        names,
        [
            "inspect.json",
            "container.json",
            "pod.yaml",
            "pod-describe.txt",
            "events.txt"
        ]
    );
    assert_eq!(
        written[0],
        (
            "inspect.json",
            &command_source(&["crictl", "inspect", "-o", "json", ID], 0),
            &inspect[..]
        ),
        "the runtime's inspect output, verbatim"
    );
    let record: serde_json::Value = serde_json::from_slice(written[1].2).unwrap();
    assert_eq!(
        (&record["id"], &record["pid"], &record["pod"], &record["namespace"]),
        (&ID.into(), &2092.into(), &POD.into(), &NS.into())
    );
    assert_eq!(
        written[2],
        ("pod.yaml", &command_source(&yaml_argv, 0), yaml.as_bytes())
    );
    assert_eq!(
        written[3],
        (
            "pod-describe.txt",
            &command_source(&describe_argv, 0),
            describe.as_bytes()
        )
    );
    assert_eq!(
        written[4],
        ("events.txt", &command_source(&events_argv, 0), events.as_bytes())
    );
    assert_eq!(sink.gaps, Vec::<(String, String)>::new());
    assert_eq!(commands.len(), 4, "inspect and the three kubectl queries");
}

#[test]
fn alerts_come_from_the_falco_unit_journal_byte_for_byte() {
    let journal = ["journalctl", "-u", "falco", "--no-pager", "-o", "cat", "-q"];
    let falco = forensic_samples::read(FALCO_SAMPLE).unwrap();
    let mut r = FakeRunner::default();
    r.answer(&journal, 0, &falco, b"");
    let mut target = crictl_target(&mut r, tempfile::tempdir().unwrap().path());
    let (sink, commands) = run(logsources::alerts, &r, &mut target, &options());
    assert_eq!(asked(&r), [argv(&journal)]);
    assert_eq!(
        members(&sink),
        [("falco-journal.txt", &command_source(&journal, 0), &falco[..])]
    );
    assert_eq!(sink.gaps, Vec::<(String, String)>::new());
    assert_eq!(commands.len(), 1);

    // journalctl fails (no journal here): its stderr is kept, and the alerts are a gap.
    let mut r = FakeRunner::default();
    r.answer(&journal, 1, b"", b"No journal files were found.\n");
    let (sink, _) = run(logsources::alerts, &r, &mut target, &options());
    assert_eq!(asked(&r), [argv(&journal)]);
    assert_eq!(
        sink.gaps,
        [
            (
                journal.join(" "),
                "exit status Some(1): No journal files were found.".to_string()
            ),
            (
                "Falco alerts".to_string(),
                "not collected: journalctl -u falco failed (is Falco installed here?)".to_string()
            ),
        ]
    );
    assert_eq!(members(&sink), [], "no empty journal is stored as if it held 0 alerts");

    // No falco unit (journalctl exits 0 with nothing): a gap, not an empty journal of 0 alerts.
    for empty in [&b""[..], b"-- No entries --\n"] {
        let mut r = FakeRunner::default();
        r.answer(&journal, 0, empty, b"");
        let (sink, commands) = run(logsources::alerts, &r, &mut target, &options());
        assert_eq!(members(&sink), [], "{empty:?}");
        assert_eq!(commands.len(), 1, "the command stays on record");
        assert_eq!(sink.gaps.len(), 1);
        assert_eq!(sink.gaps[0].0, "Falco alerts");
        assert!(
            sink.gaps[0]
                .1
                .starts_with("not collected: `journalctl -u falco` has no entries"),
            "{:?}",
            sink.gaps
        );
    }

    // No journalctl at all, and no --falco-log: a gap, nothing run.
    let r = FakeRunner::default();
    let (sink, _) = run(logsources::alerts, &r, &mut target, &options());
    assert_eq!(asked(&r), Vec::<Vec<String>>::new());
    assert_eq!(
        sink.gaps,
        [(
            "Falco alerts".to_string(),
            "not collected: no --falco-log given and no journalctl on this node".to_string()
        )]
    );
}

#[test]
fn a_docker_container_is_found_after_podman_fails_and_its_logs_come_from_docker_logs() {
    // docker-inspect.json: forensic-proc's fixture in Docker Engine 25's layout (the shared
    // samples hold no docker output).
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proc/tests/fixtures/docker-inspect.json");
    let inspect = std::fs::read(fixture).unwrap();
    let id = "5424626b932a2ff9d191f0982447a979fddd8b4be251e924370cb66900df018e";
    let podman_inspect = ["podman", "inspect", "--type", "container", "shop-web-1"];
    let docker_inspect = ["docker", "inspect", "--type", "container", "shop-web-1"];
    let docker_logs = ["docker", "logs", "--timestamps", id];
    let mut r = FakeRunner::default();
    r.answer(&podman_inspect, 125, b"[]\n", b"Error: no such container shop-web-1\n");
    r.answer(&docker_inspect, 0, &inspect, b"");
    r.answer(&docker_logs, 0, b"2024-03-11T09:14:28.000000000Z ready\n", b"");
    let proc = tempfile::tempdir().unwrap();
    std::fs::create_dir(proc.path().join("31337")).unwrap();
    let spec = TargetSpec::Container {
        id: "shop-web-1".into(),
        runtime: None,
    };
    let mut target = resolve(&spec, &r, &ProcRoot(proc.path().into()), "node-1").unwrap();
    assert_eq!(asked(&r), [argv(&podman_inspect), argv(&docker_inspect)]);
    assert_eq!((target.pid, target.runtime), (31337, Some(Runtime::DockerCli)));
    let exits: Vec<Option<i32>> = target.commands.iter().map(|c| c.exit).collect();
    assert_eq!(exits, [Some(125), Some(0)], "both attempts are recorded");
    let record = target.record.as_ref().unwrap();
    assert_eq!((record.id.as_str(), record.name.as_deref()), (id, Some("shop-web-1")));
    let log_path = format!("/var/lib/docker/containers/{id}/{id}-json.log");
    assert_eq!(record.log_path.as_deref(), Some(log_path.as_str()));
    assert_eq!(target.pod, None, "a Compose container is in no pod");

    r.asked.borrow_mut().clear();
    let (sink, _) = run(logs::collect, &r, &mut target, &options());
    assert_eq!(asked(&r), [argv(&docker_logs)]);
    assert_eq!(
        members(&sink),
        [(
            "container.log",
            &command_source(&docker_logs, 0),
            &b"2024-03-11T09:14:28.000000000Z ready\n"[..]
        )]
    );
    assert_eq!(
        sink.gaps,
        [(
            log_path,
            "the runtime's log file could not be opened: No such file or directory (os error 2)".to_string()
        )]
    );
    let (sink, _) = run(podspec::collect, &r, &mut target, &options());
    assert_eq!(
        members(&sink).first(),
        Some(&("inspect.json", &command_source(&docker_inspect, 0), &inspect[..])),
        "docker inspect output, verbatim"
    );
}
