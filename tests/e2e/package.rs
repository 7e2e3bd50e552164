//! Issue 15, "Install like a real tool": the Debian package `packaging/deb/build.sh` makes from
//! the binary under test is installed with `dpkg -i` on this machine (CI runs as root), and then
//! `man forensic-verify` shows the verify page, bash-completion's own loader completes `forensic
//! cus<TAB>` to `custody`, and `dpkg -r` leaves nothing behind. The oracles are independent of
//! the packaging: `--help` for the commands there are, `ldd` and `dpkg -S` for the libraries.

use crate::util::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Runs `program ARGS`, returning the output.
fn sh(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

/// Runs `program ARGS`, which must succeed; its stdout.
pub fn ok(program: &str, args: &[&str]) -> String {
    let o = sh(program, args);
    assert!(o.status.success(), "{program} {args:?}: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// The subcommands `forensic PATH… --help` lists under "Commands:" (without `help`).
fn subcommands_of(path: &[String]) -> Vec<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = stdout(&run(&args));
    let Some(list) = help.split("\nCommands:\n").nth(1) else {
        return Vec::new();
    };
    list.lines()
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

/// Every command path `--help` shows, the top level (empty) first: `[]`, `["keygen"]`, …,
/// `["custody", "log"]`, …
pub fn command_paths() -> Vec<Vec<String>> {
    let mut paths = vec![Vec::new()];
    let mut i = 0;
    while let Some(path) = paths.get(i).cloned() {
        for sub in subcommands_of(&path) {
            let mut p = path.clone();
            p.push(sub);
            paths.push(p);
        }
        i += 1;
    }
    paths
}

/// The manual page file names of those commands: `forensic.1`, `forensic-custody-log.1`, …
fn expected_pages() -> BTreeSet<String> {
    command_paths()
        .iter()
        .map(|p| {
            let mut name = vec!["forensic".to_string()];
            name.extend(p.iter().cloned());
            format!("{}.1", name.join("-"))
        })
        .collect()
}

/// The files of the shared libraries `ldd` lists for `binary`, the dynamic loader included:
/// `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)`, `/lib64/ld-linux-x86-64.so.2 (0x…)`.
pub fn ldd(binary: &Path) -> BTreeSet<String> {
    ok("ldd", &[s(binary)])
        .lines()
        .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>().as_slice() {
            [_, "=>", path, ..] | [path, ..] if path.starts_with('/') => Some(path.to_string()),
            _ => None,
        })
        .collect()
}

/// The Debian package names of the shared libraries `ldd` lists for `binary`, found with `dpkg -S`.
fn library_packages(binary: &Path) -> BTreeSet<String> {
    ldd(binary)
        .into_iter()
        .map(|lib| {
            // As dpkg knows the file: the path ldd names, else the file it links to.
            let real = std::fs::canonicalize(&lib).unwrap().display().to_string();
            let owner = [&lib, &real]
                .into_iter()
                .find_map(|p| {
                    let o = sh("dpkg", &["-S", p]);
                    o.status.success().then(|| stdout(&o))
                })
                .unwrap_or_else(|| panic!("dpkg -S finds no package for {lib}"));
            owner.split(':').next().unwrap().trim().to_string()
        })
        .collect()
}

/// The package's status for dpkg (`ii ` installed, `un `/`pn ` not), or "" if dpkg never knew it.
fn status() -> String {
    let o = sh("dpkg-query", &["-W", "-f", "${db:Status-Abbrev}", "forensic"]);
    stdout(&o)
}

/// `dpkg --purge forensic` on drop, so that a failing test leaves no package installed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "forensic"]).output();
    }
}

/// What bash-completion, loaded the way an interactive shell loads it, offers for `words` with the
/// cursor at the end of the last one; and `complete -p forensic` as the loader left it.
fn bash_complete(words: &[&str]) -> (String, Vec<String>) {
    let line = words.join(" ");
    let script = format!(
        r#"source /usr/share/bash-completion/bash_completion
__load_completion forensic || exit 10
spec=$(complete -p forensic) || exit 11
echo "$spec"
fn=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<< "$spec")
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
"$fn" forensic '{cur}' '{prev}'
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = words.join(" "),
        cword = words.len() - 1,
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = ok("bash", &["-c", &script]);
    let mut lines = out.lines();
    let spec = lines.next().unwrap_or_default().to_string();
    (spec, lines.map(str::to_string).collect())
}

/// `man PAGE` as plain text (not a terminal: man-db removes the overstrikes).
fn man(page: &str) -> String {
    let o = Command::new("man")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "200")
        .output()
        .unwrap();
    assert!(o.status.success(), "man {page}: {}", stderr(&o));
    stdout(&o)
}

/// The first line of `forensic PATH… --help`: the command's one-line description.
fn about(path: &[&str]) -> String {
    let mut args = path.to_vec();
    args.push("--help");
    stdout(&run(&args)).lines().next().unwrap().to_string()
}

/// The options `forensic PATH… --help` lists, in its order, as a man page's synopsis shows them:
/// `[--trust] [-q|--quiet] …`.
fn synopsis_options(path: &[&str]) -> String {
    let mut args = path.to_vec();
    args.push("--help");
    let help = stdout(&run(&args));
    let options = help.split("\nOptions:\n").nth(1).unwrap();
    options
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .map(|l| {
            let flags: Vec<&str> = l.split_whitespace().take_while(|w| w.starts_with('-')).collect();
            format!("[{}]", flags.join("|").replace(',', ""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn man_writes_one_page_per_command_and_never_overwrites() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("man1");
    let o = run(&["man", "--out", s(&dir)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = expected_pages();
    // 18 commands, 4 under custody, 3 under archive, 7 under audit, and forensic.1.
    assert_eq!(expected.len(), 36, "{expected:?}");
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written, expected);
    let printed: BTreeSet<String> = stdout(&o).lines().map(str::to_string).collect();
    let paths: BTreeSet<String> = expected.iter().map(|p| dir.join(p).display().to_string()).collect();
    assert_eq!(printed, paths, "each page's path, once");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("forensic-verify.1"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    // Without --out: forensic.1 on stdout, the same page.
    let top = run(&["man"]);
    assert_eq!(code(&top), 0);
    assert_eq!(top.stdout, std::fs::read(dir.join("forensic.1")).unwrap());
    assert!(
        stdout(&top).starts_with(".ie \\n(.g .ds Aq \\(aq\n"),
        "{}",
        stdout(&top)
    );
    // A second run refuses (exit 2) and writes nothing: a page that differs stays as it was.
    std::fs::write(dir.join("forensic-ls.1"), b"mine\n").unwrap();
    let again = run(&["man", "--out", s(&dir)]);
    assert_eq!(code(&again), 2);
    assert_eq!(stdout(&again), "");
    assert!(
        stderr(&again).contains("already exists; refusing to overwrite it"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(dir.join("forensic-ls.1")).unwrap(), b"mine\n");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), expected.len());
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let o = run(&["completions", "tcsh"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("invalid value 'tcsh'"), "{}", stderr(&o));
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        assert!(stdout(&o).contains("custody"), "{shell}");
    }
}

#[test]
fn the_debian_package_installs_man_pages_and_completions_and_removes_cleanly() {
    let before = status();
    assert!(
        !before.starts_with("ii") && !before.starts_with("rc"),
        "a forensic package is already on this machine ({before:?}): the test would remove it"
    );
    let work = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_forensic");
    let out = ok(
        "bash",
        &[
            s(&repo().join("packaging/deb/build.sh")),
            "--binary",
            binary,
            "--out",
            s(work.path()),
        ],
    );
    let version = env!("CARGO_PKG_VERSION");
    let arch = ok("dpkg", &["--print-architecture"]).trim().to_string();
    let deb = work.path().join(format!("forensic_{version}_{arch}.deb"));
    assert_eq!(out, format!("{}\n", deb.display()));

    // The control file: version from Cargo.toml, Depends naming exactly the packages that hold
    // the libraries the binary links (each with a minimum version).
    let field = |f: &str| ok("dpkg-deb", &["--field", s(&deb), f]).trim().to_string();
    assert_eq!(field("Package"), "forensic");
    assert_eq!(field("Version"), version);
    assert_eq!(field("Architecture"), arch);
    let depends = field("Depends");
    let named: BTreeSet<String> = depends
        .split(", ")
        .map(|d| d.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(named, library_packages(Path::new(binary)), "Depends: {depends}");
    assert!(depends.split(", ").all(|d| d.contains(" (>= ")), "Depends: {depends}");

    // The files, exactly.
    let pages = expected_pages();
    let mut want: BTreeSet<String> = [
        "/usr/bin/forensic",
        "/usr/share/bash-completion/completions/forensic",
        "/usr/share/zsh/vendor-completions/_forensic",
        "/usr/share/fish/vendor_completions.d/forensic.fish",
        "/usr/share/doc/forensic/copyright",
        "/usr/share/doc/forensic/README.md.gz",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    want.extend(pages.iter().map(|p| format!("/usr/share/man/man1/{p}.gz")));
    let files: BTreeSet<String> = ok("dpkg-deb", &["--contents", s(&deb)])
        .lines()
        .filter(|l| l.starts_with('-'))
        .map(|l| l.rsplit(' ').next().unwrap().trim_start_matches('.').to_string())
        .collect();
    assert_eq!(files, want);

    let _guard = Installed;
    ok("dpkg", &["-i", s(&deb)]);
    assert!(status().starts_with("ii"), "{}", status());
    assert_eq!(ok("/usr/bin/forensic", &["--version"]), format!("forensic {version}\n"));

    // man finds the pages where man-db looks, and shows the verify synopsis.
    for page in ["forensic-verify", "forensic-collect"] {
        assert_eq!(ok("man", &["-w", page]), format!("/usr/share/man/man1/{page}.1.gz\n"));
    }
    let verify = man("forensic-verify");
    let lines: Vec<&str> = verify.lines().map(str::trim).collect();
    let at = |heading: &str| {
        lines
            .iter()
            .position(|l| *l == heading)
            .unwrap_or_else(|| panic!("{heading}: {verify}"))
    };
    assert_eq!(
        lines[at("NAME") + 1],
        format!("forensic-verify - {}", about(&["verify"])),
    );
    assert_eq!(
        lines[at("SYNOPSIS") + 1],
        format!("forensic verify {} <BUNDLE>", synopsis_options(&["verify"]))
    );
    let grep = Command::new("sh")
        .args(["-c", "MANPAGER=cat man forensic-verify | grep -c -- '--expect-head'"])
        .output()
        .unwrap();
    assert_eq!(stdout(&grep), "3\n", "{verify}");
    let custody_log = man("forensic-custody-log");
    assert!(
        custody_log.contains(&format!("forensic-custody-log - {}", about(&["custody", "log"]))),
        "{custody_log}"
    );

    // bash-completion's loader finds the script by the command's name and completes with it.
    let (spec, offered) = bash_complete(&["forensic", "cus"]);
    assert_eq!(
        spec,
        "complete -o bashdefault -o default -o nosort -F _forensic forensic"
    );
    assert_eq!(offered, ["custody"]);
    assert_eq!(bash_complete(&["forensic", "custody", "tr"]).1, ["transfer"]);
    assert_eq!(bash_complete(&["forensic", "archive", "st"]).1, ["status"]);
    // The zsh and fish scripts are what the binary generates.
    for (shell, path) in [
        ("zsh", "/usr/share/zsh/vendor-completions/_forensic"),
        ("fish", "/usr/share/fish/vendor_completions.d/forensic.fish"),
    ] {
        assert_eq!(
            std::fs::read(path).unwrap(),
            run(&["completions", shell]).stdout,
            "{shell}"
        );
    }

    // dpkg -r: every file gone, and the package unknown or purged.
    let listed: Vec<String> = ok("dpkg", &["-L", "forensic"]).lines().map(str::to_string).collect();
    ok("dpkg", &["-r", "forensic"]);
    for f in &want {
        assert!(Path::new(f).symlink_metadata().is_err(), "{f} left behind");
    }
    assert!(
        Path::new("/usr/share/doc/forensic").symlink_metadata().is_err(),
        "the doc directory is left behind"
    );
    assert!(listed.iter().any(|l| l == "/usr/share/doc/forensic"), "{listed:?}");
    let after = status();
    assert!(
        after.is_empty() || after.starts_with("un") || after.starts_with("pn"),
        "{after:?}"
    );
    assert_eq!(
        code(&sh("man", &["-w", "forensic-verify"])),
        16,
        "man still finds the page"
    );
}
