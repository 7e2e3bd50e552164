#!/usr/bin/env bash
# Benchmark for `forensic audit` (issue: audit). Not a test: prints figures to record in README.md.
# Generates a ~1 GiB JSON-lines audit log by replicating and mutating the events of
# shared/samples/k8s-audit/ (crates/audit/examples/gen_audit_log.rs: own auditIDs and times, pods,
# namespaces and users from small pools, two-stage exec requests, AKS-wrapped events, GKE records
# and text lines mixed in), then times queries over it from the page cache.
# Targets: streaming at >= 100 MB/s, peak RSS < 128 MiB.
# Usage: bash bench/audit.sh [SIZE_MIB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
cargo build --release --quiet -p forensic -p forensic-audit --example gen_audit_log
bin=$PWD/target/release/forensic
gen=$PWD/target/release/examples/gen_audit_log
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
"$gen" "$work/audit.log" "$size_mib" 2>&1
bytes=$(stat -c %s "$work/audit.log")
gzip -1 -c "$work/audit.log" > "$work/audit.log.gz"
cat "$work/audit.log" "$work/audit.log.gz" > /dev/null   # in the page cache

run() {   # name, then the arguments after the source
  local name=$1 src=$2; shift 2
  : > "$work/times"
  for i in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$work/t" "$bin" audit "$src" "$@" > "$work/out" 2> /dev/null
    cat "$work/t" >> "$work/times"
  done
  local secs rss
  secs=$(cut -d' ' -f1 "$work/times" | median)
  rss=$(cut -d' ' -f2 "$work/times" | sort -n | tail -1)
  awk -v n="$name" -v s="$secs" -v b="$bytes" -v r="$rss" -v m="$(grep -m1 '^matched' "$work/out" | sed 's/^matched *//')" \
    'BEGIN { printf "%-34s %6.2f s  %7.1f MB/s  peak RSS %5.1f MiB  (%s)\n", n, s, b / s / 1e6, r / 1024, m }'
}
echo "log: $((bytes / 1048576)) MiB, $(wc -l < "$work/audit.log") lines; gzip -1: $(( $(stat -c %s "$work/audit.log.gz") / 1048576 )) MiB"
run "timeline --pod web-42 -n shop" "$work/audit.log" timeline --pod web-42 -n shop
run "rbac" "$work/audit.log" rbac
run "exec --pod web-42" "$work/audit.log" exec --pod web-42
run "timeline --pod web-42 (gzip)" "$work/audit.log.gz" timeline --pod web-42 -n shop
echo "(MB/s is uncompressed log bytes per second, for the gzip line too)"
