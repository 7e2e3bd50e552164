//! Trusted time (SPEC §9.6) with a real RFC 3161 authority: `openssl ts -reply`, with a CA and TSA
//! certificates this test makes, behind a small HTTP endpoint on 127.0.0.1 that stops itself.

use crate::util::*;
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::parse_private_key_pem;
use forensic_bundle::time::Timestamp;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Key algorithm of a test CA or TSA.
#[derive(Clone, Copy)]
pub enum Alg {
    Rsa,
    P256,
}

impl Alg {
    fn genpkey(self) -> &'static [&'static str] {
        match self {
            Alg::Rsa => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            Alg::P256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        }
    }
}

/// A test PKI (a root CA and a TSA certificate with critical EKU timeStamping) and an HTTP
/// endpoint answering time-stamp queries with `openssl ts -reply`. Dropping it stops the server.
pub struct Authority {
    pub dir: PathBuf,
    pub url: String,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Authority {
    /// `tsa_dates`: the TSA certificate's validity as `openssl ca` dates (YYYYMMDDHHMMSSZ).
    pub fn start(dir: &Path, root_alg: Alg, tsa_alg: Alg, tsa_dates: Option<(&str, &str)>) -> Authority {
        std::fs::create_dir_all(dir).unwrap();
        let mut gen_root = vec!["genpkey"];
        gen_root.extend_from_slice(root_alg.genpkey());
        gen_root.extend_from_slice(&["-out", "root.key"]);
        openssl(dir, &gen_root);
        let mut gen_tsa = vec!["genpkey"];
        gen_tsa.extend_from_slice(tsa_alg.genpkey());
        gen_tsa.extend_from_slice(&["-out", "tsa.key"]);
        openssl(dir, &gen_tsa);
        let d = dir.display();
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = CA_default\n[CA_default]\ndir = {d}\ndatabase = {d}/index.txt\n\
                 new_certs_dir = {d}\nserial = {d}/ca.serial\ndefault_md = sha256\npolicy = policy_any\n\
                 unique_subject = no\ndefault_days = 365\n[policy_any]\ncommonName = supplied\n\
                 [root_ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
                 subjectKeyIdentifier = hash\n\
                 [tsa_ext]\nbasicConstraints = critical,CA:FALSE\nextendedKeyUsage = critical,timeStamping\n\
                 keyUsage = critical,digitalSignature\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n\
                 [tsa]\ndefault_tsa = tsa1\n[tsa1]\ndir = {d}\nserial = {d}/tsa.serial\ncrypto_device = builtin\n\
                 signer_cert = {d}/tsa.crt\nsigner_key = {d}/tsa.key\nsigner_digest = sha256\n\
                 default_policy = 1.3.6.1.4.1.55555.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\n\
                 ordering = no\ntsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n\
                 [req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("ca.serial"), "1000\n").unwrap();
        std::fs::write(dir.join("tsa.serial"), "01\n").unwrap();
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-x509",
                "-config",
                "ca.cnf",
                "-key",
                "root.key",
                "-subj",
                "/CN=forensic test root",
                "-days",
                "3650",
                "-extensions",
                "root_ext",
                "-out",
                "root.pem",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-config",
                "ca.cnf",
                "-key",
                "tsa.key",
                "-subj",
                "/CN=forensic test TSA",
                "-out",
                "tsa.csr",
            ],
        );
        let mut ca = vec![
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "root.pem",
            "-keyfile",
            "root.key",
            "-in",
            "tsa.csr",
            "-out",
            "tsa.crt",
            "-extensions",
            "tsa_ext",
            "-notext",
        ];
        if let Some((start, end)) = tsa_dates {
            ca.extend_from_slice(&["-startdate", start, "-enddate", end]);
        }
        openssl(dir, &ca);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, dir2) = (stop.clone(), dir.to_path_buf());
        let thread = std::thread::spawn(move || {
            for (n, conn) in listener.incoming().enumerate() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    answer(conn, &dir2, n);
                }
            }
        });
        Authority {
            dir: dir.to_path_buf(),
            url: format!("http://{addr}/tsr"),
            stop,
            addr,
            thread: Some(thread),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("root.pem")
    }
}

impl Drop for Authority {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One HTTP/1.1 exchange: POST body → `openssl ts -reply` → 200 with the DER response.
fn answer(conn: TcpStream, dir: &Path, n: usize) {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len.min(1 << 16)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (q, r) = (dir.join(format!("q{n}.tsq")), dir.join(format!("r{n}.tsr")));
    std::fs::write(&q, &body).unwrap();
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(["ts", "-reply", "-config", "ca.cnf", "-queryfile"])
        .arg(&q)
        .arg("-out")
        .arg(&r)
        .output()
        .unwrap();
    let mut conn = conn;
    if !o.status.success() {
        let _ = conn.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let resp = std::fs::read(&r).unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        resp.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&resp);
}

fn verify_json(bundle: &Path, trust: &Path) -> serde_json::Value {
    let o = run(&["verify", "--json", s(bundle), "--tsa-trust", s(trust)]);
    json(&o)
}

fn custody_json(bundle: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["custody", "log", "--json", s(bundle)];
    args.extend_from_slice(extra);
    json(&run(&args))
}

/// SPEC §9.6, the acceptance of issue 14: sealed, transferred and received with --tsa; verifies
/// with --tsa-trust; every token verifies with `openssl ts -verify` alone.
#[test]
fn handoff_with_trusted_time_verifies_and_openssl_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tsa = Authority::start(&root.join("tsa-a"), Alg::Rsa, Alg::Rsa, None);
    let tsa_ec = Authority::start(&root.join("tsa-b"), Alg::P256, Alg::P256, None);
    let dir = checklist_dir(root);
    let (alice, _) = keygen(root, "alice");
    let (bob, bob_pub) = keygen(root, "bob");
    let out = root.join("b.zip");
    let o = seal(&dir, &out, &alice, &["--tsa", &tsa.url, "--tsa", &tsa_ec.url]);
    assert_eq!(code(&o), 0, "seal: {}{}", stdout(&o), stderr(&o));
    let o = run(&[
        "custody",
        "transfer",
        s(&out),
        "--key",
        s(&alice),
        "--to",
        s(&bob_pub),
        "--tsa",
        &tsa.url,
    ]);
    assert_eq!(code(&o), 0, "transfer: {}{}", stdout(&o), stderr(&o));
    let o = run(&["custody", "receive", s(&out), "--key", s(&bob), "--tsa", &tsa.url]);
    assert_eq!(code(&o), 0, "receive: {}{}", stdout(&o), stderr(&o));

    // Without --tsa-trust: verified, tokens shown but not judged.
    let v = json(&run(&["verify", "--json", s(&out)]));
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(
        actions(&v["custody"]),
        ["sealed", "timestamped", "transferred", "received", "timestamped"]
    );
    assert_eq!(v["custody"][1]["timestamps"].as_array().unwrap().len(), 2);
    assert_eq!(v["custody"][1]["timestamps"][0]["verified"], serde_json::Value::Null);
    assert_eq!(v["custody"][0]["trusted_time"], serde_json::Value::Null);

    // Two roots in one trust directory: both tokens of entry 1 verify.
    let trust_dir = root.join("tsa-roots");
    std::fs::create_dir(&trust_dir).unwrap();
    std::fs::copy(tsa.root(), trust_dir.join("a.pem")).unwrap();
    std::fs::copy(tsa_ec.root(), trust_dir.join("b.pem")).unwrap();
    let v = verify_json(&out, &trust_dir);
    assert_eq!(v["verified"], true, "{v}");
    let entries = v["custody"].as_array().unwrap();
    for (i, e) in entries.iter().enumerate() {
        let expect_tokens = if i == 0 {
            0
        } else if i == 1 {
            2
        } else {
            1
        };
        let tokens = e["timestamps"].as_array().unwrap();
        assert_eq!(tokens.len(), expect_tokens, "entry {i}");
        for t in tokens {
            assert_eq!(t["verified"], true, "entry {i}");
            assert_eq!(
                t["imprint_sha256"],
                entries[i - 1]["entry_sha256"],
                "entry {i} covers entry {}",
                i - 1
            );
        }
        // Every entry but the last has a trusted time no earlier than its signed time minus 300 s.
        assert_eq!(e["trusted_time"].is_string(), i < 4, "entry {i}: {e}");
    }

    // The independent Python verifier (from the SPEC text) agrees on these RSA and ECDSA tokens.
    let py = |trust: &[PathBuf]| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/verify_bundle.py");
        let mut c = Command::new("python3");
        c.arg(script).arg("--json");
        for t in trust {
            c.arg("--tsa-trust").arg(t);
        }
        let o = c.arg(&out).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
    };
    assert_eq!(py(&[tsa.root(), tsa_ec.root()])["verified"], true);
    let only_a = py(&[tsa.root()]);
    let classes: Vec<&str> = only_a["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["untrusted-timestamp"], "{only_a}");

    // Each token, written out, verifies with openssl alone against its root.
    let tokens_dir = root.join("tokens");
    let log = custody_json(&out, &["--write-tokens", s(&tokens_dir)]);
    assert_eq!(log["verified"], true);
    let mut checked = 0;
    for (i, e) in log["entries"].as_array().unwrap().iter().enumerate() {
        for (n, _) in e["timestamps"].as_array().unwrap().iter().enumerate() {
            let file = tokens_dir.join(format!("entry-{i}-token-{n}.tsr"));
            let covered = log["entries"][i - 1]["entry_sha256"].as_str().unwrap();
            let ca = if i == 1 && n == 1 { tsa_ec.root() } else { tsa.root() };
            let o = Command::new("openssl")
                .args(["ts", "-verify", "-token_in", "-in"])
                .arg(&file)
                .args(["-digest", covered, "-CAfile"])
                .arg(&ca)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "openssl ts -verify {}: {}",
                file.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            // And a digest other than the covered entry's is refused by openssl too.
            let o = Command::new("openssl")
                .args(["ts", "-verify", "-token_in", "-in"])
                .arg(&file)
                .args(["-digest", &"00".repeat(32), "-CAfile"])
                .arg(&ca)
                .output()
                .unwrap();
            assert!(!o.status.success());
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
}

/// Appends an entry signed with `key` (library path, as the CLI's append does), whose tokens come
/// from `tsa` over the digest `over` picks from the real previous head.
fn append_stamped(
    bundle: &Path,
    key: &Path,
    action: &str,
    time: Timestamp,
    tsa: &Authority,
    over: impl Fn(&Digest) -> Digest + Sync,
) {
    let key = parse_private_key_pem(&std::fs::read_to_string(key).unwrap()).unwrap();
    let url = vec![tsa.url.clone()];
    let stamp = move |head: &Digest| forensic_tsp::client::fetch_all(&url, &over(head).0).map_err(|e| e.to_string());
    let entry = NewEntry {
        deposit: None,
        key: &key,
        actor: "test".into(),
        action: action.into(),
        time,
        recipient: None,
        note: Some("made by the test".into()),
        stamp: Some(&stamp),
    };
    forensic_disk::prepare_append(bundle, &entry, &Default::default())
        .unwrap()
        .commit()
        .unwrap();
}

fn failures(v: &serde_json::Value) -> Vec<(String, Option<u64>)> {
    v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["class"].as_str().unwrap().to_string(), f["entry"].as_u64()))
        .collect()
}

/// SPEC §9.6 checks 2, 4 and 5 and the time rule, each its own class, each against a real
/// authority: a token over another entry, a TSA under another root, a TSA certificate expired at
/// genTime, and an entry whose signed time is hours after its trusted time.
#[test]
fn each_token_failure_has_its_own_class() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let good = Authority::start(&root.join("good"), Alg::Rsa, Alg::P256, None);
    let other = Authority::start(&root.join("other"), Alg::Rsa, Alg::Rsa, None);
    let expired = Authority::start(
        &root.join("expired"),
        Alg::P256,
        Alg::Rsa,
        Some(("20200101000000Z", "20210101000000Z")),
    );
    let dir = checklist_dir(root);
    let (key, _) = keygen(root, "responder");
    let sealed = |name: &str, extra: &[&str]| {
        let out = root.join(name);
        let o = seal(&dir, &out, &key, extra);
        assert_eq!(code(&o), 0, "seal {name}: {}{}", stdout(&o), stderr(&o));
        out
    };
    let both = root.join("trust");
    std::fs::create_dir(&both).unwrap();
    std::fs::copy(good.root(), both.join("good.pem")).unwrap();
    std::fs::copy(expired.root(), both.join("expired.pem")).unwrap();

    // Control: the good authority verifies (and a P-256 TSA under an RSA root).
    let ok = sealed("ok.zip", &["--tsa", &good.url]);
    assert_eq!(failures(&verify_json(&ok, &both)), []);

    // A token over another entry: signed into the entry, so only the imprint is wrong.
    let wrong = sealed("wrong.zip", &[]);
    let now = forensic_disk::Clock::new().unwrap().now();
    append_stamped(&wrong, &key, custody::TIMESTAMPED, now.clone(), &good, |_| {
        Digest::of(b"another entry")
    });
    let v = verify_json(&wrong, &both);
    assert_eq!(failures(&v), [("timestamp-imprint".to_string(), Some(1))], "{v}");
    assert_eq!(code(&run(&["verify", s(&wrong), "--tsa-trust", s(&both)])), 1);
    // Without a TSA trust list, tokens are reported, not judged (SPEC §9.6).
    assert_eq!(code(&run(&["verify", s(&wrong)])), 0);

    // A TSA whose root is not in the trust list.
    let untrusted = sealed("untrusted.zip", &["--tsa", &other.url]);
    let v = verify_json(&untrusted, &both);
    assert_eq!(failures(&v), [("untrusted-timestamp".to_string(), Some(1))], "{v}");

    // A TSA certificate that expired before genTime (openssl still signs with it).
    let old = sealed("expired.zip", &["--tsa", &expired.url]);
    let v = verify_json(&old, &both);
    assert_eq!(failures(&v), [("timestamp-expired".to_string(), Some(1))], "{v}");

    // An entry stating a time two hours after the token that covers it was made: the next entry
    // (same late clock, so custody time rules hold) carries a token from now.
    let late = sealed("late.zip", &[]);
    let later = Timestamp::from_unix_nanos(now.unix_nanos() + 2 * 3600 * 1_000_000_000).unwrap();
    append_stamped(&late, &key, custody::ANNOTATED, later.clone(), &good, |h| *h);
    append_stamped(&late, &key, custody::TIMESTAMPED, later, &good, |h| *h);
    let v = verify_json(&late, &both);
    assert_eq!(failures(&v), [("time-after-timestamp".to_string(), Some(1))], "{v}");
    assert!(v["custody"][0]["trusted_time"].is_string() && v["custody"][1]["trusted_time"].is_string());
}

/// An HTTP endpoint on 127.0.0.1 that answers every request with `status` and `body` (a hostile
/// or broken authority); stops when dropped.
struct Junk {
    url: String,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Junk {
    fn start(status: &'static str, body: Vec<u8>) -> Junk {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                conn.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body);
            }
        });
        Junk {
            url: format!("http://{addr}/tsr"),
            stop,
            addr,
            thread: Some(thread),
        }
    }
}

impl Drop for Junk {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Hostile and broken authorities (STYLE: hostile answers): each `forensic timestamp` fails with
/// exit 2 and words naming the authority and what is wrong, never a panic, and leaves the bundle
/// exactly as it was.
#[test]
fn hostile_authority_answers_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let real = Authority::start(&root.join("real"), Alg::Rsa, Alg::Rsa, None);
    let (bundle, key, _) = sealed_bundle(root);
    let before = std::fs::read(&bundle).unwrap();
    // A genuine answer for another request (another digest and nonce), replayed.
    let q = root.join("other.tsq");
    openssl(
        root,
        &[
            "ts",
            "-query",
            "-digest",
            &"ab".repeat(32),
            "-sha256",
            "-cert",
            "-out",
            s(&q),
        ],
    );
    openssl(
        &real.dir,
        &[
            "ts",
            "-reply",
            "-config",
            "ca.cnf",
            "-queryfile",
            s(&q),
            "-out",
            "replayed.tsr",
        ],
    );
    let replayed = std::fs::read(real.dir.join("replayed.tsr")).unwrap();
    let cases: Vec<(&str, Junk, &str)> = vec![
        (
            "garbage",
            Junk::start("200 OK", b"\x30\x82\xff\xffnot DER".to_vec()),
            "not a TimeStampResp",
        ),
        (
            "server error",
            Junk::start("500 Internal Server Error", Vec::new()),
            "HTTP status 500",
        ),
        (
            "too large",
            Junk::start("200 OK", vec![0x30; 200 * 1024]),
            "at most 65536 bytes",
        ),
        (
            "rejection",
            Junk::start("200 OK", vec![0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02]),
            "refused (status 2)",
        ),
        ("replayed", Junk::start("200 OK", replayed), "the token is over"),
    ];
    for (what, junk, says) in &cases {
        let o = run(&["timestamp", s(&bundle), "--key", s(&key), "--tsa", &junk.url]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(code(&o), 2, "{what}: {all}");
        assert!(!all.contains("panicked"), "{what}: {all}");
        assert!(
            all.contains(&junk.url) && all.contains(says),
            "{what}: expected {says:?}: {all}"
        );
        assert_eq!(std::fs::read(&bundle).unwrap(), before, "{what} changed the bundle");
    }
    // https is refused before any connection: a token is signed, TLS is not needed.
    let o = run(&[
        "timestamp",
        s(&bundle),
        "--key",
        s(&key),
        "--tsa",
        "https://127.0.0.1:1/",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("must be http://"), "{}", stderr(&o));
    // And the real one works after all that.
    let o = run(&["timestamp", s(&bundle), "--key", s(&key), "--tsa", &real.url]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(verify_json(&bundle, &real.root())["verified"], true);
}
