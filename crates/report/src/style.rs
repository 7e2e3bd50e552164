//! The report's style sheet, inline in the page: system fonts only, no image, no `url()`, no
//! `@import`. Print rules: the printer's paper (A4 or Letter: the layout fits A4's narrower
//! width), page breaks kept out of rows, boxes and headings' first lines, table headers repeated
//! on each page, and the page's margin boxes (CSS Paged Media, `@top-left` …) repeating the
//! verdict, the bundle id and the manifest digest on every printed page ([`page_rules`]).

use crate::html::css_string;

/// The fixed rules.
pub const STYLE: &str = r#"
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg-soft: #f6f8fa; --ok: #1a7f37; --bad: #cf222e;
  --crit: #8b0000; --high: #cf222e; --med: #bc4c00; --low: #4d5b6b; --info: #57606a; }
* { box-sizing: border-box; }
html { color: var(--fg); background: #fff; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0 auto; padding: 0 24px 48px; max-width: 1240px; }
code, .mono, td.hash, .fp { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
.hash, .fp { overflow-wrap: anywhere; }
h1 { font-size: 1.7rem; margin: 24px 0 4px; }
h2 { font-size: 1.3rem; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 22px 0 8px; }
p.lead { color: var(--muted); margin: 0 0 12px; }
.banner { position: sticky; top: 0; z-index: 2; margin: 0 -24px; padding: 10px 24px; background: var(--bad); color: #fff;
  font-weight: 700; letter-spacing: 0.01em; }
.verdict { display: inline-block; padding: 1px 8px; border-radius: 4px; font-weight: 700; border: 2px solid; }
.verdict.ok { color: var(--ok); border-color: var(--ok); }
.verdict.bad { color: #fff; background: var(--bad); border-color: var(--bad); }
nav.toc { margin: 10px 0 0; font-size: 0.9rem; }
nav.toc ol { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; margin: 0; padding: 0; }
nav.toc a { color: #0550ae; text-decoration: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 0.86rem; }
caption { text-align: left; color: var(--muted); padding: 2px 0 6px; caption-side: top; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
thead th { background: var(--bg-soft); }
tbody th { font-weight: 600; background: #fbfcfd; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.wrap { overflow-wrap: anywhere; }
.more { color: var(--muted); font-style: italic; }
.word { font-weight: 700; }
.passed { color: var(--ok); }
.failed { color: var(--bad); }
.skipped { color: var(--muted); }
.sev { display: inline-block; min-width: 5.2em; text-align: center; padding: 0 6px; border-radius: 3px; color: #fff;
  font-size: 0.8rem; font-weight: 700; text-transform: uppercase; }
.sev-critical { background: var(--crit); } .sev-high { background: var(--high); } .sev-medium { background: var(--med); }
.sev-low { background: var(--low); } .sev-info { background: var(--info); }
.finding { border: 1px solid var(--line); border-left-width: 6px; border-radius: 4px; padding: 8px 12px; margin: 8px 0; }
.finding.critical { border-left-color: var(--crit); } .finding.high { border-left-color: var(--high); }
.finding.medium { border-left-color: var(--med); } .finding.low { border-left-color: var(--low); }
.finding.info { border-left-color: var(--info); }
.finding p { margin: 4px 0; overflow-wrap: anywhere; }
.finding table { margin: 6px 0 0; }
.chain { display: flex; flex-wrap: wrap; align-items: stretch; gap: 8px; margin: 8px 0 14px; }
.holder { flex: 1 1 260px; max-width: 400px; border: 2px solid var(--line); border-radius: 8px; padding: 8px 12px; background: var(--bg-soft); }
.holder h3 { margin: 0 0 2px; font-size: 1rem; overflow-wrap: anywhere; }
.holder .fp { color: var(--muted); }
.holder ol { margin: 6px 0 0; padding-left: 18px; }
.holder li { margin: 4px 0; overflow-wrap: anywhere; }
.hand { align-self: center; text-align: center; color: var(--muted); font-size: 0.8rem; max-width: 130px; }
.hand .arrow { display: block; font-size: 1.6rem; line-height: 1; color: var(--fg); }
.tree { white-space: pre; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
svg.chart { width: 100%; height: auto; max-width: 960px; display: block; margin: 8px 0; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--fg); }
svg.chart text.sub { fill: var(--muted); font-size: 11px; }
svg.chart .base { stroke: var(--line); }
svg.chart .axis line { stroke: var(--muted); }
svg.chart .axis text { font-size: 11px; fill: var(--muted); }
.s-file { fill: #0969da; } .s-process { fill: #8250df; } .s-audit { fill: #bc4c00; } .s-falco { fill: #cf222e; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85rem; }
@media print {
  body { font-size: 9.5pt; max-width: none; padding: 0; }
  .banner { position: static; margin: 0 0 8px; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  section.major { break-before: page; page-break-before: always; }
  tr, .finding, .holder, .hand, svg.chart, dl.facts { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 7.8pt; }
  .sev, .verdict, .banner, svg.chart rect { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The page rules: margins, and the margin boxes that repeat `verdict`, the bundle id and the
/// manifest digest on every printed page (with the page number). Every value is a CSS string
/// ([`css_string`]): bundle data cannot leave it.
pub fn page_rules(verdict: &str, bundle_id: &str, manifest_digest: &str) -> String {
    format!(
        "@page {{ margin: 18mm 12mm 16mm 12mm;\n  \
@top-left {{ content: {}; font: 700 8pt system-ui, Arial, sans-serif; color: #000; }}\n  \
@top-right {{ content: {}; font: 8pt ui-monospace, \"DejaVu Sans Mono\", monospace; color: #000; }}\n  \
@bottom-left {{ content: {}; font: 7pt ui-monospace, \"DejaVu Sans Mono\", monospace; color: #000; }}\n  \
@bottom-right {{ content: \"page \" counter(page) \" of \" counter(pages); font: 8pt system-ui, Arial, sans-serif; }}\n}}\n",
        css_string(verdict),
        css_string(&format!("bundle {bundle_id}")),
        css_string(&format!("manifest sha256 {manifest_digest}")),
    )
}
