//! Trusted time (SPEC §9.6) with a real RFC 3161 authority: `openssl ts -reply`, with a CA and TSA
//! certificates this test makes, behind a small HTTP endpoint on 127.0.0.1 that stops itself.

use crate::util::*;
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::parse_private_key_pem;
use forensic_bundle::limits::Limits;
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
enum Alg {
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
    let actions: Vec<&str> = v["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
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
