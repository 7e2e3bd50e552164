//! Keys that stay secret (issue #18): passphrase-protected key files that OpenSSL opens too, and
//! Ed25519 keys on a PKCS#11 token (SoftHSM 2, a real module) that sign without ever leaving it.

use crate::podman::{Container, Image};
use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A file holding `text` and a newline (a passphrase or PIN file).
fn secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl").args(args).output().unwrap()
}

/// The custody log of `bundle` as JSON (`custody log --json`), which must succeed.
fn custody_log(bundle: &Path) -> serde_json::Value {
    let o = run(&["custody", "log", s(bundle), "--json"]);
    assert_eq!(code(&o), 0, "custody log: {}", stderr(&o));
    json(&o)
}

/// A small evidence directory `seal` accepts.
fn evidence(root: &Path) -> PathBuf {
    let dir = root.join("evidence");
    write(&dir.join("filesystem"), "etc/hostname", b"web-7\n");
    dir
}

/// `custody annotate` signed with `key`, its passphrase or PIN in an environment variable named
/// on the command line; `SOFTHSM2_CONF` set to `softhsm` if given.
fn annotate_with_env(bundle: &Path, key: &str, secret: &str, softhsm: Option<&Path>) -> Output {
    let mut c = forensic();
    c.args([
        "custody",
        "annotate",
        s(bundle),
        "--key",
        key,
        "--passphrase-env",
        "E2E_SECRET",
    ]);
    c.args(["--note", "hash checked"]).env("E2E_SECRET", secret);
    if let Some(conf) = softhsm {
        c.env("SOFTHSM2_CONF", conf);
    }
    c.output().unwrap()
}

fn seal_args(dir: &Path, out: &Path, key: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "seal",
        s(dir),
        "-o",
        s(out),
        "--key",
        key,
        "--section",
        "filesystem=*",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn passphrase_key_is_pkcs8_openssl_opens_and_every_signing_command_takes() {
    let work = tempfile::tempdir().unwrap();
    let pass = secret_file(work.path(), "pass", "correct horse battery staple");
    let base = work.path().join("responder");
    let o = run(&[
        "keygen",
        "-o",
        s(&base),
        "--passphrase",
        "--passphrase-file",
        s(&pass),
        "--json",
    ]);
    assert_eq!(code(&o), 0, "keygen: {}", stderr(&o));
    let made = json(&o);
    let (key, public) = (work.path().join("responder.key"), work.path().join("responder.pub"));
    assert_eq!(
        made["key_store"],
        serde_json::json!({"kind": "file", "encrypted": true})
    );
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), "{pem}");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);

    // OpenSSL opens it with the same passphrase (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) and
    // derives the same public key; with another passphrase it does not.
    let o = openssl(&[
        "pkey",
        "-in",
        s(&key),
        "-passin",
        &format!("file:{}", s(&pass)),
        "-pubout",
    ]);
    assert!(o.status.success(), "openssl pkey: {}", stderr(&o));
    assert_eq!(stdout(&o), std::fs::read_to_string(&public).unwrap());
    let o = openssl(&["pkey", "-in", s(&key), "-passin", "file:/dev/null", "-noout"]);
    assert!(!o.status.success());
    let o = openssl(&["asn1parse", "-in", s(&key)]);
    let asn1 = stdout(&o);
    for alg in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
        assert!(asn1.contains(alg), "{alg} not in {asn1}");
    }

    // seal takes it with the passphrase from a file …
    let dir = evidence(work.path());
    let bundle = work.path().join("case.zip");
    let o = seal_args(&dir, &bundle, s(&key), &["--passphrase-file", s(&pass)]);
    assert_eq!(code(&o), 0, "seal: {}", stderr(&o));
    let o = run(&["verify", s(&bundle), "--trust", s(&public)]);
    assert_eq!(code(&o), 0, "verify: {}", stdout(&o));
    // … custody annotate from an environment variable (its name on the command line, not its value).
    let o = annotate_with_env(&bundle, s(&key), "correct horse battery staple", None);
    assert_eq!(code(&o), 0, "custody annotate: {}", stderr(&o));
    let log = custody_log(&bundle);
    let fp = made["fingerprint"].as_str().unwrap();
    for (i, action) in ["sealed", "annotated"].iter().enumerate() {
        let e = &log["entries"][i];
        assert_eq!(
            (e["action"].as_str(), e["fingerprint"].as_str()),
            (Some(*action), Some(fp))
        );
        assert_eq!(
            e["key_store"],
            serde_json::json!({"kind": "file", "encrypted": true, "model": null, "serial": null, "token": null})
        );
    }
    let o = run(&["custody", "log", s(&bundle)]);
    assert_eq!(
        stdout(&o).matches("key held in: file (passphrase)").count(),
        2,
        "{}",
        stdout(&o)
    );

    // A wrong passphrase, or none where no terminal can ask: a clear error, exit 2, nothing written.
    let wrong = secret_file(work.path(), "wrong", "Tr0ub4dor&3");
    let other = work.path().join("other.zip");
    let o = seal_args(&dir, &other, s(&key), &["--passphrase-file", s(&wrong)]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        format!(
            "forensic: error: {}: wrong passphrase (from --passphrase-file {}): the encrypted key does not decrypt with it\n",
            s(&key),
            s(&wrong)
        )
    );
    let o = seal_args(&dir, &other, s(&key), &[]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        format!(
            "forensic: error: passphrase of key file {} is needed: give --passphrase-file FILE or --passphrase-env VAR, or run on a terminal to be asked\n",
            s(&key)
        )
    );
    let o = run(&[
        "custody",
        "annotate",
        s(&bundle),
        "--key",
        s(&key),
        "--passphrase-env",
        "FORENSIC_E2E_UNSET",
        "--note",
        "x",
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        "forensic: error: --passphrase-env FORENSIC_E2E_UNSET: the environment variable FORENSIC_E2E_UNSET is not set\n"
    );
    assert!(!other.exists());
    assert_eq!(custody_log(&bundle)["entries"].as_array().unwrap().len(), 2);

    // keygen refuses an empty passphrase and writes nothing.
    let empty = secret_file(work.path(), "empty", "");
    let o = run(&[
        "keygen",
        "-o",
        s(&work.path().join("blank")),
        "--passphrase",
        "--passphrase-file",
        s(&empty),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("empty (from --passphrase-file"), "{}", stderr(&o));
    assert!(!work.path().join("blank.key").exists() && !work.path().join("blank.pub").exists());
}

#[test]
fn keys_openssl_encrypts_open_with_their_passphrase() {
    let work = tempfile::tempdir().unwrap();
    let pass = secret_file(work.path(), "pass", "evidence locker 9");
    let dir = evidence(work.path());
    let passin = format!("file:{}", s(&pass));
    // openssl's own PBES2 (PBKDF2 by default) and scrypt forms.
    let pbkdf2 = work.path().join("pbkdf2.key");
    let o = openssl(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-aes-256-cbc",
        "-pass",
        &passin,
        "-out",
        s(&pbkdf2),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = work.path().join("plain.key");
    let o = openssl(&["genpkey", "-algorithm", "ed25519", "-out", s(&plain)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let scrypt = work.path().join("scrypt.key");
    let o = openssl(&[
        "pkcs8",
        "-topk8",
        "-scrypt",
        "-in",
        s(&plain),
        "-passout",
        &passin,
        "-out",
        s(&scrypt),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for key in [&pbkdf2, &scrypt] {
        let bundle = work
            .path()
            .join(format!("{}.zip", key.file_stem().unwrap().to_str().unwrap()));
        let o = seal_args(&dir, &bundle, s(key), &["--passphrase-file", s(&pass)]);
        assert_eq!(code(&o), 0, "seal with {}: {}", s(key), stderr(&o));
        let o = openssl(&["pkey", "-in", s(key), "-passin", &passin, "-pubout", "-outform", "DER"]);
        let der_sha = sha256_hex(&o.stdout);
        let log = custody_log(&bundle);
        assert_eq!(log["entries"][0]["fingerprint"].as_str(), Some(der_sha.as_str()));
        assert_eq!(log["entries"][0]["key_store"]["encrypted"], true);
    }
    // The unencrypted key still needs no passphrase, and says so in its entry.
    let bundle = work.path().join("plain.zip");
    let o = seal_args(&dir, &bundle, s(&plain), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(custody_log(&bundle)["entries"][0]["key_store"]["encrypted"], false);
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(forensic_bundle::digest::Digest::of(bytes).0)
}

/// A SoftHSM 2 token in a directory of its own: `SOFTHSM2_CONF` points at a config naming it.
struct Token {
    dir: tempfile::TempDir,
    conf: PathBuf,
    pin: PathBuf,
}

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const LABEL: &str = "IR team";

impl Token {
    fn new() -> Token {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                s(&tokens)
            ),
        )
        .unwrap();
        let t = Token {
            pin: secret_file(dir.path(), "pin", "246810"),
            conf,
            dir,
        };
        let o = t.tool(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                LABEL,
                "--so-pin",
                "13579",
                "--pin",
                "246810",
            ],
        );
        assert!(o.status.success(), "softhsm2-util: {}", stderr(&o));
        t
    }

    fn tool(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .unwrap()
    }

    /// `pkcs11-tool` on the module, logged in.
    fn pkcs11_tool(&self, args: &[&str]) -> Output {
        let mut a = vec!["--module", MODULE, "--login", "--pin", "246810"];
        a.extend_from_slice(args);
        self.tool("pkcs11-tool", &a)
    }

    /// `forensic ARGS` with this token's configuration.
    fn forensic(&self, args: &[&str]) -> Output {
        forensic().args(args).env("SOFTHSM2_CONF", &self.conf).output().unwrap()
    }

    /// The token's serial number, as softhsm2-util shows it.
    fn serial(&self) -> String {
        let o = self.tool("softhsm2-util", &["--show-slots"]);
        let text = stdout(&o);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("Serial number:"))
            .unwrap();
        line.split(':').nth(1).unwrap().trim().to_string()
    }
}

#[test]
fn token_key_made_on_the_token_seals_a_real_collection_and_never_leaves_it() {
    let token = Token::new();
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("hsm");
    let uri = format!(
        "pkcs11:token=IR%20team;object=seal?module-path={MODULE}&pin-source=file:{}",
        s(&token.pin)
    );
    let o = token.forensic(&["keygen", "-o", s(&base), "--pkcs11", &uri, "--json"]);
    assert_eq!(code(&o), 0, "keygen --pkcs11: {}", stderr(&o));
    let made = json(&o);
    let public = work.path().join("hsm.pub");
    // Only the public key is written; the key URI printed names the object by label and id.
    assert_eq!(listing(work.path()), vec!["hsm.pub".to_string()]);
    let key_uri = made["key"].as_str().unwrap().to_string();
    assert!(
        key_uri.starts_with("pkcs11:token=IR%20team;object=seal;id=%"),
        "{key_uri}"
    );
    assert!(key_uri.ends_with(&format!("?module-path={MODULE}")), "{key_uri}");
    let store = serde_json::json!({"kind": "pkcs11", "token": LABEL, "model": "SoftHSM project SoftHSM v2", "serial": token.serial()});
    assert_eq!(made["key_store"], store);
    // `custody log --json` shows every field, null where it does not apply.
    let mut logged = store.clone();
    logged["encrypted"] = serde_json::Value::Null;

    // On the token: an Ed25519 pair, the private half sensitive and never extractable (the
    // token refuses to wrap or reveal it), for signing only.
    let o = token.pkcs11_tool(&["--list-objects", "--type", "privkey"]);
    let objects = stdout(&o);
    assert!(objects.contains("Private Key Object; EC_EDWARDS"), "{objects}");
    assert!(objects.contains("  Usage:      sign\n"), "{objects}");
    assert!(
        objects.contains("  Access:     sensitive, always sensitive, never extractable, local\n"),
        "{objects}"
    );
    // The public key the token holds is the one keygen wrote (pkcs11-tool writes it as SPKI PEM).
    let exported = work.path().join("exported.pem");
    let o = token.pkcs11_tool(&[
        "--read-object",
        "--type",
        "pubkey",
        "--label",
        "seal",
        "-o",
        s(&exported),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&exported).unwrap(),
        std::fs::read_to_string(&public).unwrap()
    );
    std::fs::remove_file(&exported).unwrap();

    // A real collection sealed by the token, the PIN from --passphrase-file; then a custody
    // entry by the same token, the PIN from the environment.
    let tag = format!("hsm{}", std::process::id());
    let image = Image::build(work.path(), &tag);
    let container = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let bundle = work.path().join("case.zip");
    let mut c = forensic();
    c.args([
        "collect",
        "--container",
        &container.name,
        "--runtime",
        "podman",
        "-o",
        s(&bundle),
    ]);
    c.args(["--key", &key_uri, "--passphrase-file", s(&token.pin), "--quiet"])
        .env("SOFTHSM2_CONF", &token.conf);
    let o = c.output().unwrap();
    assert_eq!(code(&o), 0, "collect: {}", stderr(&o));
    let o = annotate_with_env(&bundle, &key_uri, "246810", Some(&token.conf));
    assert_eq!(code(&o), 0, "annotate: {}", stderr(&o));
    let o = run(&["verify", s(&bundle), "--trust", s(&public)]);
    assert_eq!(code(&o), 0, "verify: {}", stdout(&o));
    let log = custody_log(&bundle);
    let fp = made["fingerprint"].as_str().unwrap();
    for (i, action) in ["sealed", "annotated"].iter().enumerate() {
        let e = &log["entries"][i];
        assert_eq!(
            (
                e["action"].as_str(),
                e["fingerprint"].as_str(),
                e["signature_ok"].as_bool()
            ),
            (Some(*action), Some(fp), Some(true))
        );
        assert_eq!(e["key_store"], logged);
    }
    let o = run(&["custody", "log", s(&bundle)]);
    let shown = format!(
        "key held in: pkcs11 token \"IR team\" (SoftHSM project SoftHSM v2, serial {})",
        token.serial()
    );
    assert_eq!(stdout(&o).matches(&shown).count(), 2, "{}", stdout(&o));
    // The independent verifier shows the same.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/verify_bundle.py");
    let o = Command::new("python3")
        .arg(script)
        .arg("--json")
        .arg(&bundle)
        .output()
        .unwrap();
    let py: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(py["verified"], true, "{py}");
    assert_eq!(py["key_stores"], serde_json::json!([store, store]));

    // No private key in any file this test made (the token's own store is SoftHSM's, encrypted
    // under its PIN): no PEM private key, no PKCS#8.
    for dir in [work.path(), token.dir.path()] {
        for f in walk(dir) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
                "{} holds a private key",
                f.display()
            );
        }
    }
}

/// Every regular file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(walk(&p));
        } else if t.is_file() {
            out.push(p);
        }
    }
    out
}

#[test]
fn token_keys_from_other_tools_sign_and_token_errors_are_named() {
    let token = Token::new();
    let work = tempfile::tempdir().unwrap();
    let dir = evidence(work.path());
    // A key pair made by OpenSC's pkcs11-tool signs as well as one keygen made.
    let o = token.pkcs11_tool(&[
        "--keypairgen",
        "--key-type",
        "EC:edwards25519",
        "--label",
        "ext",
        "--id",
        "0e",
    ]);
    assert!(o.status.success(), "pkcs11-tool --keypairgen: {}", stderr(&o));
    let public = work.path().join("ext.pub");
    let o = token.pkcs11_tool(&["--read-object", "--type", "pubkey", "--label", "ext", "-o", s(&public)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle = work.path().join("ext.zip");
    let key = format!("pkcs11:token=IR%20team;id=%0e?module-path={MODULE}");
    let with_token = |args: &[&str]| {
        let mut a = vec!["seal", s(&dir), "--section", "filesystem=*", "--quiet"];
        a.extend_from_slice(args);
        token.forensic(&a)
    };
    let o = with_token(&["-o", s(&bundle), "--key", &key, "--passphrase-file", s(&token.pin)]);
    assert_eq!(code(&o), 0, "seal: {}", stderr(&o));
    let o = run(&["verify", s(&bundle), "--trust", s(&public)]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    // Errors name what is wrong; exit 2 and nothing written.
    let other = work.path().join("other.zip");
    let out = s(&other);
    let wrong = secret_file(work.path(), "wrong", "000000");
    let cases: Vec<(String, &Path, String)> = vec![
        (
            key.clone(),
            &wrong,
            format!(
                "PKCS#11 token \"IR team\": wrong PIN (from --passphrase-file {})",
                s(&wrong)
            ),
        ),
        (
            format!("pkcs11:token=Nope;object=ext?module-path={MODULE}"),
            &token.pin,
            format!(
                "PKCS#11: no token matches pkcs11:token=Nope;object=ext?module-path={MODULE} (tokens present: \"IR team\")"
            ),
        ),
        (
            format!("pkcs11:token=IR%20team;object=missing?module-path={MODULE}"),
            &token.pin,
            format!(
                "PKCS#11 token \"IR team\": no Ed25519 private key matches pkcs11:token=IR%20team;object=missing?module-path={MODULE}"
            ),
        ),
        (
            "pkcs11:token=IR%20team;object=ext?module-path=/nonexistent/module.so".into(),
            &token.pin,
            "PKCS#11 module /nonexistent/module.so: no such file".into(),
        ),
    ];
    for (k, pin, message) in cases {
        let o = with_token(&["-o", out, "--key", &k, "--passphrase-file", s(pin)]);
        assert_eq!(
            (code(&o), stderr(&o)),
            (2, format!("forensic: error: {message}\n")),
            "--key {k}"
        );
        assert!(!other.exists());
    }
    // A URI that is not valid is refused as the command line is read.
    let o = with_token(&["-o", out, "--key", "pkcs11:token=IR%20team;object=ext;slot-id=3"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("for '--key <KEY>': PKCS#11 URI: path attribute \"slot-id\" is not supported (token, manufacturer, model, serial, object, id, type)\n"),
        "{}",
        stderr(&o)
    );
    // No module in the URI or the environment.
    let o = with_token(&[
        "-o",
        out,
        "--key",
        "pkcs11:token=IR%20team;object=ext",
        "--passphrase-file",
        s(&token.pin),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("PKCS#11: no module to load: add module-path="),
        "{}",
        stderr(&o)
    );
    // keygen refuses a label the token already holds, and writes nothing.
    let uri = format!("pkcs11:token=IR%20team;object=ext?module-path={MODULE}");
    let o = token.forensic(&[
        "keygen",
        "-o",
        s(&work.path().join("again")),
        "--pkcs11",
        &uri,
        "--passphrase-file",
        s(&token.pin),
    ]);
    assert_eq!(
        (code(&o), stderr(&o)),
        (2, "forensic: error: PKCS#11 token \"IR team\": already holds 2 object(s) labelled \"ext\"; refusing to add another key of that name\n".to_string())
    );
    assert!(!work.path().join("again.pub").exists());
}

/// Runs `forensic ARGS` on a terminal (util-linux `script` gives it a pseudo-terminal), typing
/// each line of `typed` once the terminal shows one more prompt (a line ending in `: `); what the
/// terminal showed comes back as stdout.
fn on_terminal(args: &[&str], typed: &[&str]) -> Output {
    use std::io::{Read, Write};
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_forensic"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect();
    let mut child = Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    for (i, answer) in typed.iter().enumerate() {
        while String::from_utf8_lossy(&shown).matches(": ").count() <= i {
            match rx.recv_timeout(std::time::Duration::from_secs(30)) {
                Ok(chunk) => shown.extend(chunk),
                Err(_) => break,
            }
        }
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    }
    // `script` ends the session when its input ends: keep it open until the command is done.
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    shown.extend(rx.try_iter().flatten());
    let mut stderr = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    Output {
        status,
        stdout: shown,
        stderr,
    }
}

#[test]
fn passphrase_asked_on_the_terminal_twice_for_a_new_key_once_to_sign() {
    let work = tempfile::tempdir().unwrap();
    let base = work.path().join("tty");
    let o = on_terminal(
        &["keygen", "-o", s(&base), "--passphrase"],
        &["typed secret", "typed secret"],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let shown = stdout(&o);
    let key = work.path().join("tty.key");
    assert!(shown.contains(&format!("passphrase for {}: ", s(&key))), "{shown}");
    assert!(
        shown.contains(&format!("passphrase for {} (again): ", s(&key))),
        "{shown}"
    );
    assert!(!shown.contains("typed secret"), "the passphrase was echoed: {shown}");
    let o = openssl(&["pkey", "-in", s(&key), "-passin", "pass:typed secret", "-noout"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let dir = evidence(work.path());
    let bundle = work.path().join("case.zip");
    let args = [
        "seal",
        s(&dir),
        "-o",
        s(&bundle),
        "--key",
        s(&key),
        "--section",
        "filesystem=*",
        "--quiet",
    ];
    let o = on_terminal(&args, &["typed secret"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("passphrase of key file {}: ", s(&key))),
        "{}",
        stdout(&o)
    );
    assert_eq!(code(&run(&["verify", s(&bundle)])), 0);

    // Two different entries for a new key: nothing written.
    let other = work.path().join("other");
    let o = on_terminal(&["keygen", "-o", s(&other), "--passphrase"], &["one", "two"]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("the two entries differ; nothing written"),
        "{}",
        stdout(&o)
    );
    assert!(!work.path().join("other.key").exists() && !work.path().join("other.pub").exists());
}
