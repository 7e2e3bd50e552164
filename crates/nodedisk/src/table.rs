//! The `--list` table: one line per container, columns padded to the widest value.

use crate::model::Listing;

/// The column titles of [`table`].
pub const COLUMNS: [&str; 9] = [
    "ID",
    "NAME",
    "RUNTIME",
    "NAMESPACE",
    "POD",
    "STATE",
    "CREATED",
    "IMAGE",
    "WRITABLE",
];

/// The listing as a text table (header line, then one line per container; `-` for unknown
/// values). IDs are cut to 12 characters, the pod is `namespace/name`, the writable size is in
/// bytes. Control characters in stored values are shown as `?` so a hostile name cannot move
/// the terminal's cursor.
pub fn table(listing: &Listing) -> String {
    let mut rows: Vec<[String; 9]> = vec![COLUMNS.map(String::from)];
    for c in &listing.containers {
        let opt = |v: Option<&str>| v.map_or_else(|| "-".to_string(), clean);
        let pod = c.pod.as_ref().map(|p| {
            if p.namespace.is_empty() {
                p.name.clone()
            } else {
                format!("{}/{}", p.namespace, p.name)
            }
        });
        rows.push([
            clean(c.short_id()),
            opt(c.name.as_deref()),
            c.runtime.name().to_string(),
            opt(c.runtime.namespace()),
            opt(pod.as_deref()),
            clean(&c.state.status),
            opt(c.created.as_deref()),
            opt(c.image_ref.as_deref()),
            c.writable_size.map_or_else(|| "-".to_string(), |s| s.to_string()),
        ]);
    }
    let mut widths = [0usize; 9];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `s` with control characters replaced by `?`.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}
