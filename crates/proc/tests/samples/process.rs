//! `/proc/<pid>/{status,stat,maps}` captured from the host for a podman container's `sleep`
//! process (see `tests/fixtures/README.md`).

use forensic_proc::ByteString;
use forensic_proc::inspect::from_podman;
use forensic_proc::process::{Perms, Stat, Status, capability_names, parse_maps, parse_stat, parse_status, suspicious};

use crate::{fixture, fixture_text};

/// podman's default capability set, as `CapEff` shows it.
const PODMAN_DEFAULT_CAPS: u64 = 0x8004_05fb;

#[test]
fn status_of_a_containerised_process() {
    let status = parse_status(&fixture("proc-pid/status")).unwrap();
    assert_eq!(
        status,
        Status {
            name: "sleep".into(),
            state: 'S',
            tgid: 18643,
            pid: 18643,
            ppid: 18633,
            tracer_pid: 0,
            uid: [0; 4],
            gid: [0; 4],
            ns_pid: vec![18643, 1],
            cap_inh: 0,
            cap_prm: PODMAN_DEFAULT_CAPS,
            cap_eff: PODMAN_DEFAULT_CAPS,
            cap_bnd: PODMAN_DEFAULT_CAPS,
            cap_amb: Some(0),
            seccomp: Some(2),
            no_new_privs: Some(false),
        }
    );
}

#[test]
fn status_capabilities_match_what_podman_reported() {
    let status = parse_status(&fixture("proc-pid/status")).unwrap();
    let record = from_podman(&fixture_text("podman-inspect.json")).unwrap();
    assert_eq!(record.pid, Some(status.tgid));
    let mut from_proc = capability_names(status.cap_eff);
    let mut from_podman = record.capabilities.unwrap();
    from_proc.sort();
    from_podman.sort();
    assert_eq!(from_proc, from_podman);
    assert_eq!(from_proc.len(), 11);
}

#[test]
fn stat_of_a_containerised_process() {
    assert_eq!(
        parse_stat(&fixture("proc-pid/stat")),
        Ok(Stat {
            pid: 18643,
            comm: "sleep".into(),
            state: 'S',
            ppid: 18633,
            pgrp: 18643,
            session: 18643,
            tty_nr: 0,
            start_time_ticks: 181_984,
            vsize: 2_322_432,
            rss: 316,
        })
    );
}

#[test]
fn maps_of_a_static_busybox() {
    let table = parse_maps(&fixture("proc-pid/maps"));
    assert!(table.is_clean(), "{:?}", table.errors);
    let summary: Vec<String> = table
        .rows
        .iter()
        .map(|region| {
            let path = region.path.as_ref().map(ByteString::to_string).unwrap_or_default();
            format!("{:x}-{:x} {} {path}", region.start, region.end, region.perms)
        })
        .collect();
    assert_eq!(
        summary,
        [
            "400000-401000 r--p /bin/busybox",
            "401000-585000 r-xp /bin/busybox",
            "585000-5db000 r--p /bin/busybox",
            "5db000-5e2000 r--p /bin/busybox",
            "5e2000-5e5000 rw-p /bin/busybox",
            "5e5000-5ec000 rw-p ",
            "2b598000-2b5ba000 rw-p [heap]",
            "7f7a93843000-7f7a93847000 r--p [vvar]",
            "7f7a93847000-7f7a93849000 r--p [vvar_vclock]",
            "7f7a93849000-7f7a9384b000 r-xp [vdso]",
            "7ffd0070d000-7ffd0072e000 rw-p [stack]",
            "ffffffffff600000-ffffffffff601000 --xp [vsyscall]",
        ]
    );
    assert_eq!(table.rows[5].path, None);
    let text_segment = &table.rows[1];
    assert_eq!(
        (
            text_segment.offset,
            text_segment.dev_major,
            text_segment.dev_minor,
            text_segment.inode
        ),
        (0x1000, 0, 0x28, 819_323)
    );
    assert_eq!(
        text_segment.perms,
        Perms {
            read: true,
            write: false,
            execute: true,
            shared: false
        }
    );
    assert!(table.rows.iter().all(|region| !region.deleted));
    assert!(table.rows.iter().all(|region| suspicious(region).is_empty()));
}
