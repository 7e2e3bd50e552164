//! The test image's root filesystem, one definition for every runtime the e2e tests drive:
//! podman imports it as one tar (`podman::Image`), containerd and dockerd load it as a two-layer
//! docker-archive (`runtimes::image`).

use std::path::{Path, PathBuf};

/// Busybox applets linked in the test image.
pub const APPLETS: [&str; 22] = [
    "sh", "sleep", "nc", "cat", "echo", "rm", "cp", "chmod", "mkfifo", "ln", "touch", "ls", "id", "mkdir", "printf",
    "ps", "wc", "head", "setsid", "tr", "env", "true",
];

/// The host's busybox-static, which every test image holds as `/bin/busybox`.
pub fn host_busybox() -> PathBuf {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("busybox-static is installed (.ci/run installs it)")
}

/// Writes the test image's files under `root`: `/bin` (busybox and its applet links), accounts,
/// `/etc/motd`, `/usr/bin/report`, the empty directories the attacks use, and `extra`
/// (`(path, content)`, paths relative to the root).
pub fn write(root: &Path, extra: &[(&str, &[u8])]) {
    for d in [
        "bin",
        "tmp",
        "etc",
        "root",
        "var/tmp",
        "run",
        "dev/shm",
        "usr/bin",
        "home/app/.ssh",
        "var/spool/cron/crontabs",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(host_busybox(), root.join("bin/busybox")).unwrap();
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    std::fs::write(
        root.join("etc/shadow"),
        "root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/motd"), "welcome\n").unwrap();
    std::fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(root.join("usr/bin/report"), "#!/bin/sh\necho report\n").unwrap();
    for (path, content) in extra {
        std::fs::write(root.join(path), content).unwrap();
    }
}
