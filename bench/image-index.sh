#!/usr/bin/env bash
# Benchmark for reading an image into a file index (issue: forensic diff --image). Not a test:
# prints figures to record in README.md.
# Target: building the index of a ~500 MiB multi-layer image takes at most 1.5x the time of
# `gzip -dc` of its layers piped to `sha256sum` (decompress and hash the bytes once), peak RSS
# under 128 MiB.
# Usage: bash bench/image-index.sh [MIB]   (default 500: the uncompressed size of the image)
# Builds, in a temporary directory, an OCI layout with 4 gzip layers (random binaries of 4 KiB to
# 8 MiB, base64 text files, thousands of small files, whiteouts in the upper layers) and an
# oci-archive of it, then times both against the baseline, three runs each (median).
set -euo pipefail
cd "$(dirname "$0")/.."
total_mib=${1:-500}
layers=4
cargo build --release --quiet -p forensic-image --example image_index
bin=$PWD/target/release/examples/image_index
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-image-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

per_layer=$((total_mib / layers))
layout=$work/oci
mkdir -p "$layout/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
layer_descs=()
diff_ids=()
for i in $(seq 1 $layers); do
  root=$work/layer$i
  mkdir -p "$root/bin" "$root/share/doc" "$root/etc/conf.d"
  # Half random (incompressible) binaries of assorted sizes.
  left=$((per_layer * 1024 / 2))
  n=0
  sizes=(8192 4096 1024 256 64 16 4)
  while [ "$left" -gt 0 ]; do
    kib=${sizes[$((n % ${#sizes[@]}))]}
    [ "$kib" -gt "$left" ] && kib=$left
    head -c $((kib * 1024)) /dev/urandom > "$root/bin/prog-$i-$n"
    left=$((left - kib))
    n=$((n + 1))
  done
  # The other half text (compresses about 4:3), one big file cut into documents.
  head -c $((per_layer * 1024 * 1024 / 2 * 3 / 4)) /dev/urandom | base64 -w 76 > "$root/share/doc/all.txt"
  (cd "$root/share/doc" && split -b 64k -a 4 all.txt doc-$i- && rm all.txt)
  # Thousands of small config files.
  for j in $(seq 1 3000); do echo "key$j=value$j layer$i" > "$root/etc/conf.d/c$j.conf"; done
  # Upper layers delete a few lower files and make one directory opaque.
  if [ "$i" -gt 1 ]; then
    for j in 1 2 3; do : > "$root/etc/conf.d/.wh.c$j.conf"; done
    mkdir -p "$root/opaque" && : > "$root/opaque/.wh..wh..opq" && echo new > "$root/opaque/file"
  else
    mkdir -p "$root/opaque/old" && echo old > "$root/opaque/old/file"
  fi
  tar -C "$root" -cf "$work/layer$i.tar" .
  rm -rf "$root"
  diff_ids+=("\"sha256:$(sha256sum < "$work/layer$i.tar" | cut -d' ' -f1)\"")
  gzip -n -6 < "$work/layer$i.tar" > "$work/layer$i.tar.gz"
  rm "$work/layer$i.tar"
  d=$(sha256sum < "$work/layer$i.tar.gz" | cut -d' ' -f1)
  mv "$work/layer$i.tar.gz" "$layout/blobs/sha256/$d"
  layer_descs+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$(stat -c %s "$layout/blobs/sha256/$d")}")
done
join() { local IFS=,; echo "$*"; }
blob() { # stores stdin as a blob, prints "digest size"
  cat > "$work/blob"
  local d
  d=$(sha256sum < "$work/blob" | cut -d' ' -f1)
  mv "$work/blob" "$layout/blobs/sha256/$d"
  echo "$d $(stat -c %s "$layout/blobs/sha256/$d")"
}
read -r cd cs < <(printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' "$(join "${diff_ids[@]}")" | blob)
read -r md ms < <(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$cd" "$cs" "$(join "${layer_descs[@]}")" | blob)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$md" "$ms" > "$layout/index.json"
tar -C "$layout" -cf "$work/oci.tar" .
layer_files=()
for l in "${layer_descs[@]}"; do
  d=${l#*sha256:}
  layer_files+=("$layout/blobs/sha256/${d%%\"*}")
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "image: $layers gzip layers, $(du -cb "${layer_files[@]}" | tail -1 | cut -f1 | awk '{printf "%d", $1 / 1048576}') MiB stored, $(for f in "${layer_files[@]}"; do gzip -dc "$f"; done | wc -c | awk '{printf "%d", $1 / 1048576}') MiB uncompressed"
# Warm the page cache so every side reads from memory.
cat "$work/oci.tar" "${layer_files[@]}" > /dev/null
for i in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$work/t" sh -c "for f in ${layer_files[*]}; do gzip -dc \"\$f\"; done | sha256sum > /dev/null"
  cat "$work/t" >> "$work/base.times"
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin" "$layout" > "$work/dir.out"
  cat "$work/t" >> "$work/dir.times"
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin" "$work/oci.tar" > "$work/archive.out"
  cat "$work/t" >> "$work/archive.times"
done
cmp -s "$work/dir.out" <(sed 's/oci-archive/oci-layout/' "$work/archive.out") || echo "warning: layout and archive summaries differ"
b=$(cut -d' ' -f1 "$work/base.times" | median)
d=$(cut -d' ' -f1 "$work/dir.times" | median)
a=$(cut -d' ' -f1 "$work/archive.times" | median)
drss=$(cut -d' ' -f2 "$work/dir.times" | sort -n | tail -1)
arss=$(cut -d' ' -f2 "$work/archive.times" | sort -n | tail -1)
grep -E '^(entries|file bytes)' "$work/dir.out" | tr '\n' ' '
echo
echo "gzip -dc | sha256sum: ${b}s"
echo "index (OCI layout):   ${d}s, peak RSS $((drss / 1024)) MiB"
echo "index (oci-archive):  ${a}s, peak RSS $((arss / 1024)) MiB"
awk -v b="$b" -v d="$d" -v a="$a" 'BEGIN { printf "ratio to baseline: %.2fx (layout), %.2fx (archive); target <= 1.5x\n", d / b, a / b }'
