//! The one escaping of text from the bundle into the report: every string that did not come
//! from this crate's own templates is written through [`Text`] (HTML text and quoted attribute
//! values), or [`css_string`] for the one place the page header repeats bundle data in CSS.
//!
//! # Security
//! A bundle is attacker input: a path, a note, an actor name or a process's command line may
//! hold `<script>`, an `onerror=` attribute, a quote that ends an attribute, a bidirectional
//! override or an escape sequence. [`Text`] writes `&`, `<`, `>`, `"` and `'` as character
//! references, so no bundle string can open or close an element or an attribute; characters a
//! reader could be fooled by (control and format characters: [`is_unsafe_display`]) are shown
//! with the tool's one display escaping ([`escape_display`], as on the terminal), so that
//! `\u{202e}` cannot make `exe.txt` read as `txt.exe` in the report either.

use forensic_bundle::name::{escape_display, is_unsafe_display};
use std::borrow::Cow;
use std::fmt;

/// Text from the bundle, escaped for HTML when displayed: `write!(out, "<td>{}</td>", Text(name))`.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a>(pub &'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Cow<'_, str> = if self.0.chars().any(is_unsafe_display) {
            Cow::Owned(escape_display(self.0.as_bytes()))
        } else {
            Cow::Borrowed(self.0)
        };
        let mut rest: &str = &shown;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(rest.get(..i).unwrap_or_default())?;
            f.write_str(match rest.as_bytes().get(i) {
                Some(b'&') => "&amp;",
                Some(b'<') => "&lt;",
                Some(b'>') => "&gt;",
                Some(b'"') => "&quot;",
                _ => "&#39;",
            })?;
            rest = rest.get(i + 1..).unwrap_or_default();
        }
        f.write_str(rest)
    }
}

/// [`Text`] as a `String`.
pub fn escape(s: &str) -> String {
    Text(s).to_string()
}

/// A CSS string literal (with its quotes) holding `s`: every character but ASCII letters,
/// digits, space and `-_.:·—` written as a CSS escape (`\3c `), so that nothing in `s` can end
/// the string, the rule or the `<style>` element.
pub fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ':' | '·' | '—') {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", u32::from(c)));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_bundle_text_stays_text() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape("x\" onmouseover='alert(1)' a=\"b & c"),
            "x&quot; onmouseover=&#39;alert(1)&#39; a=&quot;b &amp; c"
        );
        assert_eq!(
            escape("&lt;"),
            "&amp;lt;",
            "an entity in the bundle is shown as written"
        );
        assert_eq!(escape("café /tmp/ok"), "café /tmp/ok");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn what_could_fool_a_reader_is_shown_escaped_as_on_the_terminal() {
        // A bidirectional override, an escape sequence and a newline: the one display escaping,
        // then HTML (the backslash it writes is not special in HTML).
        assert_eq!(escape("evil\u{202e}txt.exe"), r"evil\u{202e}txt.exe");
        assert_eq!(escape("<b>\x1b[2J\nx"), r"&lt;b&gt;\u{1b}[2J\nx");
        // Without such a character a backslash is left as it is (not escaped twice).
        assert_eq!(escape(r"C:\temp"), r"C:\temp");
    }

    #[test]
    fn css_strings_cannot_break_out() {
        assert_eq!(css_string("1234-ab.cd"), "\"1234-ab.cd\"");
        assert_eq!(
            css_string("a\"}</style><script>"),
            r#""a\22 \7d \3c \2f style\3e \3c script\3e ""#
        );
        assert_eq!(css_string("x\\y\n"), r#""x\5c y\a ""#);
    }
}
