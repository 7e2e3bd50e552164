#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, seeded from the test vectors and samples,
# built optimised with debug assertions and overflow checks (`-O -a`: an overflow is a crash).
# Fails, naming the target, when
#   - `cargo fuzz list` names no target, or a target has no seed folders listed below;
#   - a seed folder is missing or empty (the samples live in ../../shared/samples, beside the repository);
#   - a target crashes (its input is left in artifacts/TARGET/), does not start, or exits non-zero;
#   - a target ran fewer than MIN_EXECUTIONS inputs (default 1000), as libFuzzer's final
#     `stat::number_of_executed_units` reports.
# Usage (from fuzz/): RUSTC_BOOTSTRAP=1 bash run.sh [SECONDS] [MIN_EXECUTIONS]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
min_execs=${2:-1000}
export RUSTC_BOOTSTRAP=1
flags=(-s none -O -a)

fail() {
  echo "fuzz: $*" >&2
  exit 1
}

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
    bolt) echo ../crates/bolt/tests/data ;;
    containerd_meta | snapshot_meta) echo ../crates/bolt/tests/data ;;
    docker_config) echo ../crates/nodedisk/tests/data/docker/containers ;;
    docker_layerdb) echo ../crates/nodedisk/tests/data/docker/image ;;
    podman_json) echo ../crates/nodedisk/tests/data/podman/overlay-containers ../crates/nodedisk/tests/data/podman/overlay-layers ../crates/nodedisk/tests/data/podman/overlay-images ;;
    podman_bolt) echo ../crates/nodedisk/tests/data/podman/libpod ../crates/bolt/tests/data ;;
    *) return 1 ;;
  esac
}

# The last lines of a target's output, when it failed.
show_log() {
  echo "---- last lines of fuzz target $1's output" >&2
  tail -n 40 "$log" >&2
}

cargo fuzz build "${flags[@]}"
targets=$(cargo fuzz list)
[ -n "$targets" ] || fail "cargo fuzz list names no target"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ran=0
for t in $targets; do
  dirs=$(seeds "$t") || fail "target $t has no seed folders: list them in seeds() in fuzz/run.sh"
  for d in $dirs; do
    [ -d "$d" ] || fail "seed folder $d of target $t is missing"
    [ -n "$(ls -A "$d")" ] || fail "seed folder $d of target $t is empty"
  done
  mkdir -p "corpus/$t" "artifacts/$t"
  [ -z "$(ls -A "artifacts/$t")" ] || fail "artifacts/$t/ already holds a crash from an earlier run: examine it, then remove it"
  echo "== fuzz $t (${secs}s, at least $min_execs executions)"
  status=0
  # shellcheck disable=SC2086 # $dirs: one word per seed folder
  cargo fuzz run "${flags[@]}" "$t" "corpus/$t" $dirs -- \
    -max_total_time="$secs" -artifact_prefix="artifacts/$t/" -print_final_stats=1 > "$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|Done|==[0-9]+==|SUMMARY|.*panicked)' "$log" || true
  if [ -n "$(ls -A "artifacts/$t")" ]; then
    show_log "$t"
    fail "target $t found a crash: see fuzz/artifacts/$t/"
  fi
  if [ "$status" != 0 ]; then
    show_log "$t"
    fail "target $t exited with status $status"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\) *$/\1/p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then
    show_log "$t"
    fail "target $t printed no final statistics (stat::number_of_executed_units): it did not run"
  fi
  if [ "$execs" -lt "$min_execs" ]; then
    show_log "$t"
    fail "target $t ran $execs inputs in ${secs}s, fewer than the $min_execs required"
  fi
  ran=$((ran + 1))
done
echo "fuzz: $ran targets, each ran at least $min_execs inputs in ${secs}s, no crash"
