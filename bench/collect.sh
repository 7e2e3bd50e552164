#!/usr/bin/env bash
# Benchmark for `forensic collect` of a large container (issue #16): a podman container whose image
# is one layer holding /usr/lib (plus busybox-static to keep it running), collected 3 times with the
# release binary, side by side with the hashing-only pipeline over the same files in the same run:
#   find ROOT -xdev -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256
# over the container's root as `podman mount` shows it. Not a test: prints figures for README.md.
# Target: collect <= 1.3x that pipeline, peak RSS < 64 MiB.
# Usage: bash bench/collect.sh [DIR]   (default /usr/lib). Needs root, podman, runc, busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/usr/lib}
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --quiet -p forensic
bin=$target/release/forensic
image=localhost/forensic-bench-collect:latest
name=forensic-bench-collect-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-bench.XXXXXX")
cleanup() {
  podman umount "$name" > /dev/null 2>&1 || true
  podman rm -f -t 0 "$name" > /dev/null 2>&1 || true
  podman rmi -f "$image" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
busybox=$(readlink -f "$(command -v busybox)")
file "$busybox" | grep -q 'static' || { echo "bench/collect.sh: $busybox is not busybox-static" >&2; exit 2; }

# The image: DIR at its own path plus /bin/busybox, one tar, one layer.
mkdir -p "$work/extra/bin"
cp "$busybox" "$work/extra/bin/busybox"
tar -cf - -C / "${dir#/}" -C "$work/extra" bin 2> /dev/null | podman import --quiet - "$image" > /dev/null
podman run -d --network none --name "$name" --runtime runc --ulimit nofile=1000:1000 \
  --ulimit nproc=1000:1000 "$image" /bin/busybox sleep 100000 > /dev/null
root=$(podman mount "$name")
entries=$(find "$root" -xdev | wc -l)
files=$(find "$root" -xdev -type f | wc -l)
bytes=$(du -sxb "$root" | cut -f1)
"$bin" keygen -o "$work/k" > /dev/null

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "date: $(date -u +%F), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "container: image of $dir, $entries entries, $files regular files, $((bytes / 1048576)) MiB"
# Warm the page cache so both sides read from memory.
find "$root" -xdev -type f -print0 | xargs -0 cat > /dev/null 2>&1 || true
for i in 1 2 3; do
  rm -f "$work/b.zip"
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin" collect --container "$name" --runtime podman \
    -o "$work/b.zip" --key "$work/k.key" --quiet
  cat "$work/t" >> "$work/collect.times"
  /usr/bin/time -f '%e %M' -o "$work/t" sh -c \
    "find '$root' -xdev -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256 > /dev/null 2>&1" || true
  cat "$work/t" >> "$work/peer.times"
done
c=$(cut -d' ' -f1 "$work/collect.times" | median)
p=$(cut -d' ' -f1 "$work/peer.times" | median)
rss=$(cut -d' ' -f2 "$work/collect.times" | sort -n | tail -1)
echo "collect: ${c}s (runs: $(cut -d' ' -f1 "$work/collect.times" | tr '\n' ' ')), peak RSS $((rss / 1024)) MiB, bundle $(($(stat -c %s "$work/b.zip") / 1048576)) MiB"
echo "find | xargs -P2 -n500 openssl dgst -sha256 over the container's root: ${p}s (runs: $(cut -d' ' -f1 "$work/peer.times" | tr '\n' ' '))"
awk -v c="$c" -v p="$p" 'BEGIN { printf "ratio collect / pipeline: %.2f (target <= 1.3)\n", c / p }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
