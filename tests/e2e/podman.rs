//! A real container for the collection tests: podman + runc + busybox-static, as CI installs them.
//! Every container and image made here is removed when its guard drops.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// podman flags this machine needs (crun fails here; limits cannot be raised).
pub const RUN_FLAGS: [&str; 6] = [
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=1000:1000",
    "--ulimit",
    "nproc=1000:1000",
];

/// Runs podman, panicking with its stderr on failure.
pub fn podman(args: &[&str]) -> Output {
    let o = Command::new("podman")
        .args(args)
        .output()
        .expect("podman is installed (.ci/run installs it)");
    assert!(
        o.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A busybox image built from a rootfs tar made here, imported with `podman import`.
pub struct Image {
    /// Reference.
    pub name: String,
}

impl Image {
    /// Builds and imports the image.
    pub fn build(work: &Path, tag: &str) -> Image {
        Image::build_with(work, tag, &[])
    }

    /// Builds and imports the image with extra files (`(path, content)`, paths relative to the
    /// root). A file naming the test makes the layer unique, so that no other test's image
    /// shares it (podman stores identical layers once).
    pub fn build_with(work: &Path, tag: &str, extra: &[(&str, &[u8])]) -> Image {
        let tar = rootfs_tar(work, extra);
        let name = format!("localhost/forensic-e2e:{tag}");
        podman(&["import", tar.to_str().unwrap(), &name]);
        Image { name }
    }
}

/// The test image's root filesystem as a tar (`work/rootfs.tar`, built in `work/rootfs`): busybox
/// and its applets, account files, `/etc/motd`, `/etc/hosts`, `/usr/bin/report` and the usual
/// directories, plus `extra` files (`(path, content)`, paths relative to the root), for `podman
/// import` (containerd and dockerd load [`crate::runtimes::image`]'s layered archive instead).
fn rootfs_tar(work: &Path, extra: &[(&str, &[u8])]) -> PathBuf {
    let root = work.join("rootfs");
    crate::rootfs::write(&root, extra);
    let tar = work.join("rootfs.tar");
    let o = Command::new("tar")
        .args(["-C", root.to_str().unwrap(), "-cf", tar.to_str().unwrap(), "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "tar: {}", String::from_utf8_lossy(&o.stderr));
    tar
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rmi", "-f", &self.name]).output();
    }
}

/// A running container, removed on drop.
pub struct Container {
    /// Name.
    pub name: String,
}

impl Container {
    /// Starts `image` running `sleep` as its main process.
    pub fn start(image: &Image, name: &str) -> Container {
        Container::start_with(image, name, &["/bin/sleep", "100000"])
    }

    /// Starts `image` running `command` (its `Config.Cmd`) as its main process.
    pub fn start_with(image: &Image, name: &str, command: &[&str]) -> Container {
        Container::start_run(image, name, &[], command)
    }

    /// Starts `image` with extra `podman run` flags (`--mount …`, `-v …`) running `command`.
    pub fn start_run(image: &Image, name: &str, run_flags: &[&str], command: &[&str]) -> Container {
        let _ = Command::new("podman").args(["rm", "-f", name]).output();
        let mut args = vec!["run", "-d", "--name", name];
        args.extend(RUN_FLAGS);
        args.extend_from_slice(run_flags);
        args.push(image.name.as_str());
        args.extend_from_slice(command);
        podman(&args);
        Container { name: name.to_string() }
    }

    /// `podman exec NAME sh -c SCRIPT` (the attacker's actions; the collector never does this).
    pub fn sh(&self, script: &str) {
        podman(&["exec", &self.name, "/bin/sh", "-c", script]);
    }

    /// `podman exec -d NAME sh -c SCRIPT`: a background process inside the container.
    pub fn spawn(&self, script: &str) {
        podman(&["exec", "-d", &self.name, "/bin/sh", "-c", script]);
    }

    /// `forensic collect --container NAME --runtime podman -o BUNDLE --key KEY EXTRA…`, which
    /// must succeed.
    pub fn collect(&self, bundle: &Path, key: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "collect",
            "--container",
            &self.name,
            "--runtime",
            "podman",
            "-o",
            crate::util::s(bundle),
            "--key",
            crate::util::s(key),
        ];
        args.extend_from_slice(extra);
        let o = crate::util::run(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "collect: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// Collects into `work/case17.zip` for case `CASE-17` (examiner `A. Responder`, evidence
    /// number `E-7`) with a new key `responder`, then hands the bundle over: `collector`
    /// transfers it to a new key `lab` (with `transfer_extra` flags, e.g. `--note`), and `lab`
    /// receives it. Custody: sealed, transferred, received.
    pub fn collect_handed_over(&self, work: &Path, transfer_extra: &[&str]) -> HandedOver {
        let (key, key_pub) = crate::util::keygen(work, "responder");
        let (lab, lab_pub) = crate::util::keygen(work, "lab");
        let bundle = work.join("case17.zip");
        self.collect(
            &bundle,
            &key,
            &[
                "--quiet",
                "--case",
                "CASE-17",
                "--examiner",
                "A. Responder",
                "--evidence-number",
                "E-7",
            ],
        );
        let s = crate::util::s;
        let mut transfer = vec![
            "custody",
            "transfer",
            s(&bundle),
            "--key",
            s(&key),
            "--to",
            s(&lab_pub),
            "--actor",
            "collector",
        ];
        transfer.extend_from_slice(transfer_extra);
        for args in [
            transfer,
            vec!["custody", "receive", s(&bundle), "--key", s(&lab), "--actor", "lab"],
        ] {
            let o = crate::util::run(&args);
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", crate::util::stderr(&o));
        }
        HandedOver {
            bundle,
            key_pub,
            lab_pub,
        }
    }

    /// The host PID of the container's main process.
    pub fn pid(&self) -> u32 {
        let o = podman(&["inspect", "--format", "{{.State.Pid}}", &self.name]);
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    }

    /// `podman diff`, sorted.
    pub fn diff(&self) -> Vec<String> {
        let o = podman(&["diff", &self.name]);
        let mut lines: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    /// Waits until `check` holds (background processes need a moment to start).
    pub fn wait_for(&self, what: &str, check: impl Fn() -> bool) {
        crate::attack::wait_for(what, check)
    }
}

impl crate::attack::Victim for Container {
    fn sh(&self, script: &str) {
        Container::sh(self, script)
    }

    fn spawn(&self, script: &str) {
        Container::spawn(self, script)
    }

    fn pid(&self) -> u32 {
        Container::pid(self)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.name])
            .output();
    }
}

/// A collected bundle after a transfer and a receipt ([`Container::collect_handed_over`]), with
/// both public keys (to trust).
pub struct HandedOver {
    /// The bundle.
    pub bundle: PathBuf,
    /// The collector's public key.
    pub key_pub: PathBuf,
    /// The lab's public key.
    pub lab_pub: PathBuf,
}

/// A podman store of its own under a temporary directory: graph root, run root and libpod's tmp
/// dir, named by `CONTAINERS_STORAGE_CONF` and `CONTAINERS_CONF` (so that `forensic collect
/// --runtime podman` finds its containers through the same environment), whose graph root can
/// be copied as a node's `/var/lib/containers/storage` (issue 13). Every container and image of
/// it is removed, and every mount under it unmounted, on drop.
pub struct Store {
    /// The store's directory.
    pub dir: tempfile::TempDir,
    /// The graph root (`--root`).
    pub root: PathBuf,
    env: Vec<(String, String)>,
}

impl Store {
    /// Creates the store's directories and config files.
    pub fn new() -> Store {
        let dir = tempfile::Builder::new().prefix("fpm").tempdir_in("/tmp").unwrap();
        let d = dir.path();
        let root = d.join("root");
        let storage = d.join("storage.conf");
        std::fs::write(
            &storage,
            format!(
                "[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                root.display(),
                d.join("run").display()
            ),
        )
        .unwrap();
        let containers = d.join("containers.conf");
        std::fs::write(
            &containers,
            format!(
                "[engine]\ntmp_dir = \"{}\"\nevents_logger = \"file\"\nevents_logfile_path = \"{}\"\n",
                d.join("tmp").display(),
                d.join("events.log").display()
            ),
        )
        .unwrap();
        let env = vec![
            (
                "CONTAINERS_STORAGE_CONF".to_string(),
                storage.to_str().unwrap().to_string(),
            ),
            ("CONTAINERS_CONF".to_string(), containers.to_str().unwrap().to_string()),
        ];
        Store { dir, root, env }
    }

    /// The environment that points podman (and `forensic collect --runtime podman`) here.
    pub fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    fn raw(&self, args: &[&str]) -> Output {
        Command::new("podman")
            .args(args)
            .envs(self.env())
            .output()
            .expect("podman is installed (.ci/run installs it)")
    }

    /// `podman ARGS` on this store, which must succeed; its stdout.
    pub fn podman(&self, args: &[&str]) -> String {
        let o = self.raw(args);
        assert!(
            o.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `podman run -d --network none --name NAME RUN_FLAGS FLAGS… IMAGE COMMAND…`; the id.
    pub fn run(&self, name: &str, flags: &[&str], image: &str, command: &[&str]) -> String {
        let mut args = vec!["run", "-d", "--network", "none", "--name", name];
        args.extend(RUN_FLAGS);
        args.extend_from_slice(flags);
        args.push(image);
        args.extend_from_slice(command);
        self.podman(&args).trim().to_string()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.raw(&["rm", "-a", "-f", "-t", "0"]);
        let _ = self.raw(&["rmi", "-a", "-f"]);
        crate::runtimes::umount_under(self.dir.path());
    }
}

/// A container of a [`Store`], as the attack's victim.
pub struct StoreContainer<'a> {
    /// Its store.
    pub store: &'a Store,
    /// The container id.
    pub id: String,
}

impl crate::attack::Victim for StoreContainer<'_> {
    fn sh(&self, script: &str) {
        self.store.podman(&["exec", &self.id, "/bin/sh", "-c", script]);
    }

    fn spawn(&self, script: &str) {
        self.store.podman(&["exec", "-d", &self.id, "/bin/sh", "-c", script]);
    }

    fn pid(&self) -> u32 {
        self.store
            .podman(&["inspect", "--format", "{{.State.Pid}}", &self.id])
            .trim()
            .parse()
            .unwrap()
    }
}
