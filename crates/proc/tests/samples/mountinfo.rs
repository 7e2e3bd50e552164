//! mountinfo samples: two in-container views (Docker, cgroup v1 and v2) and a Docker host's view
//! with two container overlays (no final newline).

use forensic_proc::ByteString;
use forensic_proc::mountinfo::{Mount, Overlay, overlay, parse_mountinfo, root_mount};

use crate::shared_sample;

fn strings(items: &[&str]) -> Vec<ByteString> {
    items.iter().map(|item| ByteString::from(*item)).collect()
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn docker(path: &str) -> String {
    format!("/var/lib/docker/overlay2/{path}")
}

#[test]
fn docker_cgroupv1_container_root_overlay() {
    let table = parse_mountinfo(&shared_sample("mountinfo/precommit-docker-cgroupv1-container"));
    assert!(table.is_clean(), "{:?}", table.errors);
    assert_eq!(table.rows.len(), 38);
    let layer = "0d9f6bf186030d796505b87d6daa92297355e47641e283d3c09d83a7f221e462";
    let root = root_mount(&table.rows).unwrap();
    assert_eq!(
        root,
        &Mount {
            id: 759,
            parent: 717,
            major: 0,
            minor: 52,
            root: "/".into(),
            mount_point: "/".into(),
            options: owned(&["rw", "relatime"]),
            optional_fields: owned(&["master:300"]),
            fstype: "overlay".into(),
            source: "overlay".into(),
            super_options: vec![
                "rw".into(),
                format!(
                    "lowerdir={}:{}",
                    docker("l/PCPE5P5IVGM7CFCPJR353N3ONK"),
                    docker("l/EQFSDHFAJ333VEMEJD4ZTRIZCB")
                )
                .into(),
                format!("upperdir={}", docker(&format!("{layer}/diff"))).into(),
                format!("workdir={}", docker(&format!("{layer}/work"))).into(),
            ],
        }
    );
    assert_eq!(
        overlay(root),
        Some(Overlay {
            lowerdirs: vec![
                docker("l/PCPE5P5IVGM7CFCPJR353N3ONK").into(),
                docker("l/EQFSDHFAJ333VEMEJD4ZTRIZCB").into()
            ],
            datadirs: vec![],
            upperdir: Some(docker(&format!("{layer}/diff")).into()),
            workdir: Some(docker(&format!("{layer}/work")).into()),
        })
    );

    // A cgroup v1 hierarchy: the root names the container's cgroup; the mount point has a comma.
    let net_cls = table.rows.iter().find(|mount| mount.id == 772).unwrap();
    assert_eq!(
        net_cls.root,
        "/docker/c33988ec7651ebc867cb24755eaf637a6734088bc7eef59d5799293a9e5450f7"
    );
    assert_eq!(net_cls.mount_point, "/sys/fs/cgroup/net_cls,net_prio");
    assert_eq!(net_cls.super_options, strings(&["rw", "net_cls", "net_prio"]));
    assert!(net_cls.read_only());

    // The last line: the masked /sys/devices/virtual/powercap.
    let last = table.rows.last().unwrap();
    assert_eq!((last.id, last.parent, last.minor), (731, 763, 68));
    assert_eq!(last.mount_point, "/sys/devices/virtual/powercap");
    assert_eq!(last.super_options, strings(&["ro", "inode64"]));
}

#[test]
fn docker_cgroupv2_container_overlay_ends_with_nouserxattr() {
    let table = parse_mountinfo(&shared_sample("mountinfo/precommit-docker-cgroupv2-container"));
    assert!(table.is_clean(), "{:?}", table.errors);
    assert_eq!(table.rows.len(), 24);
    let layer = "e4ad859fc5d4791932b9b976052f01fb0063e01de3cef916e40ae2121f6a166e";
    let root = root_mount(&table.rows).unwrap();
    assert_eq!((root.id, root.parent, root.major, root.minor), (721, 386, 0, 45));
    assert_eq!(root.optional_fields, ["master:218"]);
    assert_eq!(root.super_options.last(), Some(&ByteString::from("nouserxattr")));
    assert_eq!(root.super_options.len(), 5);
    assert_eq!(
        overlay(root),
        Some(Overlay {
            lowerdirs: vec![
                docker("l/QHZ7OM7P4AQD3XLG274ZPWAJCV").into(),
                docker("l/5RFG6SZWVGOG2NKEYXJDQCQYX5").into()
            ],
            datadirs: vec![],
            upperdir: Some(docker(&format!("{layer}/diff")).into()),
            workdir: Some(docker(&format!("{layer}/work")).into()),
        })
    );
    let cgroup = table
        .rows
        .iter()
        .find(|mount| mount.mount_point == "/sys/fs/cgroup")
        .unwrap();
    assert_eq!(cgroup.fstype, "cgroup2");
    assert_eq!(
        cgroup.super_options,
        strings(&["rw", "nsdelegate", "memory_recursiveprot"])
    );
    let resolv = table
        .rows
        .iter()
        .find(|mount| mount.mount_point == "/etc/resolv.conf")
        .unwrap();
    assert_eq!(
        resolv.root,
        "/var/lib/docker/containers/c33988ec7651ebc867cb24755eaf637a6734088bc7eef59d5799293a9e5450f7/resolv.conf"
    );
    assert_eq!(
        (resolv.major, resolv.minor, resolv.source.as_str()),
        (8, 3, Some("/dev/sda3"))
    );
}

#[test]
fn cilium_docker_host_two_container_overlays() {
    let table = parse_mountinfo(&shared_sample("mountinfo/cilium-docker-host-mountinfo"));
    assert!(table.is_clean(), "{:?}", table.errors);
    assert_eq!(table.rows.len(), 42);

    let root = root_mount(&table.rows).unwrap();
    assert_eq!(
        root,
        &Mount {
            id: 68,
            parent: 0,
            major: 254,
            minor: 1,
            root: "/".into(),
            mount_point: "/".into(),
            options: owned(&["rw", "relatime"]),
            optional_fields: owned(&["shared:1"]),
            fstype: "xfs".into(),
            source: "/dev/mapper/system-root".into(),
            super_options: strings(&["rw", "attr2", "inode64", "noquota"]),
        }
    );
    assert_eq!(overlay(root), None);

    let overlays: Vec<(u32, Overlay)> = table
        .rows
        .iter()
        .filter_map(|mount| overlay(mount).map(|layers| (mount.id, layers)))
        .collect();
    let ids: Vec<u32> = overlays.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [655, 969]);
    let first = "209d7aafdafc7ebde84cb9f993c1e34cf0376f4f15dae4ddd2dd260b8d987d4d";
    let second = "e35eafd51f5f1e5a1f055de47bfccae6bb47c57317628507bb00b0981d33d717";
    assert_eq!(overlays[0].1.upperdir, Some(docker(&format!("{first}/diff")).into()));
    assert_eq!(overlays[1].1.upperdir, Some(docker(&format!("{second}/diff")).into()));
    assert_eq!(overlays[0].1.workdir, Some(docker(&format!("{first}/work")).into()));
    assert_eq!(overlays[1].1.workdir, Some(docker(&format!("{second}/work")).into()));
    let short =
        |names: &[&str]| -> Vec<ByteString> { names.iter().map(|name| docker(&format!("l/{name}")).into()).collect() };
    assert_eq!(
        overlays[0].1.lowerdirs,
        short(&[
            "MX2FFSUOIXOBNUCHC33QEQNNX2",
            "Q3SPWQ6QMC22TK7SPQOLSVHLUQ",
            "SPVXNCJEV3EQJGMHEOQGTLNDRT",
            "EFMD4SE3UNOSVMNMD7EOGIIL5I",
            "SFK3LVVM7XUXJWRS6I75TSS2DI",
            "GL3CZA4OB3YI7A6JKWOLVNESSL",
            "L6OAE4YY2C6BKHH55W42V7T6Y7",
        ])
    );
    assert_eq!(
        overlays[1].1.lowerdirs,
        short(&[
            "SRXSWY4NGUH5ZX5EHGZ3R72ZZZ",
            "4MKSUFUR2WVKNR47LRVGQUHDIX",
            "CGHCSEQRDDOB7LDRMW6DNKGYKF",
            "KXCYX6NI6XSXSW3R6YRYOJIXJY",
            "5SWRNPTBRYPDDHKFPKXBQJ3AGN",
            "L6OAE4YY2C6BKHH55W42V7T6Y7",
        ])
    );
    let merged: Vec<&ByteString> = table
        .rows
        .iter()
        .filter(|mount| mount.fstype == "overlay")
        .map(|mount| &mount.mount_point)
        .collect();
    assert_eq!(
        merged,
        [
            &ByteString::from(docker(&format!("{first}/merged"))),
            &ByteString::from(docker(&format!("{second}/merged")))
        ]
    );

    // Namespace files show a `net:[inode]` root.
    let netns = table.rows.iter().find(|mount| mount.id == 1017).unwrap();
    assert_eq!(
        (netns.root.as_str(), netns.mount_point.as_str()),
        (Some("net:[4026532775]"), Some("/run/docker/netns/85c40bc29e30"))
    );
    assert_eq!(netns.fstype, "nsfs");

    // The last line has no newline after it.
    let last = table.rows.last().unwrap();
    assert_eq!(
        (last.id, last.mount_point.as_str(), last.fstype.as_str()),
        (657, Some("/sys/fs/bpf"), Some("bpf"))
    );
    assert_eq!(
        (last.source.as_str(), last.super_options.clone()),
        (Some("bpffs"), strings(&["rw"]))
    );

    let fuse = table.rows.iter().find(|mount| mount.id == 497).unwrap();
    assert_eq!(fuse.fstype, "fuse.gvfsd-fuse");
    assert_eq!(fuse.super_options, strings(&["rw", "user_id=1000", "group_id=100"]));
}
