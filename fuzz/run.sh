#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, seeded from the test vectors and samples;
# a crash fails the run and leaves its input in artifacts/TARGET/.
# Usage (from fuzz/): RUSTC_BOOTSTRAP=1 bash run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
export RUSTC_BOOTSTRAP=1
seeds() {
  case "$1" in
    verify | manifest | custody) echo ../format-spec/vectors ;;
    proc_net) echo ../../shared/samples/proc-net ;;
    mountinfo) echo ../../shared/samples/mountinfo ;;
    proc_process) echo ../crates/proc/tests/fixtures/proc-pid ;;
    inspect) echo ../crates/proc/tests/fixtures ../../shared/samples/crictl-inspect ;;
    audit) echo ../../shared/samples/k8s-audit ;;
    image_archive) echo seeds/image_archive ;;
    image_oci) echo seeds/image_oci ;;
  esac
}
cargo fuzz build -s none -O
for t in $(cargo fuzz list); do
  mkdir -p "corpus/$t" "artifacts/$t"
  existing=()
  for d in $(seeds "$t"); do [ -d "$d" ] && existing+=("$d"); done
  echo "== fuzz $t (${secs}s)"
  cargo fuzz run -s none -O "$t" "corpus/$t" "${existing[@]}" -- \
    -max_total_time="$secs" -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|Done|==[0-9]+==|SUMMARY|.*panicked)' || true
  if [ -n "$(ls -A "artifacts/$t")" ]; then
    echo "fuzz target $t found a crash: see fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
