//! The Docker Engine API through bollard against a real dockerd 20.10 started by this test (own
//! data root, exec root and socket, over its own containerd), with an image loaded from the
//! docker-archive built from the host's busybox-static. docs/dev/runtimes.md §3.3, §4, §6.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use forensic_bundle::time::Timestamp;
use forensic_evidence::records::api::{Api, ApiOutcome};
use forensic_runtime::CallLog;
use forensic_runtime::docker::Host;
use support::{Containerd, Dockerd, IMAGE, docker_archive};

#[test]
fn inspect_logs_image_and_list_through_the_engine_api() {
    let base = tempfile::Builder::new().prefix("fr-dk").tempdir_in("/tmp").unwrap();
    let ctd = Containerd::start(base.path());
    let dk = Dockerd::start(base.path(), &ctd.socket);
    let archive = base.path().join("image.tar");
    docker_archive(&archive);
    dk.ok(&["load", "-q", "-i", archive.to_str().unwrap()]);
    let id = dk
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--label",
            "forensic.test=docker-api",
            IMAGE,
            "/bin/sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2; exec /bin/sleep 1000",
        ])
        .trim()
        .to_string();
    let pid: u32 = dk.ok(&["inspect", "-f", "{{.State.Pid}}", &id]).trim().parse().unwrap();
    // The container has written both lines before the logs are asked for.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while dk.ok(&["logs", &id]).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let now = || Timestamp::from_unix_nanos(1_700_000_000_000_000_000).unwrap();
    let mut log = CallLog::new(&now);
    let host = Host::from_docker_host(Some(&format!("unix://{}", dk.socket.display()))).unwrap();
    assert_eq!(host.ping(&mut log).unwrap(), "OK");

    let inspect: serde_json::Value = serde_json::from_slice(&host.inspect_container(&mut log, &id).unwrap()).unwrap();
    assert_eq!(inspect["Id"].as_str(), Some(id.as_str()));
    assert_eq!(inspect["State"]["Pid"].as_u64(), Some(u64::from(pid)));
    assert_eq!(inspect["GraphDriver"]["Name"].as_str(), Some("overlay2"));
    assert!(
        inspect["GraphDriver"]["Data"]["UpperDir"]
            .as_str()
            .unwrap()
            .starts_with(base.path().to_str().unwrap())
    );

    let mut out = Vec::new();
    let (n, truncated) = host.logs(&mut log, &id, &mut out, 1 << 20).unwrap();
    assert_eq!((n, truncated), (out.len() as u64, false));
    let text = String::from_utf8(out.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
    lines.sort_unstable();
    assert_eq!(lines, ["to-stderr", "to-stdout"]);
    // Each line as the CLI prints it with --timestamps (stdout and stderr together).
    let cli = dk.docker(&["logs", "--timestamps", &id]);
    let mut cli_lines: Vec<String> = String::from_utf8_lossy(&cli.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&cli.stderr).lines())
        .map(str::to_string)
        .collect();
    cli_lines.sort_unstable();
    let mut api_lines: Vec<String> = text.lines().map(str::to_string).collect();
    api_lines.sort_unstable();
    assert_eq!(api_lines, cli_lines);
    let mut capped = Vec::new();
    assert_eq!(host.logs(&mut log, &id, &mut capped, 5).unwrap(), (5, true));
    assert_eq!(capped, out[..5]);

    let image: serde_json::Value = serde_json::from_slice(&host.inspect_image(&mut log, IMAGE).unwrap()).unwrap();
    assert_eq!(image["RootFS"]["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(inspect["Image"], image["Id"]);

    let found = host.list_by_label(&mut log, "forensic.test=docker-api").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, id);
    assert_eq!(found[0].state.as_deref(), Some("running"));
    assert!(host.list_by_label(&mut log, "forensic.test=none").unwrap().is_empty());

    let e = host.inspect_container(&mut log, "no-such-container").unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(
        log.calls
            .iter()
            .all(|c| c.api == Api::Docker && c.socket == dk.socket.display().to_string())
    );
    assert_eq!(log.calls.last().unwrap().outcome, ApiOutcome::NotFound);
    drop(dk);
    drop(ctd);
}
