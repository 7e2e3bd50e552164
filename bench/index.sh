#!/usr/bin/env bash
# Benchmark for the full-tree index that `forensic collect` stores as 5-filesystem/tree-index.jsonl
# (issue: collect). Not a test: prints figures to record in README.md.
# Targets: at least 3x faster than `find DIR -type f -print0 | xargs -0 sha256sum` over the same tree,
# no slower than `find DIR -xdev -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256` (the best
# hashing-only pipeline, issue #16: ratio <= 1.0), peak RSS under 128 MiB.
# Usage: bash bench/index.sh [DIR]   (default /usr/lib: about 60,000 files here). The tree is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/usr/lib}
cargo build --release --quiet -p forensic-collect --example index_tree
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/index_tree
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

files=$(find "$dir" -xdev -type f | wc -l)
bytes=$(du -sxb "$dir" | cut -f1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "tree: $dir, $files files, $((bytes / 1048576)) MiB"
echo "date: $(date -u +%F), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm the page cache so both sides read from memory.
find "$dir" -xdev -type f -print0 | xargs -0 cat > /dev/null 2>&1 || true
for i in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin" "$dir" > "$work/index.jsonl" 2> /dev/null
  cat "$work/t" >> "$work/index.times"
  /usr/bin/time -f '%e %M' -o "$work/t" sh -c "find '$dir' -xdev -type f -print0 | xargs -0 sha256sum > /dev/null 2>&1" || true
  cat "$work/t" >> "$work/find.times"
  /usr/bin/time -f '%e %M' -o "$work/t" sh -c "find '$dir' -xdev -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256 > /dev/null 2>&1" || true
  cat "$work/t" >> "$work/openssl.times"
done
i=$(cut -d' ' -f1 "$work/index.times" | median)
f=$(cut -d' ' -f1 "$work/find.times" | median)
o=$(cut -d' ' -f1 "$work/openssl.times" | median)
rss=$(cut -d' ' -f2 "$work/index.times" | sort -n | tail -1)
echo "index: ${i}s (runs: $(cut -d' ' -f1 "$work/index.times" | tr '\n' ' ')), peak RSS $((rss / 1024)) MiB, $(wc -l < "$work/index.jsonl") lines"
echo "find | xargs sha256sum: ${f}s"
awk -v i="$i" -v f="$f" 'BEGIN { printf "speed-up: %.1fx\n", f / i }'
echo "find | xargs -P2 -n500 openssl dgst -sha256: ${o}s (runs: $(cut -d' ' -f1 "$work/openssl.times" | tr '\n' ' '))"
awk -v i="$i" -v o="$o" 'BEGIN { printf "ratio index / openssl pipeline: %.2f (target <= 1.0)\n", i / o }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
