//! Fixed inputs (keys, times, headers, contents) and the valid bundles every vector starts from.

use crate::Error;
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::{self, Fingerprint, SigningKey};
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::{Case, Collector, FileKind, FileMeta, Gap, RawPath, Source, Target, Xattr};
use forensic_bundle::name::escape_segment;
use forensic_bundle::section::Section;
use forensic_bundle::time::Timestamp;
use forensic_bundle::writer::{BundleWriter, Compression, Header, MemberSpec, Seal};
use std::io::Cursor;

/// Seconds after [`t`]'s origin at which bundles are sealed.
pub(crate) const SEAL_AT: u32 = 120;

/// The test key `name` (seed: SHA-256 of `forensic test vector key NAME`).
pub(crate) fn key(name: &str) -> SigningKey {
    let seed = Digest::of(format!("forensic test vector key {name}").as_bytes());
    keys::signing_key_from_seed(&seed.0)
}

/// Fingerprint of the test key `name`.
pub(crate) fn fp(name: &str) -> Fingerprint {
    Fingerprint::of(&key(name).verifying_key())
}

/// 2026-01-02T03:04:05.000000000Z plus `secs` seconds (within the same day).
pub(crate) fn t(secs: u32) -> Result<Timestamp, Error> {
    t_ns(secs, 0)
}

/// Like [`t`], with a nanosecond fraction.
pub(crate) fn t_ns(secs: u32, nanos: u32) -> Result<Timestamp, Error> {
    let total = 3 * 3600 + 4 * 60 + 5 + secs;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    Ok(Timestamp::parse(&format!(
        "2026-01-02T{h:02}:{m:02}:{s:02}.{nanos:09}Z"
    ))?)
}

/// One evidence member to write.
pub(crate) struct Content {
    /// Name after the section prefix.
    pub name: String,
    pub bytes: Vec<u8>,
    pub source: Source,
    pub stored: bool,
    /// Write Zip64 extra fields (`size_hint: None`).
    pub zip64: bool,
    pub meta: Option<FileMeta>,
    pub truncated: bool,
}

impl Content {
    /// A deflated member read from the file `path`.
    pub(crate) fn file(name: &str, path: &str, bytes: &[u8]) -> Content {
        Content::with_source(name, Source::path(path.into()), bytes)
    }

    /// A deflated member with any source.
    pub(crate) fn with_source(name: &str, source: Source, bytes: &[u8]) -> Content {
        Content {
            name: name.to_string(),
            bytes: bytes.to_vec(),
            source,
            stored: false,
            zip64: false,
            meta: None,
            truncated: false,
        }
    }

    /// The same member, stored (method 0).
    pub(crate) fn stored(mut self) -> Content {
        self.stored = true;
        self
    }
}

/// The members of one section.
pub(crate) struct SectionPlan {
    pub section: Section,
    pub members: Vec<Content>,
}

/// A whole valid bundle.
pub(crate) struct Plan {
    pub bundle_id: &'static str,
    /// Fill in case, collector details and target (false: only the required fields).
    pub full_header: bool,
    pub sections: Vec<SectionPlan>,
    pub gaps: Vec<Gap>,
}

fn header(plan: &Plan) -> Result<Header, Error> {
    let mut h = Header::new(plan.bundle_id, t(0)?, Collector::new("forensic", "0.1.0"));
    if plan.full_header {
        h.case = Case {
            case_id: Some("TEST-2026-0001".into()),
            evidence_number: Some("E-1".into()),
            examiner: Some("Test Examiner".into()),
            notes: Some("Public test vector: not real evidence.".into()),
        };
        h.collector.host = Some("node-1.test.invalid".into());
        h.collector.kernel = Some("6.12.0-test".into());
        h.collector.argv = Some(
            ["forensic", "collect", "--case", "TEST-2026-0001", "web-1"]
                .map(RawPath::from)
                .to_vec(),
        );
        h.target = Target {
            runtime: Some("podman".into()),
            container_id: Some(Digest::of(b"test container web-1").hex()),
            container_name: Some("web-1".into()),
            pid: Some(4242),
            image_ref: Some("docker.io/library/nginx:1.27".into()),
            image_digest: Some(format!("sha256:{}", Digest::of(b"test image nginx").hex())),
            ..Target::default()
        };
    }
    Ok(h)
}

/// Writes `plan` with [`BundleWriter`], sealed by alice at [`SEAL_AT`]. Section *k* (counting
/// listed sections from 0) runs from second 10 + 10k to 15 + 10k.
pub(crate) fn build(plan: &Plan) -> Result<Vec<u8>, Error> {
    let mut w = BundleWriter::new(Cursor::new(Vec::new()), header(plan)?)?;
    for (k, s) in (0u32..).zip(&plan.sections) {
        let start = 10 + 10 * k;
        w.begin_section(s.section, t(start)?)?;
        for (j, c) in (0u32..).zip(&s.members) {
            let spec = MemberSpec {
                name: c.name.clone(),
                source: c.source.clone(),
                captured: t_ns(start + 1 + j, 123_456_789)?,
                meta: c.meta.clone(),
                truncated: c.truncated,
                compression: if c.stored {
                    Compression::Stored
                } else {
                    Compression::Deflate
                },
                size_hint: (!c.zip64).then_some(c.bytes.len() as u64),
                max_len: None,
            };
            w.add_member(spec, &c.bytes[..])?;
        }
        w.end_section(t(start + 5)?)?;
    }
    for g in &plan.gaps {
        w.add_gap(g.clone());
    }
    let alice = key("alice");
    let seal = Seal {
        key: &alice,
        actor: "alice".into(),
        time: t(SEAL_AT)?,
        note: None,
    };
    Ok(w.finish(&seal)?.into_inner())
}

const PS: &[u8] = b"  PID  PPID USER     COMMAND\n    1     0 root     nginx: master process nginx -g daemon off;\n   29     1 nginx    nginx: worker process\n   30     1 nginx    nginx: worker process\n";
const TCP: &[u8] = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n";
const POD_SPEC: &[u8] = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\nspec:\n  containers:\n    - name: web\n      image: docker.io/library/nginx:1.27\n";

/// The base most invalid vectors are made from: three sections, a deflated, a stored and a
/// deflated member.
pub(crate) fn base_plan() -> Plan {
    Plan {
        bundle_id: "6f9b3c2e-8a41-4d07-9e15-000000000002",
        full_header: true,
        sections: vec![
            SectionPlan {
                section: Section::Processes,
                members: vec![Content::with_source("ps.txt", cmd(&["ps", "-ef"], 0), PS)],
            },
            SectionPlan {
                section: Section::Network,
                members: vec![Content::file("tcp.txt", "/proc/4242/net/tcp", TCP).stored()],
            },
            SectionPlan {
                section: Section::PodSpec,
                members: vec![Content::file(
                    "pod-spec.yaml",
                    "/run/test/web-1/pod-spec.yaml",
                    POD_SPEC,
                )],
            },
        ],
        gaps: Vec::new(),
    }
}

/// One member, header with only the required fields.
pub(crate) fn minimal_plan() -> Plan {
    Plan {
        bundle_id: "6f9b3c2e-8a41-4d07-9e15-000000000001",
        full_header: false,
        sections: vec![SectionPlan {
            section: Section::PodSpec,
            members: vec![Content::file(
                "pod-spec.yaml",
                "/run/test/web-1/pod-spec.yaml",
                POD_SPEC,
            )],
        }],
        gaps: Vec::new(),
    }
}

fn cmd(argv: &[&str], exit: i64) -> Source {
    Source::Command {
        argv: argv.iter().map(|a| RawPath::from(*a)).collect(),
        exit: Some(exit),
    }
}

fn derived(what: &str) -> Source {
    Source::Derived {
        derived: what.to_string(),
    }
}

/// All nine sections, stored and deflated members, every source kind, file metadata and a
/// truncated member.
pub(crate) fn all_sections_plan() -> Plan {
    let meta = FileMeta {
        kind: FileKind::File,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 5_000_000,
        mtime_ns: 1_767_322_000_123_456_789,
        ctime_ns: 1_767_322_000_123_456_789,
        atime_ns: Some(1_767_322_040_000_000_000),
        inode: 1_234_567,
        dev: 64_769,
        nlink: 1,
        symlink_target: None,
        xattrs: Some(vec![Xattr("user.origin".into(), b"test".to_vec())]),
    };
    let link = FileMeta {
        kind: FileKind::Symlink,
        mode: 0o777,
        size: 11,
        symlink_target: Some("/usr/sbin/nginx".into()),
        xattrs: None,
        ..meta.clone()
    };
    let mut access_log = Content::file(
        "var/log/nginx/access.log",
        "/var/log/nginx/access.log",
        b"10.0.0.7 - - [02/Jan/2026:03:00:00 +0000] \"GET / HTTP/1.1\" 200 615\n",
    );
    access_log.meta = Some(meta);
    access_log.truncated = true;
    let mut symlink = Content::file("usr/local/bin/web", "/usr/local/bin/web", b"/usr/sbin/nginx").stored();
    symlink.meta = Some(link);
    let sec = |section, members| SectionPlan { section, members };
    Plan {
        bundle_id: "6f9b3c2e-8a41-4d07-9e15-000000000003",
        full_header: true,
        sections: vec![
            sec(Section::Processes, vec![
                Content::with_source("ps.txt", cmd(&["ps", "-ef"], 0), PS),
                Content::file("proc/1/cmdline", "/proc/4242/cmdline", b"nginx: master process nginx\0-g\0daemon off;\0").stored(),
                Content::with_source("tree.txt", derived("process tree from /proc/*/stat"), b"1 nginx\n  29 nginx\n  30 nginx\n"),
            ]),
            sec(Section::Network, vec![
                Content::file("tcp.txt", "/proc/4242/net/tcp", TCP).stored(),
                Content::file("resolv.conf", "/etc/resolv.conf", b"nameserver 10.0.0.2\nsearch test.invalid\n"),
            ]),
            sec(Section::Memory, vec![Content::file("1/7f0000000000-7f0000001000.bin", "/proc/4242/mem", &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]).stored()]),
            sec(Section::Logs, vec![Content::with_source("container.log", cmd(&["podman", "logs", "web-1"], 0), b"2026/01/02 03:00:00 [notice] 1#1: start worker processes\n")]),
            sec(Section::Filesystem, vec![
                access_log,
                symlink,
                Content::with_source("changes.txt", cmd(&["podman", "diff", "web-1"], 0), b"C /var\nC /var/log\nA /tmp/x\n"),
            ]),
            sec(Section::PodSpec, vec![
                Content::file("pod-spec.yaml", "/run/test/web-1/pod-spec.yaml", POD_SPEC),
                Content::with_source("inspect.json", cmd(&["podman", "inspect", "web-1"], 0), b"[{\"Id\":\"web-1\",\"State\":{\"Status\":\"running\",\"Pid\":4242}}]\n"),
            ]),
            sec(Section::Audit, vec![Content::file("audit.log", "/var/log/kubernetes/audit.log", b"{\"kind\":\"Event\",\"verb\":\"create\",\"objectRef\":{\"resource\":\"pods\",\"name\":\"web-1\"}}\n")]),
            sec(Section::Alerts, vec![Content::file("falco.json", "/var/log/falco/events.json", b"{\"rule\":\"Terminal shell in container\",\"priority\":\"Notice\"}\n").stored()]),
            sec(Section::Image, vec![Content::with_source("image.json", cmd(&["podman", "image", "inspect", "nginx:1.27"], 0), b"[{\"RepoTags\":[\"docker.io/library/nginx:1.27\"]}]\n")]),
        ],
        gaps: Vec::new(),
    }
}

/// No evidence members: the collected memory section is empty and a gap says why.
pub(crate) fn empty_plan() -> Plan {
    Plan {
        bundle_id: "6f9b3c2e-8a41-4d07-9e15-000000000004",
        full_header: true,
        sections: vec![SectionPlan {
            section: Section::Memory,
            members: Vec::new(),
        }],
        gaps: vec![Gap {
            section: Section::Memory,
            what: "memory of process 4242".into(),
            reason: "ptrace is not permitted (kernel.yama.ptrace_scope = 3)".into(),
        }],
    }
}

/// Member names with non-ASCII characters and percent-escapes (SPEC §3).
pub(crate) fn names_plan() -> Plan {
    let raw: [&[u8]; 6] = [
        "café-naïve.txt".as_bytes(),
        "日本語.txt".as_bytes(),
        b"bad\xffbyte",
        b"line\nbreak%20",
        b"..",
        b"back\\slash",
    ];
    let members = raw
        .iter()
        .map(|r| {
            let mut path = b"/tmp/".to_vec();
            path.extend_from_slice(r);
            let name = format!("tmp/{}", escape_segment(r));
            Content::with_source(&name, Source::path(RawPath::from_bytes(&path)), r)
        })
        .collect();
    Plan {
        bundle_id: "6f9b3c2e-8a41-4d07-9e15-000000000005",
        full_header: true,
        sections: vec![SectionPlan {
            section: Section::Filesystem,
            members,
        }],
        gaps: Vec::new(),
    }
}

/// Members written with Zip64 extra fields although they are small.
pub(crate) fn zip64_plan() -> Plan {
    let mut plan = base_plan();
    plan.bundle_id = "6f9b3c2e-8a41-4d07-9e15-000000000006";
    for s in &mut plan.sections {
        for m in &mut s.members {
            m.zip64 = true;
        }
    }
    plan
}

/// One mebibyte of zeros in the memory section: deflate's best case, about 1,000:1.
pub(crate) fn high_ratio_plan() -> Plan {
    Plan {
        bundle_id: "6f9b3c2e-8a41-4d07-9e15-000000000007",
        full_header: true,
        sections: vec![SectionPlan {
            section: Section::Memory,
            members: vec![Content::file(
                "1/7f0000000000-7f0000100000.bin",
                "/proc/4242/mem",
                &vec![0u8; 1 << 20],
            )],
        }],
        gaps: Vec::new(),
    }
}

/// A custody log of four entries over `bundle_id`/`digest`: sealed by alice, transferred by
/// alice to bob, received by bob, annotated by carol. `last`, if given, replaces the bundle id and
/// manifest digest carol's entry signs (to break rule 4 or 5 in the last entry only).
pub(crate) fn chain_log(bundle_id: &str, digest: &Digest, last: Option<(&str, &Digest)>) -> Result<Vec<u8>, Error> {
    let (alice, bob, carol) = (key("alice"), key("bob"), key("carol"));
    let entry = |k, actor: &str, action: &str, secs, recipient, note: Option<&str>| -> Result<NewEntry<'_>, Error> {
        Ok(NewEntry {
            stamp: None,
            key: k,
            actor: actor.into(),
            action: action.into(),
            time: t(secs)?,
            recipient,
            note: note.map(str::to_string),
            deposit: None,
        })
    };
    let limits = Limits::default();
    let mut log = Vec::new();
    for (e, id, d) in [
        (
            entry(&alice, "alice", custody::SEALED, SEAL_AT, None, None)?,
            bundle_id,
            digest,
        ),
        (
            entry(
                &alice,
                "alice",
                "transferred",
                3600,
                Some(fp("bob")),
                Some("handed to bob for analysis"),
            )?,
            bundle_id,
            digest,
        ),
        (entry(&bob, "bob", "received", 7200, None, None)?, bundle_id, digest),
    ] {
        log = custody::append(&log, &e, id, d, &limits)?;
    }
    let (id, d) = last.unwrap_or((bundle_id, digest));
    let note = entry(&carol, "carol", "annotated", 10_800, None, Some("hash list reviewed"))?;
    Ok(custody::append(&log, &note, id, d, &limits)?)
}
