#!/usr/bin/env bash
# Scaling benchmark (issue 16): time and peak RSS of collect / verify / ls / diff --image-from-bundle /
# show summary / show files / timeline --all / report against the number of files in the container, side by
# side with the peer that only hashes, `find ROOT -xdev -type f -print0 | xargs -0 -P2 -n500 openssl
# dgst -sha256`, over the same container root in the same run. Not a test: writes
# docs/bench/scale.csv and docs/bench/scale.svg (bench/plot_scale.py) and prints the figures for
# README.md's "Performance" section.
#
# Containers: podman (runc), in a podman store of their own under the work directory (other podman
# users on the machine are not touched), each from an image imported from a tar made here: busybox
# plus /data/DDDD/FFF, N small files of distinct content (1,000 a directory), or plus a copy of
# /usr/lib ("usrlib"). In the running container the script then changes three files, so that
# diff and timeline have something to find.
#
# Usage: bash bench/scale.sh [CASE…]   CASE: a file count (10000, 100000, 1000000) or usrlib;
#        default: 10000 100000 usrlib. SCALE_APPEND=1 keeps the rows of an earlier run. Needs root, podman, runc, busybox-static, openssl.
#        The release build of `forensic` is taken from $CARGO_TARGET_DIR (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(10000 100000 usrlib)
target=${CARGO_TARGET_DIR:-$repo/target}
cargo build --release --quiet -p forensic
bin=$target/release/forensic
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-scale.XXXXXX")
mkdir -p "$work/run" "$work/tmp"
cat > "$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/root"
runroot = "$work/run"
EOF
cat > "$work/containers.conf" <<EOF
[engine]
tmp_dir = "$work/tmp"
events_logger = "file"
events_logfile_path = "$work/events.log"
EOF
export CONTAINERS_STORAGE_CONF=$work/storage.conf CONTAINERS_CONF=$work/containers.conf
RUN_FLAGS=(--runtime runc --ulimit nofile=1000:1000 --ulimit nproc=1000:1000)
cleanup() {
  podman rm -f -a -t 0 > /dev/null 2>&1 || true
  podman rmi -a -f > /dev/null 2>&1 || true
  umount -R "$work/root/overlay" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

csv=$repo/docs/bench/scale.csv
mkdir -p "$repo/docs/bench"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "machine: $machine"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# SCALE_APPEND=1 adds rows to the CSV of an earlier run (a case run later, e.g. 1000000).
[ -n "${SCALE_APPEND:-}" ] && [ -s "$csv" ] || echo "case,files,index_entries,command,seconds,peak_rss_kib" > "$csv"

"$bin" keygen -o "$work/key" > /dev/null

# The busybox root every image starts from.
base=$work/base
mkdir -p "$base/bin" "$base/etc" "$base/tmp" "$base/root"
cp /bin/busybox "$base/bin/busybox"
for a in sh sleep echo touch cat ls; do ln -s busybox "$base/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$base/etc/passwd"
printf 'root:x:0:\n' > "$base/etc/group"

# image_tar CASE: the image's root as a tar on stdout.
image_tar() {
  case $1 in
    usrlib) tar -C "$base" -cf - . -C / ./usr/lib 2> /dev/null || true ;;
    *)
      rm -rf "$work/data"
      python3 - "$work/data" "$1" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "data", "%04d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d)
    with open(os.path.join(d, "%03d" % (i % 1000)), "w") as f:
        f.write("file %d\n" % i)
EOF
      tar -C "$base" -cf - . -C "$work/data" ./data
      ;;
  esac
}

# measure CASE FILES ENTRIES NAME COMMAND…: runs once, appends a CSV row, prints a line.
measure() {
  local c=$1 files=$2 entries=$3 name=$4; shift 4
  local code=0
  /usr/bin/time -f '%e %M' -o "$work/t" "$@" > "$work/out" 2> "$work/err" || code=$?
  # diff exits 3 when it finds differences (it does: the script changed files).
  if [ "$code" -ne 0 ] && ! { [ "$name" = diff ] && [ "$code" -eq 3 ]; }; then
    echo "$name failed (exit $code):" >&2
    tail -5 "$work/err" >&2
    exit 1
  fi
  read -r secs rss < <(tail -1 "$work/t")
  echo "$c,$files,$entries,$name,$secs,$rss" >> "$csv"
  printf '  %-14s %8.2f s  %8.1f MiB\n' "$name" "$secs" "$(echo "$rss / 1024" | bc -l)"
}

for c in "${cases[@]}"; do
  image=localhost/forensic-scale:$c
  name=scale-$c
  echo "case $c: building the image"
  image_tar "$c" | podman import --quiet - "$image" > /dev/null
  rm -rf "$work/data"
  podman run -d --network none --name "$name" "${RUN_FLAGS[@]}" "$image" /bin/sleep 100000 > /dev/null
  if [ "$c" = usrlib ]; then
    podman exec "$name" /bin/sh -c 'echo changed > /etc/motd; echo x >> /etc/passwd; touch /tmp/new'
  else
    podman exec "$name" /bin/sh -c 'echo changed > /data/0000/000; echo x >> /etc/passwd; touch /tmp/new'
  fi
  root=$(podman mount "$name")
  files=$(find "$root" -xdev -type f | wc -l)
  # Page cache warm for both sides.
  find "$root" -xdev -type f -print0 | xargs -0 -P2 -n500 cat > /dev/null
  echo "case $c: $files regular files in the container's root"
  measure "$c" "$files" "" peer sh -c "find '$root' -xdev -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256 > /dev/null"
  bundle=$work/$c.zip
  measure "$c" "$files" "" collect "$bin" collect --container "$name" --runtime podman -o "$bundle" --key "$work/key.key" --quiet
  entries=$("$bin" show "$bundle" files --path /nonexistent | tail -1 | awk '{print $3}')
  sed -i "s/^$c,$files,,/$c,$files,$entries,/" "$csv"
  echo "  bundle: $(($(stat -c %s "$bundle") / 1048576)) MiB, $entries index entries"
  measure "$c" "$files" "$entries" verify "$bin" verify "$bundle" --quiet
  measure "$c" "$files" "$entries" ls "$bin" ls "$bundle"
  measure "$c" "$files" "$entries" diff "$bin" diff "$bundle" --image-from-bundle
  measure "$c" "$files" "$entries" show-summary "$bin" show "$bundle" summary
  measure "$c" "$files" "$entries" show-files "$bin" show "$bundle" files
  measure "$c" "$files" "$entries" timeline "$bin" timeline "$bundle" --all
  measure "$c" "$files" "$entries" report "$bin" report "$bundle" -o "$work/$c.html"
  rm -f "$bundle"
  podman umount "$name" > /dev/null
  podman rm -f -t 0 "$name" > /dev/null
  podman rmi -f "$image" > /dev/null
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$repo/bench/plot_scale.py" "$csv" "$repo/docs/bench/scale.svg" "$machine, $(date -u +%Y-%m-%d)"
echo "wrote $csv and docs/bench/scale.svg"
