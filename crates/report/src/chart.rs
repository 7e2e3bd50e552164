//! The activity chart: a histogram of events over time, one row per series (file changes,
//! process starts, audit events, alerts), drawn as inline SVG.
//!
//! The histogram is built as the (sorted or unsorted) events stream by, in bounded memory: its
//! buckets are aligned on multiples of a round width since the epoch (1 ms, … 200 ms, 1 s,
//! 2 s, 10 s, 30 s, 1 min, 5 min, … 1 day, 7 days, …), and whenever the events span more than [`MAX_BUCKETS`]
//! of them the width grows to the next one, each a multiple of the one before, so buckets merge
//! exactly: every count is the exact number of events in `[start, start + width)`.

use crate::html::Text;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Most buckets a histogram spans.
pub const MAX_BUCKETS: i128 = 60;

/// Bucket widths in milliseconds, each a multiple of the one before: 1 ms … 200 ms, 1 s, 2 s,
/// 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 6 h, 12 h, 1 day, 7 days, 28 days, 364 days,
/// 3,640 days, 36,400 days (the span of every `i64` nanosecond fits in 60 of the last).
const WIDTHS_MS: [i64; 23] = [
    1,
    2,
    10,
    20,
    100,
    200,
    1_000,
    2_000,
    10_000,
    30_000,
    60_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
    21_600_000,
    43_200_000,
    86_400_000,
    604_800_000,
    2_419_200_000,
    31_449_600_000,
    314_496_000_000,
    3_144_960_000_000,
];

const NANOS: i64 = 1_000_000_000;
const NANOS_PER_MS: i64 = 1_000_000;

/// Counts of events per bucket and series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    series: usize,
    /// Index into [`WIDTHS_MS`].
    step: usize,
    /// Bucket index (start / width) → count per series.
    buckets: BTreeMap<i64, Vec<u64>>,
}

impl Histogram {
    /// An empty histogram of `series` series.
    pub fn new(series: usize) -> Histogram {
        Histogram {
            series,
            step: 0,
            buckets: BTreeMap::new(),
        }
    }

    /// The width of a bucket in nanoseconds.
    pub fn width_ns(&self) -> i64 {
        WIDTHS_MS.get(self.step).copied().unwrap_or(1) * NANOS_PER_MS
    }

    /// Counts one event of `series` at `t_ns` (nanoseconds since the epoch); a series out of
    /// range is ignored.
    pub fn add(&mut self, series: usize, t_ns: i64) {
        if series >= self.series {
            return;
        }
        let counts = self
            .buckets
            .entry(t_ns.div_euclid(self.width_ns()))
            .or_insert_with(|| vec![0; self.series]);
        if let Some(c) = counts.get_mut(series) {
            *c += 1;
        }
        while self.span() > MAX_BUCKETS && self.step + 1 < WIDTHS_MS.len() {
            self.coarsen();
        }
    }

    /// Buckets from the first to the last non-empty one.
    fn span(&self) -> i128 {
        match (self.buckets.keys().next(), self.buckets.keys().next_back()) {
            (Some(first), Some(last)) => i128::from(*last) - i128::from(*first) + 1,
            _ => 0,
        }
    }

    fn coarsen(&mut self) {
        let (old, new) = match (WIDTHS_MS.get(self.step), WIDTHS_MS.get(self.step + 1)) {
            (Some(o), Some(n)) => (*o, *n),
            _ => return,
        };
        let factor = new / old;
        let mut merged: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
        for (idx, counts) in std::mem::take(&mut self.buckets) {
            let into = merged
                .entry(idx.div_euclid(factor))
                .or_insert_with(|| vec![0; self.series]);
            for (a, b) in into.iter_mut().zip(counts) {
                *a += b;
            }
        }
        self.buckets = merged;
        self.step += 1;
    }

    /// Every bucket from the first non-empty one to the last, empty ones included: (start in
    /// ns, counts per series).
    pub fn buckets(&self) -> Vec<(i64, Vec<u64>)> {
        let (Some(first), Some(last)) = (self.buckets.keys().next(), self.buckets.keys().next_back()) else {
            return Vec::new();
        };
        let w = self.width_ns();
        (*first..=*last)
            .map(|idx| {
                let counts = self.buckets.get(&idx).cloned().unwrap_or_else(|| vec![0; self.series]);
                (idx.saturating_mul(w), counts)
            })
            .collect()
    }

    /// Events counted in `series`.
    pub fn total(&self, series: usize) -> u64 {
        self.buckets.values().filter_map(|c| c.get(series)).sum()
    }
}

/// A width in words: `100 ms`, `10 s`, `5 min`, `6 h`, `7 days`.
pub fn width_text(ns: i64) -> String {
    if ns < NANOS {
        return format!("{} ms", ns / NANOS_PER_MS);
    }
    let s = ns / NANOS;
    match s {
        s if s % 86_400 == 0 && s >= 86_400 => crate::page::plural(u64::try_from(s / 86_400).unwrap_or(0), "day"),
        s if s % 3_600 == 0 && s >= 3_600 => format!("{} h", s / 3_600),
        s if s % 60 == 0 && s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// One row of the chart.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// The row's label (`file changes`), also used in each bar's tooltip.
    pub label: &'a str,
    /// The CSS class of its bars (colour only: the label says what they are).
    pub class: &'a str,
}

/// Chart geometry, in SVG user units.
const LABEL_W: i64 = 170;
const PLOT_W: i64 = 780;
const ROW_H: i64 = 56;
const BAR_MAX_H: i64 = 40;
const AXIS_H: i64 = 34;

/// The histogram as an inline SVG: one row per series with its label, total and peak; a bar per
/// bucket scaled to the row's peak, each with a `<title>` (its interval and count), and a time
/// axis (UTC). `format_time` writes an instant (ns) as text. Empty when nothing was counted.
pub fn svg(h: &Histogram, series: &[Series<'_>], format_time: &dyn Fn(i64) -> String) -> String {
    let buckets = h.buckets();
    if buckets.is_empty() {
        return String::new();
    }
    let n = buckets.len() as i64;
    let rows = series.len() as i64;
    let width = LABEL_W + PLOT_W + 10;
    let height = rows * ROW_H + AXIS_H;
    let w_ns = h.width_ns();
    let slot = PLOT_W as f64 / n as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" \
aria-labelledby=\"chart-title\">\
<title id=\"chart-title\">Events per {} from {} to {} (UTC), one row per source</title>",
        width_text(w_ns),
        Text(&format_time(buckets.first().map_or(0, |b| b.0))),
        Text(&format_time(buckets.last().map_or(0, |b| b.0.saturating_add(w_ns)))),
    );
    for (r, sr) in series.iter().enumerate() {
        let r = r as i64;
        let top = r * ROW_H;
        let base = top + 6 + BAR_MAX_H;
        let peak = buckets
            .iter()
            .filter_map(|(_, c)| c.get(r as usize))
            .max()
            .copied()
            .unwrap_or(0);
        let total = h.total(r as usize);
        let _ = write!(
            s,
            "<g class=\"row\"><text x=\"0\" y=\"{}\" class=\"label\">{}</text>\
<text x=\"0\" y=\"{}\" class=\"sub\">{total} in all{}</text>\
<line x1=\"{LABEL_W}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" class=\"base\"/>",
            top + 24,
            Text(sr.label),
            top + 40,
            if peak > 0 {
                format!(", at most {peak} per {}", width_text(w_ns))
            } else {
                String::new()
            },
            LABEL_W + PLOT_W,
        );
        for (i, (start, counts)) in buckets.iter().enumerate() {
            let c = counts.get(r as usize).copied().unwrap_or(0);
            if c == 0 || peak == 0 {
                continue;
            }
            // At least 2 units high, so that a single event shows next to a peak of thousands.
            let bar_h = ((c as f64 / peak as f64) * BAR_MAX_H as f64).max(2.0);
            let x = LABEL_W as f64 + i as f64 * slot;
            let _ = write!(
                s,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar_h:.1}\">\
<title>{}: {c} from {} to {}</title></rect>",
                Text(sr.class),
                base as f64 - bar_h,
                (slot - 1.0).max(1.0),
                Text(sr.label),
                Text(&format_time(*start)),
                Text(&format_time(start.saturating_add(w_ns))),
            );
        }
        s.push_str("</g>");
    }
    // The time axis: ticks at the first, middle and last bucket boundaries (three labels fit).
    let axis_y = rows * ROW_H + 4;
    let _ = write!(s, "<g class=\"axis\">");
    let ticks = 2.min(n);
    for t in 0..=ticks {
        let idx = t * n / ticks.max(1);
        let x = LABEL_W as f64 + idx as f64 * slot;
        let at = buckets
            .first()
            .map_or(0, |b| b.0)
            .saturating_add(idx.saturating_mul(w_ns));
        let anchor = match t {
            0 => "start",
            t if t == ticks => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\"/>\
<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            axis_y - 4,
            axis_y + 2,
            axis_y + 16,
            Text(&format_time(at)),
        );
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const T0: i64 = 1_715_108_100 * NANOS; // 2024-05-07T18:55:00Z, a multiple of 5 min.

    #[test]
    fn buckets_grow_to_round_widths_and_counts_stay_exact() {
        // One event a minute for three hours: 180 one-minute buckets are too many; 5 min fits.
        let mut h = Histogram::new(2);
        for m in 0..180 {
            h.add(0, T0 + m * 60 * NANOS);
        }
        h.add(1, T0 + 7 * 60 * NANOS + 1);
        assert_eq!(h.width_ns(), 300 * NANOS);
        let b = h.buckets();
        assert_eq!(b.len(), 36);
        assert_eq!(b[0].0, T0);
        assert!(b.iter().all(|(_, c)| c[0] == 5), "{b:?}");
        assert_eq!(b[1].1[1], 1, "minute 7 is in the second bucket");
        assert_eq!((h.total(0), h.total(1)), (180, 1));
    }

    #[test]
    fn merging_gives_what_bucketing_at_the_final_width_gives() {
        // Unsorted, irregular times (negative ones too): each bucket equals a direct count.
        let times: Vec<i64> = (0..500i64)
            .map(|i| T0 + ((i * 7919) % 997 - 300) * 37 * NANOS + i)
            .collect();
        let mut h = Histogram::new(1);
        for t in &times {
            h.add(0, *t);
        }
        let w = h.width_ns();
        assert!(h.buckets().len() as i128 <= MAX_BUCKETS);
        for (start, counts) in h.buckets() {
            let direct = times.iter().filter(|t| (start..start + w).contains(*t)).count() as u64;
            assert_eq!(counts[0], direct, "bucket at {start}");
        }
        assert_eq!(h.total(0), 500);
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut h = Histogram::new(1);
        h.add(0, i64::MIN);
        h.add(0, i64::MAX);
        h.add(0, 0);
        assert_eq!(h.total(0), 3);
        assert!(h.buckets().len() as i128 <= MAX_BUCKETS);
        // 584 years in 59 buckets of 3,640 days.
        assert_eq!(h.width_ns(), 314_496_000 * NANOS);
        let mut h = Histogram::new(1);
        h.add(0, 5);
        assert_eq!(h.width_ns(), NANOS_PER_MS, "the finest width for one event");
    }

    #[test]
    fn the_svg_has_a_bar_per_nonempty_bucket_with_its_count_in_words() {
        let mut h = Histogram::new(2);
        for s in [0, 20, 20, 40, 40, 40] {
            h.add(0, T0 + s * NANOS);
        }
        h.add(1, T0 + 40 * NANOS);
        assert_eq!(h.width_ns(), NANOS, "41 buckets of 1 s");
        let series = [
            Series {
                label: "file changes",
                class: "s-file",
            },
            Series {
                label: "<alerts>",
                class: "s-alert",
            },
        ];
        let svg = svg(&h, &series, &|ns| format!("t{}", (ns - T0) / NANOS));
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect ").count(),
            4,
            "3 file buckets, 1 alert bucket: {svg}"
        );
        for want in [
            "<title>file changes: 1 from t0 to t1</title>",
            "<title>file changes: 2 from t20 to t21</title>",
            "<title>file changes: 3 from t40 to t41</title>",
            "<title>&lt;alerts&gt;: 1 from t40 to t41</title>",
            ">6 in all, at most 3 per 1 s</text>",
            ">1 in all, at most 1 per 1 s</text>",
            "Events per 1 s from t0 to t41 (UTC)",
            // Ticks at the first, middle and last bucket boundaries.
            "text-anchor=\"start\">t0</text>",
            "text-anchor=\"middle\">t20</text>",
            "text-anchor=\"end\">t41</text>",
        ] {
            assert!(svg.contains(want), "{want}: {svg}");
        }
        // The tallest bar is the row's peak, full height; the others in proportion.
        assert!(svg.contains("height=\"40.0\""), "{svg}");
        assert!(svg.contains("height=\"13.3\""), "{svg}");
        assert!(!svg.contains("<alerts>") && !svg.contains("href") && !svg.contains("url("));
        assert_eq!(super::svg(&Histogram::new(1), &series, &|_| String::new()), "");
    }

    #[test]
    fn widths_read_as_words() {
        assert_eq!(width_text(200 * NANOS_PER_MS), "200 ms");
        assert_eq!(width_text(NANOS), "1 s");
        assert_eq!(width_text(300 * NANOS), "5 min");
        assert_eq!(width_text(21_600 * NANOS), "6 h");
        assert_eq!(width_text(86_400 * NANOS), "1 day");
        assert_eq!(width_text(604_800 * NANOS), "7 days");
        for pair in WIDTHS_MS.windows(2) {
            assert_eq!(pair[1] % pair[0], 0, "{pair:?}");
        }
    }
}
