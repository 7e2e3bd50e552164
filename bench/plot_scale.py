"""Plots bench/scale.sh's CSV as an SVG (Python standard library only): time and peak RSS of each
command against the number of files in the container, both axes logarithmic for time (a line of
slope 1 is linear growth), memory on a linear axis with the 128 MiB target.

Usage: python3 bench/plot_scale.py scale.csv scale.svg "machine, date"
Also prints the CSV as a Markdown table (one row per case, one column per command) for README.md.
"""

import csv
import math
import sys
from xml.sax.saxutils import escape

COLORS = {
    "peer": "#000000",
    "collect": "#1f77b4",
    "verify": "#ff7f0e",
    "ls": "#8c564b",
    "diff": "#2ca02c",
    "show-summary": "#d62728",
    "show-files": "#9467bd",
    "timeline": "#e377c2",
    "report": "#17becf",
}
W, H = 460, 340  # one panel
L, R, T, B = 70, 20, 40, 50


def load(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["case"] == "usrlib":
                continue  # a different kind of tree: in the CSV and the README, not on the lines
            rows.setdefault(r["command"], []).append(
                (int(r["files"]), float(r["seconds"]), int(r["peak_rss_kib"]) / 1024)
            )
    for v in rows.values():
        v.sort()
    return rows


def panel(x0, title, rows, index, ylog, ylabel, target=None):
    xs = [p[0] for v in rows.values() for p in v]
    ys = [p[index] for v in rows.values() for p in v]
    if target:
        ys.append(target)
    xlo, xhi = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    if ylog:
        ylo = math.floor(math.log10(max(min(ys), 0.01)))
        yhi = math.ceil(math.log10(max(ys)))
        if yhi == ylo:
            yhi += 1
    else:
        ylo, yhi = 0.0, max(ys) * 1.1

    def px(x):
        return x0 + L + (math.log10(x) - xlo) / (xhi - xlo) * (W - L - R)

    def py(y):
        v = math.log10(max(y, 10**ylo)) if ylog else y
        return T + (1 - (v - ylo) / (yhi - ylo)) * (H - T - B)

    out = [f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    out.append(f'<rect x="{x0 + L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>')
    for e in range(math.ceil(xlo), math.floor(xhi) + 1):
        x = px(10**e)
        out.append(f'<line x1="{x}" y1="{T}" x2="{x}" y2="{H - B}" stroke="#ddd"/>')
        out.append(f'<text x="{x}" y="{H - B + 16}" text-anchor="middle">{10**e:,}</text>')
    out.append(f'<text x="{x0 + L + (W - L - R) / 2}" y="{H - 12}" text-anchor="middle">files in the container</text>')
    ticks = [10**e for e in range(ylo, yhi + 1)] if ylog else [yhi * i / 5 for i in range(6)]
    for t in ticks:
        y = py(t)
        out.append(f'<line x1="{x0 + L}" y1="{y}" x2="{x0 + W - R}" y2="{y}" stroke="#ddd"/>')
        label = f"{t:g}" if ylog else f"{t:.0f}"
        out.append(f'<text x="{x0 + L - 6}" y="{y + 4}" text-anchor="end">{label}</text>')
    out.append(
        f'<text x="{x0 + 16}" y="{T + (H - T - B) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 16} {T + (H - T - B) / 2})">{escape(ylabel)}</text>'
    )
    if target:
        y = py(target)
        out.append(f'<line x1="{x0 + L}" y1="{y}" x2="{x0 + W - R}" y2="{y}" stroke="red" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{x0 + W - R - 4}" y="{y - 4}" text-anchor="end" fill="red">target {target} MiB</text>')
    for name, pts in rows.items():
        color = COLORS.get(name, "#7f7f7f")
        coords = " ".join(f"{px(p[0]):.1f},{py(p[index]):.1f}" for p in pts)
        dash = ' stroke-dasharray="3 3"' if name == "peer" else ""
        out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for p in pts:
            out.append(f'<circle cx="{px(p[0]):.1f}" cy="{py(p[index]):.1f}" r="3" fill="{color}"/>')
    return out


def main():
    src, dst, caption = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = load(src)
    body = panel(0, "time (s, log)", rows, 1, True, "seconds")
    mem = {k: v for k, v in rows.items() if k != "peer"}
    body += panel(W, "peak RSS (MiB)", mem, 2, False, "MiB", target=128)
    legend_y = H + 10
    for i, name in enumerate(rows):
        x = 20 + (i % 4) * 220
        y = legend_y + (i // 4) * 18
        label = "peer: find | xargs -P2 openssl dgst" if name == "peer" else f"forensic {name}"
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{COLORS.get(name, "#7f7f7f")}"/>')
        body.append(f'<text x="{x + 18}" y="{y + 11}">{escape(label)}</text>')
    height = legend_y + 18 * ((len(rows) + 3) // 4) + 24
    body.append(f'<text x="{W}" y="{height - 8}" text-anchor="middle" fill="#555">{escape(caption)}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{height}" '
        f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )
    with open(dst, "w") as f:
        f.write(svg)
    print_table(src)


def print_table(src):
    cases, commands, cells = [], [], {}
    with open(src, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["case"], r["files"], r["index_entries"])
            if key not in cases:
                cases.append(key)
            if r["command"] not in commands:
                commands.append(r["command"])
            cells[(key, r["command"])] = f'{float(r["seconds"]):.2f} s, {int(r["peak_rss_kib"]) / 1024:.0f} MiB'
    print("| files (index entries) | " + " | ".join(commands) + " |")
    print("|---" * (len(commands) + 1) + "|")
    for key in cases:
        case, files, entries = key
        name = f"{int(files):,} ({int(entries or 0):,})" + (" `/usr/lib`" if case == "usrlib" else "")
        print(f"| {name} | " + " | ".join(cells.get((key, c), "") for c in commands) + " |")


if __name__ == "__main__":
    main()
