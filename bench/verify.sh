#!/usr/bin/env bash
# Benchmark for `forensic verify` (issue: bundle format v1). Not a test: it prints figures to record
# in README.md. Measures, on this machine:
#   1. peak RSS of verifying a bundle with one 2 GiB member (target: < 64 MiB);
#   2. hashing speed of verify against `openssl dgst -sha256` over the same bytes (target: >= 90 %);
#   3. CPU use when a bundle has many members (both cores: CPU% well above 100 %).
# Usage: bash bench/verify.sh [SIZE_MIB]   (default 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
cargo build --release --quiet -p forensic
bin=$PWD/target/release/forensic
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "forensic $($bin --version | cut -d' ' -f2), $(openssl version | cut -d' ' -f1-2)"

mkdir -p "$work/one/files"
head -c "${size_mib}M" /dev/urandom > "$work/one/files/big.bin"   # incompressible: stored
"$bin" keygen -o "$work/k" > /dev/null
"$bin" seal "$work/one" -o "$work/one.zip" --key "$work/k.key" --section filesystem='*' --quiet > /dev/null
cat "$work/one.zip" "$work/one/files/big.bin" > /dev/null   # both in the page cache

for i in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin" verify --quiet "$work/one.zip" > /dev/null
  cat "$work/t" >> "$work/verify.times"
  /usr/bin/time -f '%e' -o "$work/t" openssl dgst -sha256 "$work/one/files/big.bin" > /dev/null
  cat "$work/t" >> "$work/openssl.times"
done
v=$(cut -d' ' -f1 "$work/verify.times" | median)
rss=$(cut -d' ' -f2 "$work/verify.times" | sort -n | tail -1)
o=$(median < "$work/openssl.times")
echo "one ${size_mib} MiB member: verify ${v}s, peak RSS $((rss / 1024)) MiB; openssl dgst -sha256 ${o}s"
awk -v v="$v" -v o="$o" -v s="$size_mib" 'BEGIN {
  printf "  verify hashes at %.0f MiB/s, openssl at %.0f MiB/s: ratio %.2f of one core\n", s / v, s / o, o / v }'

mkdir -p "$work/many/files"
for i in $(seq -w 1 64); do head -c 32M /dev/urandom > "$work/many/files/part$i.bin"; done
"$bin" seal "$work/many" -o "$work/many.zip" --key "$work/k.key" --section filesystem='*' --quiet > /dev/null
cat "$work/many.zip" > /dev/null
/usr/bin/time -f '%e %P %M' -o "$work/t" "$bin" verify --quiet "$work/many.zip" > /dev/null
read -r e p m < "$work/t"
echo "64 members x 32 MiB: verify ${e}s, CPU ${p} (200% = both cores busy), peak RSS $((m / 1024)) MiB"
