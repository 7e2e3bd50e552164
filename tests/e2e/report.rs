//! `forensic report` (docs/report.md): the report of a real attacked podman container, after a
//! transfer and a receipt, opened in a real browser (headless Chromium from Debian): the
//! rendered page shows the verdict, the case, every finding of `show suspicious` and of the diff,
//! both custody holders; the printed PDF (`pdfinfo`, `pdftotext` from poppler) carries the bundle
//! id and the manifest digest on every page; the file loads nothing (checked statically: no
//! element or attribute that can name a URL); hostile names stay text. A bundle that does not
//! verify is refused, or with `--force` reported as such on every page.
//!
//! With `FORENSIC_REPORT_SCREENSHOTS=DIR`, the screenshots shown in the README are written to DIR.

use crate::attack;
use crate::podman::{Container, Image, podman};
use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The hostile name planted as a path and a custody note.
const HOSTILE: &str = "<script>alert(1)</script>";

/// One Chromium at a time: several at once on a loaded two-core machine time out.
static CHROMIUM: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs headless Chromium (with a profile of its own, no network services) on `url` with `args`;
/// killed after 300 s.
fn chromium(args: &[&str], url: &str) -> Output {
    let _one = CHROMIUM.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new("timeout")
        .arg("300")
        .arg("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium is installed (.ci/run: apt-get install chromium)");
    assert!(o.status.success(), "chromium {args:?}: {}: {}", o.status, stderr(&o));
    o
}

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// The page as the browser built it (`--dump-dom`), and what it logged: no console message.
fn rendered(html: &Path) -> String {
    let o = chromium(&["--dump-dom", "--enable-logging=stderr", "--v=0"], &url(html));
    let log = stderr(&o);
    assert!(!log.contains("CONSOLE"), "console messages: {log}");
    stdout(&o)
}

/// A screenshot of `url` at `width`×`height`: a PNG of that size, not blank.
fn screenshot(url: &str, png: &Path, width: u32, height: u32) {
    chromium(
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={width},{height}"),
            "--hide-scrollbars",
        ],
        url,
    );
    let bytes = std::fs::read(png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", png.display());
    let dim = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((dim(16), dim(20)), (width, height), "IHDR of {}", png.display());
    assert!(bytes.len() > 50_000, "a blank page? {} bytes", bytes.len());
}

/// The page printed by Chromium, as `pdftotext` reads each page; `pdfinfo`'s page count agrees.
fn printed(html: &Path, pdf: &Path) -> Vec<String> {
    chromium(&[&format!("--print-to-pdf={}", pdf.display())], &url(html));
    let info = Command::new("pdfinfo").arg(pdf).output().unwrap();
    assert!(info.status.success(), "pdfinfo: {}", stderr(&info));
    let pages: usize = stdout(&info)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(text.status.success());
    let mut texts: Vec<String> = stdout(&text).split('\u{c}').map(str::to_string).collect();
    // pdftotext ends every page with a form feed.
    assert_eq!(texts.pop().as_deref(), Some(""));
    assert_eq!(texts.len(), pages, "pdfinfo and pdftotext count the same pages");
    texts
}

/// Text as the DOM serialises a text node holding it: `&`, `<`, `>` as entities, after the one
/// display escaping of what could fool a reader (as on the terminal).
fn dom_text(s: &str) -> String {
    let shown = if s.chars().any(forensic_bundle::name::is_unsafe_display) {
        forensic_bundle::name::escape_display(s.as_bytes())
    } else {
        s.to_string()
    };
    shown.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Nothing in the file can make the browser fetch anything: no element that loads (`script`,
/// `link`, `img`, `iframe`, `object`, `embed`, `video`, `audio`, `source`, `base`, `form`), no
/// `src`, `srcset`, `action`, `data`, `poster`, `background` or `xlink:href` attribute, every
/// `href` a fragment of the page, no `url(` or `@import` in the style sheet, no `://` inside
/// any tag, and no `http-equiv` refresh. Static inspection of the bytes (every `<` of text is
/// escaped, so each `<` starts one of the report's own tags).
fn assert_self_contained(html: &str) {
    let (before, rest) = html.split_once("<style>").expect("an inline style sheet");
    let (style, after) = rest.split_once("</style>").unwrap();
    assert_eq!(html.matches("<style").count(), 1);
    assert!(!style.contains("url(") && !style.contains("@import"), "{style}");
    assert!(!style.contains('<'), "the style sheet holds no tag");
    let markup = format!("{before}{after}");
    for tag in markup.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap();
        let name = tag.split([' ', '/']).next().unwrap_or_default().to_ascii_lowercase();
        assert!(
            ![
                "script", "link", "img", "iframe", "object", "embed", "video", "audio", "source", "base", "form",
                "image", "use"
            ]
            .contains(&name.as_str()),
            "<{tag}>"
        );
        assert!(!tag.contains("://"), "<{tag}>");
        for attr in [
            " src=",
            " srcset=",
            " action=",
            " data=",
            " poster=",
            " background=",
            "xlink:href=",
            "http-equiv",
        ] {
            assert!(!tag.contains(attr), "<{tag}>");
        }
        for (i, _) in tag.match_indices(" href=") {
            assert!(tag[i..].starts_with(" href=\"#"), "<{tag}>");
        }
    }
}

/// `forensic report ARGS --json`, which must exit `want`; its JSON.
fn report(args: &[&str], want: i32) -> Value {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.push("--json");
    let o = run(&all);
    assert_eq!(code(&o), want, "report {args:?}: {}{}", stdout(&o), stderr(&o));
    json(&o)
}

/// Copies `png` into `$FORENSIC_REPORT_SCREENSHOTS` when it is set.
fn keep_screenshot(png: &Path) {
    if let Some(dir) = std::env::var_os("FORENSIC_REPORT_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(png, dir.join(png.file_name().unwrap())).unwrap();
    }
}

/// A screenshot of `report` scrolled to `#fragment` (through a page that frames it: a file URL's
/// fragment is not scrolled to in a headless screenshot), kept for the README.
fn section_screenshot(work: &Path, report: &Path, fragment: &str, png_name: &str) {
    let frame = work.join(format!("frame-{fragment}.html"));
    std::fs::write(
        &frame,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe src=\"{}#{fragment}\" \
             style=\"border:0;width:1280px;height:1600px\"></iframe></body></html>",
            report.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    let png = work.join(png_name);
    screenshot(&url(&frame), &png, 1280, 1600);
    keep_screenshot(&png);
}

#[test]
fn a_report_of_an_attacked_container_shows_what_a_reader_needs_in_the_browser_and_on_paper() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("rp{}", std::process::id());
    let image = Image::build_with(w, &tag, &[("etc/report-e2e", tag.as_bytes())]);
    // The original image, saved before anything happens to its layer on the node.
    let saved = w.join("image.oci.tar");
    podman(&["image", "save", "--format", "oci-archive", "-o", s(&saved), &image.name]);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let _planted = attack::plant(&c, &tag);
    c.sh(&format!("mkdir -p '/tmp/{HOSTILE}'"));
    attack::tamper_lower_layer(c.pid());
    let handed = c.collect_handed_over(w, &["--note", HOSTILE]);
    let (bundle, key_pub, lab_pub) = (handed.bundle, handed.key_pub, handed.lab_pub);
    let b = s(&bundle);
    let html_path = w.join("report.html");
    let with_image = |out: &Path| {
        let args = [
            b,
            "-o",
            s(out),
            "--image",
            s(&saved),
            "--trust",
            s(&key_pub),
            "--trust",
            s(&lab_pub),
        ];
        report(&args, 0)
    };
    let v = with_image(&html_path);

    // What the command line shows is what the report holds.
    let ver = json(&run(&["verify", b, "--json"]));
    let bundle_id = ver["bundle_id"].as_str().unwrap().to_string();
    let digest = ver["manifest_sha256"].as_str().unwrap().to_string();
    let sus = json(&run(&["show", b, "suspicious", "--json"]));
    let diff = json(&run(&["diff", b, "--image", s(&saved), "--json"]));
    let timeline = run(&["timeline", b, "--format", "jsonl"]);
    assert_eq!(code(&timeline), 0);
    let events = stdout(&timeline).lines().count();
    let log = json(&run(&["custody", "log", b, "--json"]));
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "sealed, transferred, received");
    let ls = json(&run(&["ls", b, "--json"]));
    assert_eq!(v["output"], s(&html_path));
    assert_eq!(v["bundle"], b);
    assert_eq!(
        (&v["verified"], &v["forced"], &v["failures"]),
        (&Value::from(true), &Value::from(false), &Value::from(0))
    );
    assert_eq!(v["custody_entries"], 3);
    assert_eq!(v["members"], ls["members"].as_array().unwrap().len());
    assert_eq!(v["findings"], sus["counts"]);
    assert_eq!(v["events"], events);
    assert_eq!(v["events_shown"], events.min(500));
    assert_eq!(v["diff"]["added"], diff["summary"]["added"]);
    assert_eq!(v["diff"]["changed"], diff["summary"]["changed"]);
    assert_eq!(v["diff"]["deleted"], diff["summary"]["deleted"]);
    assert_eq!(v["diff"]["findings"], diff["summary"]["findings"]);

    // One self-contained file; the hostile name is text everywhere.
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert_self_contained(&html);
    let hostile = dom_text(HOSTILE);
    assert!(html.contains(&format!("note: “{hostile}”")), "the custody note");
    assert!(
        html.contains(&format!("/tmp/{hostile}")),
        "the planted path, in the timeline"
    );
    assert!(!html.contains("<script") && !html.contains("alert(1)</"));

    // The browser: verdict, case, every finding, both holders.
    let dom = rendered(&html_path);
    assert!(!dom.contains("<script"), "no element came from the bundle");
    let h1 = dom.split("<h1>").nth(1).unwrap().split("</h1>").next().unwrap();
    assert_eq!(
        h1,
        "Forensic report of case CASE-17: <span class=\"verdict ok\">VERIFIED</span>"
    );
    for want in [
        "<dt>case id</dt><dd>CASE-17</dd>".to_string(),
        "<dt>evidence number</dt><dd>E-7</dd>".to_string(),
        "<dt>examiner</dt><dd>A. Responder</dd>".to_string(),
        format!("<dt>bundle id</dt><dd>{bundle_id}</dd>"),
        format!("<dt>manifest SHA-256</dt><dd>{digest}</dd>"),
        format!("<dt>container name</dt><dd>{}</dd>", c.name),
        "<span class=\"verdict ok\">VERIFIED</span> ".to_string(),
        "Holder 1: A. Responder, collector</h3>".to_string(),
        "Holder 2: lab</h3>".to_string(),
        format!("key {}</div>", entries[0]["fingerprint"].as_str().unwrap()),
        format!("key {}</div>", entries[2]["fingerprint"].as_str().unwrap()),
        "<svg class=\"chart\"".to_string(),
        ">file changes</text>".to_string(),
        ">process starts</text>".to_string(),
    ] {
        assert!(dom.contains(&want), "{want} is not in the rendered page");
    }
    for e in entries {
        assert!(dom.contains(e["entry_sha256"].as_str().unwrap()), "{e}");
    }
    // Every check of SPEC §12 is listed; with both keys trusted, only the head and the
    // time-stamp checks were not run.
    assert_eq!(dom.matches("<span class=\"word passed\">passed</span>").count(), 16);
    assert_eq!(dom.matches("<span class=\"word skipped\">not checked").count(), 7);
    // Every finding of `show suspicious` and of the diff, with its kind and message.
    let findings: Vec<&Value> = sus["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(diff["findings"].as_array().unwrap())
        .collect();
    for f in &findings {
        let shown = format!(
            "<span class=\"sev sev-{0}\">{0}</span> <code>{1}</code> {2}</p>",
            f["severity"].as_str().unwrap(),
            f["kind"].as_str().unwrap(),
            dom_text(f["message"].as_str().unwrap())
        );
        assert!(dom.contains(&shown), "{shown} is not in the rendered page");
    }
    // The planted ones, by name.
    let has = |kind: &str, text: &str| {
        findings
            .iter()
            .any(|f| f["kind"] == kind && f.to_string().contains(text))
    };
    for (kind, text) in [
        ("deleted-executable", "/tmp/.x/sleep"),
        ("listening-socket", ":4444"),
        ("executable-in-temp-dir", "/tmp/dropper.sh"),
        ("executable-in-temp-dir", attack::SHM_PATH),
        ("uid0-user", "backdoor"),
        ("uid0-user-added", "/etc/passwd"),
        ("tmp-executable", "/tmp/dropper.sh"),
        ("lower-layer-changed", "/etc/shadow"),
        ("empty-password", "/etc/shadow"),
    ] {
        assert!(has(kind, text), "{kind} {text}: {findings:#?}");
    }
    // Evidence members with their SHA-256 as sealed.
    let ghost = sus["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "deleted-executable")
        .unwrap();
    let copy = ghost["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e.as_str().filter(|e| e.ends_with("/exe")))
        .unwrap();
    for name in [copy, "1-processes/processes.json"] {
        let m = ls["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap();
        let row = format!(
            "<td class=\"wrap\"><code>{name}</code></td><td class=\"num\">{}</td><td class=\"hash\">{}</td>",
            m["size"],
            m["sha256"].as_str().unwrap()
        );
        assert!(dom.contains(&row), "{row}");
    }

    // A screenshot of the whole page.
    screenshot(&url(&html_path), &w.join("report-full.png"), 1280, 4000);
    let top = w.join("report-top.png");
    screenshot(&url(&html_path), &top, 1280, 1600);
    keep_screenshot(&top);
    section_screenshot(w, &html_path, "findings", "report-findings.png");
    section_screenshot(w, &html_path, "timeline", "report-timeline.png");

    // On paper: the bundle id, the manifest digest and the verdict on every page.
    let pages = printed(&html_path, &w.join("report.pdf"));
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for (i, p) in pages.iter().enumerate() {
        for want in [
            format!("bundle {bundle_id}"),
            format!("manifest sha256 {digest}"),
            "forensic report · VERIFIED".to_string(),
            format!("page {} of {}", i + 1, pages.len()),
        ] {
            assert!(p.contains(&want), "page {}: no {want}: {p}", i + 1);
        }
    }
    assert!(
        pages[0].contains("Forensic report of case CASE-17: VERIFIED"),
        "{}",
        pages[0]
    );

    // The same bundle gives the same report, byte for byte.
    let again = w.join("again.html");
    with_image(&again);
    assert_eq!(std::fs::read(&again).unwrap(), html.as_bytes());
}

#[test]
fn a_bundle_that_does_not_verify_is_refused_or_reported_as_such_on_every_page() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (good, bad) = good_and_bad(root);
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();
    // Refused: exit 1, nothing written, not even the temporary file.
    let refused = out.join("refused.html");
    let o = run(&["report", s(&bad), "-o", s(&refused)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("did not verify") && stderr(&o).contains("refusing to report on"),
        "{}",
        stderr(&o)
    );
    assert!(listing(&out).is_empty(), "{:?}", listing(&out));

    // Forced: exit 1 all the same; the first heading, a banner and every printed page say so.
    let forced = out.join("forced.html");
    let v = report(&[s(&bad), "-o", s(&forced), "--force"], 1);
    assert_eq!(
        (&v["verified"], &v["forced"]),
        (&Value::from(false), &Value::from(true))
    );
    let problems = v["failures"].as_u64().unwrap();
    assert!(problems > 0);
    let html = std::fs::read_to_string(&forced).unwrap();
    assert_self_contained(&html);
    let dom = rendered(&forced);
    let first_heading = dom.split("<h1>").nth(1).unwrap().split("</h1>").next().unwrap();
    assert_eq!(
        first_heading,
        "Forensic report of case CASE-42: <span class=\"verdict bad\">DID NOT VERIFY</span>"
    );
    assert!(
        dom.split("<h1>").next().unwrap().contains(&format!(
            "THIS BUNDLE DID NOT VERIFY ({problems} problem{})",
            if problems == 1 { "" } else { "s" }
        )),
        "the banner comes first"
    );
    assert!(dom.contains("<span class=\"word failed\">FAILED</span>"));
    let pages = printed(&forced, &root.join("forced.pdf"));
    let bundle_id = json(&run(&["verify", s(&bad), "--json"]))["bundle_id"]
        .as_str()
        .unwrap()
        .to_string();
    for (i, p) in pages.iter().enumerate() {
        assert!(p.contains("DID NOT VERIFY"), "page {}: {p}", i + 1);
        assert!(p.contains("do not rely on this report"), "page {}: {p}", i + 1);
        assert!(p.contains(&format!("bundle {bundle_id}")), "page {}: {p}", i + 1);
    }
    assert_eq!(listing(&out), ["forced.html"]);

    // An existing REPORT: exit 2, untouched, checked before the bundle is read.
    let existing = out.join("existing.html");
    std::fs::write(&existing, b"keep me\n").unwrap();
    for bundle in [good.clone(), root.join("missing.zip")] {
        let o = run(&["report", s(&bundle), "-o", s(&existing)]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{} already exists; it was left untouched", s(&existing))),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&existing).unwrap(), b"keep me\n");
    }
    // Could not run: a missing bundle, an image name instead of a file; nothing written.
    let nothing = out.join("nothing.html");
    let o = run(&["report", s(&root.join("missing.zip")), "-o", s(&nothing)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = run(&["report", s(&good), "-o", s(&nothing), "--image", "localhost/app:1"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("not an image name"), "{}", stderr(&o));
    assert_eq!(listing(&out), ["existing.html", "forced.html"]);

    // Intact, with a small cap: the tables say how many more there are.
    let capped = out.join("capped.html");
    let v = report(&[s(&good), "-o", s(&capped), "--rows", "3"], 0);
    let events = v["events"].as_u64().unwrap();
    assert!(events > 3, "{v}");
    assert_eq!(v["events_shown"], 3);
    let html = std::fs::read_to_string(&capped).unwrap();
    assert!(
        html.contains(&format!(
            "{} more events: forensic timeline {} shows them all (--rows raises the cap)",
            events - 3,
            s(&good)
        )),
        "{html}"
    );
    let o = run(&["report", s(&good), "-o", s(&out.join("text.html"))]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).starts_with(&format!(
            "wrote the report of {} to {}: VERIFIED; 1 custody entry; findings ",
            s(&good),
            s(&out.join("text.html"))
        )),
        "{}",
        stdout(&o)
    );
}

/// SPEC §9.6: with `--tsa-trust`, each custody entry's trusted time (from real RFC 3161 tokens,
/// `openssl ts -reply`) is in its holder's box, as `custody log --tsa-trust` gives it, every token
/// is `verified`, and the time-stamp checks ran; without it, the tokens are shown but not judged.
#[test]
fn trusted_times_from_time_stamp_tokens_are_shown_when_the_authority_is_trusted() {
    use crate::tsa::{Alg, Authority};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tsa = Authority::start(&root.join("tsa"), Alg::Rsa, Alg::Rsa, None);
    let dir = checklist_dir(root);
    let (alice, _) = keygen(root, "alice");
    let (bob, bob_pub) = keygen(root, "bob");
    let bundle = root.join("b.zip");
    let b = s(&bundle);
    let url = tsa.url.as_str();
    for args in [
        vec!["seal", s(&dir), "-o", b, "--key", s(&alice), "--tsa", url],
        vec![
            "custody",
            "transfer",
            b,
            "--key",
            s(&alice),
            "--to",
            s(&bob_pub),
            "--tsa",
            url,
        ],
        vec!["custody", "receive", b, "--key", s(&bob), "--tsa", url],
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 0, "{args:?}: {}{}", stdout(&o), stderr(&o));
    }
    let trusted = root.join("trusted.html");
    report(&[b, "-o", s(&trusted), "--tsa-trust", s(&tsa.root())], 0);
    let dom = rendered(&trusted);
    let log = json(&run(&["custody", "log", b, "--json", "--tsa-trust", s(&tsa.root())]));
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        5,
        "sealed, timestamped, transferred, received, timestamped"
    );
    // A token covers the entry before the one carrying it: every entry but the last has a
    // trusted time.
    let (last, stamped) = entries.split_last().unwrap();
    for e in stamped {
        let t = e["trusted_time"]
            .as_str()
            .unwrap_or_else(|| panic!("no trusted time: {e}"));
        assert!(
            dom.contains(&format!("; trusted time {t}</li>")),
            "entry {}: {t}",
            e["seq"]
        );
        assert!(
            dom.contains(&format!("<td class=\"time\">{t}</td><td class=\"hash\">")),
            "{t}"
        );
    }
    assert!(last["trusted_time"].is_null());
    assert_eq!(dom.matches("; trusted time ").count(), stamped.len());
    let tokens: usize = entries.iter().map(|e| e["timestamps"].as_array().unwrap().len()).sum();
    assert_eq!(tokens, 4);
    assert_eq!(
        dom.matches("<span class=\"word passed\">verified</span>").count(),
        tokens
    );
    assert_eq!(dom.matches("not checked: no --tsa-trust").count(), 0);
    // The untrusted-signer and recorded-head checks alone were not run.
    assert_eq!(dom.matches("<span class=\"word skipped\">not checked").count(), 2);

    let untrusted = root.join("untrusted.html");
    report(&[b, "-o", s(&untrusted)], 0);
    let dom = rendered(&untrusted);
    assert!(!dom.contains("; trusted time "));
    assert_eq!(
        dom.matches("<span class=\"word passed\">not judged (no --tsa-trust)</span>")
            .count(),
        tokens
    );
    assert_eq!(dom.matches("not checked: no --tsa-trust").count(), 6);
}
